package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node/api"
)

func init() { register(newFetchCmd) }

type fetchArgs struct {
	contentArgs
	out     string
	peers   []string
	timeout time.Duration
	noPin   bool
	bitswap bool
}

func newFetchCmd() *cobra.Command {
	a := &fetchArgs{}
	c := &cobra.Command{
		Use:   "fetch CID (--node URL | --peer MULTIADDR) [-o PATH] [--timeout 10m]",
		Short: "Fetch a file by CID from peers into a content store",
		Long: `Fetch gets the DAG of CID, checking every block against its CID, and pins
the root. From peers that run inferd it comes by the DAG stream protocol (the
DAG in order over one stream, split across the peers that hold it); what they
cannot send comes over bitswap, as from IPFS peers (--bitswap-only: bitswap
alone). Blocks already held are not fetched again, so running it
again after a failure resumes. With -o the file is then written to PATH
atomically (no partial file is ever left there).

With --node URL the running node fetches it into its own store, from its
connected peers and from the providers its DHT finds, several at once; -o then
downloads the file from the node's gateway. Without --node, a temporary libp2p
host connects to each --peer (a full multiaddr ending in /p2p/<id>, e.g. a
node's address) and fetches into <home>/data/content, which no running node
may hold.

On a terminal a progress bar shows bytes, rate and ETA on stderr; otherwise a
line every 10% or 5 s.`,
		Args: exactArgs("CID"),
		RunE: func(c *cobra.Command, args []string) error { return runFetch(c, a, args[0]) },
	}
	addContentFlags(c, &a.contentArgs)
	f := c.Flags()
	f.StringVarP(&a.out, "output", "o", "", "write the file to this path")
	f.StringArrayVar(&a.peers, "peer", nil, "peer to fetch from, without --node (repeatable)")
	f.DurationVar(&a.timeout, "timeout", 10*time.Minute, "give up after this long")
	f.BoolVar(&a.noPin, "no-pin", false, "do not pin the root (gc may remove it)")
	f.BoolVar(&a.bitswap, "bitswap-only", false, "fetch by bitswap alone, without the DAG stream protocol (without --node)")
	return c
}

func runFetch(c *cobra.Command, a *fetchArgs, arg string) error {
	id, err := content.ParseCID(arg)
	if err != nil {
		return usageError{err}
	}
	if a.timeout <= 0 {
		return usagef("--timeout %v: want a positive duration such as 10m", a.timeout)
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	if cl != nil {
		if a.bitswap {
			return usagef("--bitswap-only is for fetching without a node (drop --node, give --peer)")
		}
		if len(a.peers) > 0 {
			return usagef("--peer is for fetching without a node: with --node, the node finds peers itself (connect them to it, or drop --node)")
		}
		return fetchThroughNode(c.Context(), cl, id, a)
	}
	if len(a.peers) == 0 {
		return usagef("give --node URL of a running node, or at least one --peer MULTIADDR to fetch from")
	}
	var infos []peer.AddrInfo
	for _, p := range a.peers {
		ai, err := peer.AddrInfoFromString(p)
		if err != nil {
			return usagef("--peer %q: %v (want e.g. /ip4/10.0.0.1/tcp/26656/p2p/12D3KooW...)", p, err)
		}
		infos = append(infos, *ai)
	}
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.DisableRelay())
	if err != nil {
		return err
	}
	defer h.Close()
	ctx, cancel := context.WithCancel(c.Context())
	defer cancel()
	ex := content.NewExchange(ctx, h, s, content.ExchangeOptions{})
	defer ex.Close()
	connected := 0
	for _, ai := range infos {
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		err := h.Connect(cctx, ai)
		ccancel()
		if err != nil {
			fmt.Fprintf(stderr, "cannot connect to %s: %v\n", ai.ID, err)
			continue
		}
		connected++
	}
	if connected == 0 {
		return fmt.Errorf("fetch %s: could not connect to any --peer (check the addresses, and that the peers run)", id)
	}
	p := newProgress("fetch", 0)
	res, err := ex.Get(ctx, id, a.out, content.FetchOptions{Timeout: a.timeout, NoPin: a.noPin, BitswapOnly: a.bitswap, Progress: p.Set})
	p.Finish(err == nil)
	if err != nil {
		fmt.Fprintf(stderr, "%d blocks received, %d already held before this fetch are kept: run the same command again to resume\n", res.Received, res.Held)
		return err
	}
	fmt.Fprintf(stderr, "fetched %s: %s; %d blocks received, %d already held; %d received by DAG stream; first byte after %s\n",
		id, p.summary(res.Size), res.Received, res.Held, res.Streamed, res.FirstByte.Round(time.Millisecond))
	printFetched(a.out, id)
	return nil
}

func printFetched(out string, id cid.Cid) {
	if out != "" {
		fmt.Fprintln(stdout, out)
	} else {
		fmt.Fprintln(stdout, id)
	}
}

// fetchThroughNode asks the node to fetch, then downloads the file from
// its gateway into -o, atomically.
func fetchThroughNode(ctx context.Context, cl *api.Client, id cid.Cid, a *fetchArgs) error {
	var tmp *os.File
	if a.out != "" {
		// Check that -o can be written before the node fetches anything.
		var err error
		tmp, err = os.CreateTemp(filepath.Dir(a.out), "."+filepath.Base(a.out)+".part-*")
		if err != nil {
			return fmt.Errorf("fetch %s: cannot write the output beside %s: %v (choose a writable -o path)", id, a.out, err)
		}
		defer func() {
			if tmp != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
	}
	p := newProgress("fetch", 0)
	res, err := cl.ContentFetch(ctx, id.String(), a.timeout, a.noPin, p.Set)
	p.Finish(err == nil)
	if err != nil {
		return fmt.Errorf("the node at %s: %w", cl.URL(), err)
	}
	fmt.Fprintf(stderr, "node fetched %s: %s; %d blocks received, %d already held; first byte after %s\n",
		id, p.summary(res.Bytes), res.Received, res.Held, time.Duration(res.FirstByteMS)*time.Millisecond)
	if tmp == nil {
		printFetched("", id)
		return nil
	}
	body, size, err := cl.ContentGet(ctx, id.String())
	if err != nil {
		return fmt.Errorf("download %s from the node at %s: %w", id, cl.URL(), err)
	}
	defer body.Close()
	dp := newProgress("download", max(size, res.Bytes))
	n, err := io.Copy(tmp, &progressReader{r: body, p: dp})
	dp.Finish(err == nil)
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("got %d of %d bytes", n, size)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), a.out)
	}
	if err != nil {
		return fmt.Errorf("download %s to %s: %v (the node holds the file: run the same command again)", id, a.out, err)
	}
	tmp = nil
	printFetched(a.out, id)
	return nil
}
