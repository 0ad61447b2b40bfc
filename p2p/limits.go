package p2p

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	ma "github.com/multiformats/go-multiaddr"
)

// Resource manager limits. go-libp2p's default scaling table is evaluated
// for a fixed budget (limitMemory, limitFDs) so that the limits do not depend
// on the machine, and then the scopes below are overridden explicitly.
// docs/p2p.md lists them.
const (
	limitMemory = 1 << 30 // bytes the default table is scaled to
	limitFDs    = 1024    // file descriptors the default table is scaled to
)

var (
	// systemLimits bounds the whole host.
	systemLimits = rcmgr.ResourceLimits{
		Conns: 512, ConnsInbound: 256, ConnsOutbound: 256,
		Streams: 8192, StreamsInbound: 4096, StreamsOutbound: 4096,
		FD: 512, Memory: 1 << 30,
	}
	// transientLimits bounds connections and streams not yet attached to a
	// peer or protocol (handshakes, protocol negotiation).
	transientLimits = rcmgr.ResourceLimits{
		Conns: 128, ConnsInbound: 64, ConnsOutbound: 64,
		Streams: 512, StreamsInbound: 256, StreamsOutbound: 256,
		FD: 128, Memory: 64 << 20,
	}
	// peerLimits bounds each remote peer.
	peerLimits = rcmgr.ResourceLimits{
		Conns: 8, ConnsInbound: 4, ConnsOutbound: 4,
		Streams: 512, StreamsInbound: 256, StreamsOutbound: 256,
		Memory: 96 << 20,
	}
	// syncPeerLimits bounds the block-sync protocols (status and blocks)
	// for each remote peer: a peer cannot run more than a few requests
	// against us at once.
	syncPeerLimits = rcmgr.ResourceLimits{
		Streams: 8, StreamsInbound: 4, StreamsOutbound: 4,
		Memory: 80 << 20,
	}
	// syncLimits bounds each block-sync protocol over all peers.
	syncLimits = rcmgr.ResourceLimits{
		Streams: 256, StreamsInbound: 64, StreamsOutbound: 192,
		Memory: 256 << 20,
	}
)

// resourceLimits returns the concrete limits of a host on chainID.
func resourceLimits(chainID string) rcmgr.ConcreteLimitConfig {
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	defaults := scaling.Scale(limitMemory, limitFDs)
	partial := rcmgr.PartialLimitConfig{
		System:    systemLimits,
		Transient: transientLimits,
		// Allowlisted scopes are unused (no allowlist); keep them equal.
		AllowlistedSystem:    systemLimits,
		AllowlistedTransient: transientLimits,
		PeerDefault:          peerLimits,
		Protocol: map[protocol.ID]rcmgr.ResourceLimits{
			statusProtocol(chainID): syncLimits,
			blocksProtocol(chainID): syncLimits,
		},
		ProtocolPeer: map[protocol.ID]rcmgr.ResourceLimits{
			statusProtocol(chainID): syncPeerLimits,
			blocksProtocol(chainID): syncPeerLimits,
		},
	}
	return partial.Build(defaults)
}

// gater refuses peers that were penalised, until their penalty ends. It is
// the host's connection gater: go-libp2p calls it from many goroutines.
type gater struct {
	now func() time.Time

	mu     sync.Mutex
	banned map[peer.ID]time.Time // until when
}

func newGater(now func() time.Time) *gater {
	return &gater{now: now, banned: make(map[peer.ID]time.Time)}
}

// ban refuses p for d (extending an existing ban, never shortening it).
func (g *gater) ban(p peer.ID, d time.Duration) {
	until := g.now().Add(d)
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.banned[p]) {
		g.banned[p] = until
	}
}

// bannedUntil returns when p's ban ends, or the zero time if p is not banned.
func (g *gater) bannedUntil(p peer.ID) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.banned[p]
	if !ok {
		return time.Time{}
	}
	if !g.now().Before(until) {
		delete(g.banned, p)
		return time.Time{}
	}
	return until
}

func (g *gater) isBanned(p peer.ID) bool { return !g.bannedUntil(p).IsZero() }

// InterceptPeerDial implements connmgr.ConnectionGater.
func (g *gater) InterceptPeerDial(p peer.ID) bool { return !g.isBanned(p) }

// InterceptAddrDial implements connmgr.ConnectionGater.
func (g *gater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return !g.isBanned(p) }

// InterceptAccept implements connmgr.ConnectionGater: the peer is not known yet.
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured implements connmgr.ConnectionGater.
func (g *gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !g.isBanned(p)
}

// InterceptUpgraded implements connmgr.ConnectionGater.
func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
