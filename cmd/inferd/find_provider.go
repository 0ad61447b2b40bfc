package main

import (
	"context"
	"log/slog"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/p2p/forward"
)

// findProvider returns the node that runs job (a lease, or a batch job's
// live logs): at the peer ID and addresses its provider published
// on-chain, else among the peers fc's host is connected to. provider may
// be zero: it is then read from the job.
func findProvider(ctx context.Context, cl *api.Client, fc *forward.Client, job uint64, provider keys.Address) (peer.ID, error) {
	if provider == (keys.Address{}) {
		if j, err := cl.Job(ctx, job, api.Latest); err == nil {
			provider = j.Provider
		}
	}
	var pub forward.Published
	if provider != (keys.Address{}) {
		// No provider record (an API error): Find asks the connected peers.
		if p, err := cl.Provider(ctx, provider, api.Latest); err == nil {
			pub = forward.Published{PeerID: p.Resources.PeerID, Addrs: p.Resources.Addrs}
		}
	}
	return fc.Find(ctx, pub, job, slog.Default())
}
