package main

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/inferd/inferd/content"
)

func init() { register(newFetchCmd) }

type fetchArgs struct {
	contentArgs
	out     string
	peers   []string
	timeout time.Duration
}

func newFetchCmd() *cobra.Command {
	a := &fetchArgs{}
	c := &cobra.Command{
		Use:   "fetch CID --peer MULTIADDR [-o PATH] [--timeout 10m] [--home DIR]",
		Short: "Fetch a file by CID from peers over bitswap into the local content store",
		Long: `Fetch starts a temporary libp2p host, connects to each --peer (a full multiaddr
ending in /p2p/<id>, e.g. a node's address), and fetches the DAG of CID with
bitswap into <home>/data/content, checking every block against its CID and
pinning the root. Blocks already held are not fetched again, so running it
again after a failure resumes. With -o the file is then written to PATH
atomically (no partial file is ever left there). Progress goes to stderr.
Fetching through a running node's own host (--node) is not implemented yet.`,
		Args: exactArgs("CID"),
		RunE: func(c *cobra.Command, args []string) error { return runFetch(c, a, args[0]) },
	}
	addContentFlags(c, &a.contentArgs)
	f := c.Flags()
	f.StringVarP(&a.out, "output", "o", "", "write the file to this path")
	f.StringArrayVar(&a.peers, "peer", nil, "peer to fetch from (repeatable)")
	f.DurationVar(&a.timeout, "timeout", 10*time.Minute, "give up after this long")
	return c
}

func runFetch(c *cobra.Command, a *fetchArgs, arg string) error {
	id, err := content.ParseCID(arg)
	if err != nil {
		return usageError{err}
	}
	if len(a.peers) == 0 {
		return usagef("give at least one --peer MULTIADDR to fetch from")
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
		return fmt.Errorf("fetch %s: could not connect to any --peer", id)
	}
	start := time.Now()
	var lastPrint time.Time
	err = ex.Fetch(ctx, id, a.out, content.FetchOptions{Timeout: a.timeout, Progress: func(done, total int64) {
		if now := time.Now(); now.Sub(lastPrint) >= 2*time.Second {
			lastPrint = now
			fmt.Fprintf(stderr, "%s / %s\n", mib(done), mib(total))
		}
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "fetched %s in %s\n", id, time.Since(start).Round(time.Millisecond))
	if a.out != "" {
		fmt.Fprintln(stdout, a.out)
	} else {
		fmt.Fprintln(stdout, id)
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
