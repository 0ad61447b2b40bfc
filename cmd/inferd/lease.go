package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/p2p/forward"
)

func init() { register(newLeaseCmd) }

func newLeaseCmd() *cobra.Command {
	c := &cobra.Command{Use: "lease", Short: "Use an Inference Cloud service (a lease): forward to it (see docs/cloud.md)"}
	c.AddCommand(newLeaseForwardCmd())
	return c
}

type leaseForwardArgs struct {
	nodeArgs
	listen, from, home, backend, peerAddr string
}

func newLeaseForwardCmd() *cobra.Command {
	a := &leaseForwardArgs{}
	c := &cobra.Command{
		Use:   "forward ID --listen 127.0.0.1:PORT --from KEY [--peer MULTIADDR]",
		Short: "Serve a lease's container on a local port: plain HTTP in, over libp2p to the provider",
		Long: `forward listens on --listen and carries each connection over the lease
protocol to the provider that runs lease ID, which pipes it to the
container's port. The provider lets in only the lease's owner and the keys
it allows: --from signs each stream's handshake. Your node need not be the
provider: the forwarder dials the peer ID and addresses the provider
published on-chain, else asks your node's peers which one runs the lease
(or give the provider's node with --peer).`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return runLeaseForward(c.Context(), a, args[0]) },
	}
	addNodeFlags(c, &a.nodeArgs, false)
	f := c.Flags()
	f.StringVar(&a.listen, "listen", "127.0.0.1:8080", "local address to listen on")
	f.StringVar(&a.from, "from", "", "keyring key of the lease's owner or of a key it allows (required)")
	f.StringVar(&a.home, "home", "", "home directory with the keyring (default $"+envHome+", else $HOME/.inferd)")
	f.StringVar(&a.backend, "keyring-backend", "file", "keyring backend: file or test")
	f.StringVar(&a.peerAddr, "peer", "", "the provider node's multiaddr with /p2p/<id> (default: found among your node's peers)")
	return c
}

func runLeaseForward(ctx context.Context, a *leaseForwardArgs, arg string) error {
	id, err := parseJobID(arg)
	if err != nil {
		return err
	}
	if a.from == "" {
		return usagef("--from KEY is required: the lease owner's key or one the lease allows")
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	j, err := containerJob(ctx, cl, id)
	if err != nil {
		return err
	}
	if j.Kind != compute.KindService {
		return usagef("job %d is a %s job, not a lease", id, j.Kind)
	}
	if j.Status != compute.JobRunning {
		return fmt.Errorf("lease %d is %s, not running; see 'inferd query job %d'", id, j.Status, id)
	}
	home, err := keysHome(a.home)
	if err != nil {
		return err
	}
	priv, who, err := loadSigner(home, a.backend, a.from)
	if err != nil {
		return err
	}
	if who != j.User && !containsAddr(j.Lease.Allowed, who) {
		fmt.Fprintf(stderr, "warning: %s is neither the owner of lease %d (%s) nor a key it allows; the provider will refuse it\n", who, id, j.User)
	}
	st, err := cl.Status(ctx)
	if err != nil {
		return err
	}
	h, err := nodePeerHost(ctx, cl)
	if err != nil {
		return err
	}
	defer h.Close()
	fc := forward.NewClient(h, st.ChainID, priv)
	var prov peer.ID
	if a.peerAddr != "" {
		ai, err := peer.AddrInfoFromString(a.peerAddr)
		if err != nil {
			return usagef("--peer %q: %v (want e.g. /ip4/10.0.0.1/tcp/26656/p2p/12D3KooW...)", a.peerAddr, err)
		}
		if err := h.Connect(ctx, *ai); err != nil {
			return fmt.Errorf("connect to --peer %s: %w", ai.ID, err)
		}
		prov = ai.ID
	} else if prov, err = findProvider(ctx, cl, fc, id, j.Provider); err != nil {
		return fmt.Errorf("%w; give the provider's node with --peer MULTIADDR", err)
	}
	// One stream first: a refusal (wrong key, container gone) is an error
	// here, not a 502 on every request later.
	conn, err := fc.Dial(ctx, prov, id)
	if err != nil {
		return err
	}
	conn.Close()
	ln, err := net.Listen("tcp", a.listen)
	if err != nil {
		return usagef("--listen %s: %v", a.listen, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		fmt.Fprintf(stderr, "warning: %s is not a loopback address: anyone who reaches it uses the lease as %s\n", ln.Addr(), who)
	}
	fmt.Fprintf(stdout, "forwarding http://%s to lease %d on provider %s (node %s); Ctrl-C to stop\n", ln.Addr(), id, j.Provider, prov)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return fc.Serve(ctx, ln, prov, id, log)
}

func containsAddr(list []keys.Address, a keys.Address) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// newTxLeaseCmd: inferd tx lease close|allow.
func newTxLeaseCmd(a *txArgs) *cobra.Command {
	c := group("lease", "End or share your leases (services)")
	c.AddCommand(&cobra.Command{
		Use:   "close ID",
		Short: "End your lease now; the rest of its escrow is refunded",
		Args:  exactArgs("ID"),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			return a.send(c.Context(), ledger.NewMsg(compute.MsgTypeLeaseClose, compute.MsgLeaseClose{Lease: id}))
		},
	}, &cobra.Command{
		Use:   "allow ID [ADDR]...",
		Short: "Replace the keys (besides yours) that may connect to your lease; none: only you",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseJobID(args[0])
			if err != nil {
				return err
			}
			msg := compute.MsgLeaseAllow{Lease: id}
			for _, x := range args[1:] {
				ad, err := keys.ParseAddress(x)
				if err != nil {
					return usagef("%q: %v", x, err)
				}
				msg.Allowed = append(msg.Allowed, ad)
			}
			return a.send(c.Context(), ledger.NewMsg(compute.MsgTypeLeaseAllow, msg))
		},
	})
	return c
}
