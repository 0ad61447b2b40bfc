package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/p2p/forward"
)

// newJobSubmitCmd: inferd job submit FILE.
func newJobSubmitCmd() *cobra.Command {
	a := &txArgs{}
	var allow []string
	c := &cobra.Command{
		Use:   "submit FILE --from KEY [--allow ADDR]... [--dry-run]",
		Short: "Validate a job spec, encode it, sign and broadcast it (the price is escrowed)",
		Long: `submit checks the spec as 'inferd job validate' does, encodes it canonically
and submits it in a job/submit_container transaction. A batch job escrows
max_price; a service escrows price_per_block x duration_blocks. The ledger
assigns it to the cheapest provider whose resources fit; what is not
charged is refunded. --allow names keys (besides yours) that may connect
to a service. Find the job's id with 'inferd query jobs'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			data, err := readSpecFile(args[0])
			if err != nil {
				return err
			}
			s, err := jobspec.Parse(data)
			var es jobspec.Errors
			if errors.As(err, &es) {
				for _, e := range es {
					fmt.Fprintf(stderr, "%s: %s\n", args[0], e.Error())
				}
				return usagef("%s: %d problem(s) in the job spec; fix them (inferd job validate %s)", args[0], len(es), args[0])
			} else if err != nil {
				return err
			}
			enc, err := jobspec.Encode(s)
			if err != nil {
				return err
			}
			msg := compute.MsgJobSubmitContainer{Spec: enc}
			for _, x := range allow {
				ad, err := keys.ParseAddress(x)
				if err != nil {
					return usagef("--allow %q: %v", x, err)
				}
				msg.Allowed = append(msg.Allowed, ad)
			}
			if s.Kind == jobspec.KindBatch {
				if len(msg.Allowed) > 0 {
					return usagef("--allow is for services; a batch job accepts no connections")
				}
				a.spend = s.MaxPrice
			} else {
				if a.spend, err = ledger.MulDiv(s.Service.PricePerBlock, s.Service.DurationBlocks, 1); err != nil {
					return usagef("price_per_block x duration_blocks overflows")
				}
			}
			return a.send(c.Context(), ledger.NewMsg(compute.MsgTypeJobSubmitContainer, msg))
		},
	}
	addTxFlags(c, a)
	c.Flags().StringArrayVar(&allow, "allow", nil, "address that may connect to the service besides you (repeatable; services only)")
	return c
}

func parseJobID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, usagef("job %q: want a positive integer id", s)
	}
	return id, nil
}

// containerJob loads job id and checks it is a container job.
func containerJob(ctx context.Context, cl *api.Client, id uint64) (compute.Job, error) {
	r, err := cl.Job(ctx, id, api.Latest)
	if err != nil {
		return compute.Job{}, err
	}
	if r.Kind == compute.KindWasm {
		return r.Job, fmt.Errorf("job %d is a Wasm job; its result is %s (inferd cat CID)", id, jobResult(r.Job))
	}
	return r.Job, nil
}

// newJobGetCmd: inferd job get ID -o DIR.
func newJobGetCmd() *cobra.Command {
	a := &nodeArgs{}
	var out string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "get ID -o DIR",
		Short: "Fetch a finished container job's outputs (a directory, by CID) into DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				return usagef("-o DIR is required (a new directory)")
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			j, err := containerJob(c.Context(), cl, id)
			if err != nil {
				return err
			}
			if j.Outputs == "" {
				return fmt.Errorf("job %d has no outputs (status %s%s); see 'inferd job logs %d'", id, j.Status, failureNote(j), id)
			}
			if err := exportFromNode(c.Context(), cl, j.Outputs, out, timeout); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "job %d outputs %s in %s\n", id, j.Outputs, out)
			return nil
		},
	}
	addNodeFlags(c, a, false)
	c.Flags().StringVarP(&out, "output", "o", "", "directory to write (must not exist)")
	c.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long")
	return c
}

func failureNote(j compute.Job) string {
	if j.Failure != "" && j.Failure != compute.FailNone {
		return ", failure " + j.Failure
	}
	return ""
}

// newJobLogsCmd: inferd job logs ID.
func newJobLogsCmd() *cobra.Command {
	a := &nodeArgs{}
	var from, home, backend string
	c := &cobra.Command{
		Use:   "logs ID [--from KEY]",
		Short: "Print a container job's logs: followed live from the provider while it runs (--from: its owner), its logs CID after",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			j, err := containerJob(c.Context(), cl, id)
			if err != nil {
				return err
			}
			if j.Logs == "" {
				switch j.Status {
				case compute.JobAssigned, compute.JobRunning:
					if from == "" {
						return usagef("job %d is %s: give --from KEY (its owner's key) to follow its logs live from the provider", id, j.Status)
					}
					return followLogs(c.Context(), cl, id, home, backend, from)
				case compute.JobOpen:
					return fmt.Errorf("job %d is open: no provider runs it yet", id)
				}
				return fmt.Errorf("job %d (%s) has no logs", id, j.Status)
			}
			if _, err := cl.ContentFetch(c.Context(), j.Logs, 2*time.Minute, false, nil); err != nil {
				return fmt.Errorf("fetch logs %s: %w", j.Logs, err)
			}
			rd, _, err := cl.ContentGet(c.Context(), j.Logs)
			if err != nil {
				return err
			}
			defer rd.Close()
			_, err = io.Copy(stdout, rd)
			return err
		},
	}
	addNodeFlags(c, a, false)
	c.Flags().StringVar(&from, "from", "", "keyring key of the job's owner (to follow a running job's logs)")
	c.Flags().StringVar(&home, "home", "", "home directory with the keyring (default $"+envHome+", else $HOME/.inferd)")
	c.Flags().StringVar(&backend, "keyring-backend", "file", "keyring backend: file or test")
	return c
}

// followLogs streams a running job's output from its provider over the
// lease protocol (signed with the owner's key) until the job ends.
func followLogs(ctx context.Context, cl *api.Client, id uint64, home, backend, from string) error {
	h, err := keysHome(home)
	if err != nil {
		return err
	}
	priv, _, err := loadSigner(h, backend, from)
	if err != nil {
		return err
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	ph, err := nodePeerHost(ctx, cl)
	if err != nil {
		return err
	}
	defer ph.Close()
	fc := forward.NewClient(ph, st.ChainID, priv)
	prov, err := findProvider(ctx, cl, fc, id, keys.Address{})
	if err != nil {
		return err
	}
	rd, err := fc.Logs(ctx, prov, id)
	if err != nil {
		return err
	}
	defer rd.Close()
	if _, err := io.Copy(stdout, rd); err != nil && ctx.Err() == nil {
		return fmt.Errorf("logs of job %d: %w", id, err)
	}
	fmt.Fprintf(stderr, "job %d's output ended; once its result is on-chain, 'inferd job logs %d' prints the whole log by CID\n", id, id)
	return nil
}

// nodePeerHost starts a libp2p client host (no listening) connected to
// the node behind cl and to the peers it is connected to.
func nodePeerHost(ctx context.Context, cl *api.Client) (host.Host, error) {
	id, err := cl.NetID(ctx)
	if err != nil {
		return nil, fmt.Errorf("ask the node for its p2p addresses: %w", err)
	}
	h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.DisableRelay(), libp2p.DisableMetrics())
	if err != nil {
		return nil, err
	}
	var infos []peer.AddrInfo
	for _, a := range id.Addrs {
		if ai, err := peer.AddrInfoFromString(a); err == nil {
			infos = append(infos, *ai)
		}
	}
	if peers, err := cl.NetPeers(ctx); err == nil {
		for _, p := range peers.Peers {
			addrs := p.ListenAddrs
			if p.Direction == "outbound" {
				addrs = append(addrs, p.Addr)
			}
			for _, a := range addrs {
				if ai, err := peer.AddrInfoFromString(a + "/p2p/" + p.ID); err == nil {
					infos = append(infos, *ai)
				}
			}
		}
	}
	connected := make(chan bool, len(infos))
	for _, ai := range infos {
		go func() {
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			connected <- h.Connect(c, ai) == nil
		}()
	}
	n := 0
	for range infos {
		if <-connected {
			n++
		}
	}
	if n == 0 {
		h.Close()
		return nil, fmt.Errorf("could not connect to the node's p2p addresses %v (is it reachable from here?)", id.Addrs)
	}
	return h, nil
}

// exportFromNode has the node fetch c (from whoever has it), then copies
// it over bitswap into a scratch store and writes it to out.
func exportFromNode(ctx context.Context, cl *api.Client, c, out string, timeout time.Duration) error {
	id, err := content.ParseCID(c)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(out); err == nil {
		return usagef("-o %s exists; give a new directory", out)
	}
	if _, err := cl.ContentFetch(ctx, c, timeout, false, nil); err != nil {
		return fmt.Errorf("the node could not fetch %s: %w", c, err)
	}
	h, err := nodePeerHost(ctx, cl)
	if err != nil {
		return err
	}
	defer h.Close()
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(out)), ".inferd-get-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	s, err := content.Open(tmp)
	if err != nil {
		return err
	}
	defer s.Close()
	ex := content.NewExchange(ctx, h, s, content.ExchangeOptions{})
	defer ex.Close()
	if err := ex.Fetch(ctx, id, "", content.FetchOptions{Timeout: timeout}); err != nil {
		return err
	}
	return s.Export(ctx, id, out)
}
