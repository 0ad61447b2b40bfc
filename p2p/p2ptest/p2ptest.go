// Package p2ptest makes real libp2p hosts for tests: the node's transport
// stack (TCP, noise, yamux) on 127.0.0.1, closed when the test ends.
package p2ptest

import (
	"context"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// NewHost is a host listening on a free TCP port of 127.0.0.1 with the
// node's transports, no relay and no metrics.
func NewHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport), libp2p.Security(libp2ptls.ID, libp2ptls.New), libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport), libp2p.DisableRelay(), libp2p.DisableMetrics())
	if err != nil {
		t.Fatalf("p2ptest: new libp2p host: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// Connect dials b from a.
func Connect(t testing.TB, a, b host.Host) {
	t.Helper()
	if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatalf("p2ptest: connect %s to %s: %v", a.ID(), b.ID(), err)
	}
}

// Pair is two new hosts, a connected to b.
func Pair(t testing.TB) (a, b host.Host) {
	t.Helper()
	a, b = NewHost(t), NewHost(t)
	Connect(t, a, b)
	return a, b
}
