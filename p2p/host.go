package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// Bootstrap re-dial backoff: the first attempt is immediate, failures double
// the wait from bootstrapMinBackoff up to bootstrapMaxBackoff.
const (
	bootstrapMinBackoff = 500 * time.Millisecond
	bootstrapMaxBackoff = 3 * time.Second // few peers: cheap to retry, and a healed partition reconnects fast
	dialTimeout         = 10 * time.Second
	// connGracePeriod protects new connections from the connection
	// manager's trimming.
	connGracePeriod = 20 * time.Second
	// outboundQueueSize is the number of RPCs queued for each peer.
	outboundQueueSize = 1024
	// validateQueueSize is the number of inbound messages waiting for
	// validation, over all peers.
	validateQueueSize = 1024
	// protectBootstrap is the connection manager tag of bootstrap peers.
	protectBootstrap = "inferd-bootstrap"
)

// Host is a libp2p host on one chain: transports, gossip, discovery and
// block sync. Its methods are safe for concurrent use.
type Host struct {
	cfg    *parsed
	log    *slog.Logger
	host   host.Host
	ps     *pubsub.PubSub
	dht    *dht.IpfsDHT // nil when Config.DHT is false
	mdns   mdns.Service // nil when Config.MDNS is false
	gater  *gater
	cm     *connmgr.BasicConnMgr
	tracer *tracer
	scores scoreBook

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu     sync.Mutex
	topics map[string]*Topic // by wire topic ID
}

// New starts a host: it listens on cfg.ListenAddrs, starts gossipsub, the
// DHT and mDNS when configured, and begins dialing the bootstrap peers in
// the background (New does not wait for them). Close stops it; ctx only
// bounds New's own work.
func New(ctx context.Context, cfg Config) (*Host, error) {
	c, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := &Host{cfg: c, log: c.Logger, tracer: &tracer{}, topics: make(map[string]*Topic)}
	h.gater = newGater(time.Now)
	low := c.MaxPeers * 4 / 5
	if low < 1 {
		low = 1
	}
	h.cm, err = connmgr.NewConnManager(low, c.MaxPeers, connmgr.WithGracePeriod(connGracePeriod))
	if err != nil {
		return nil, fmt.Errorf("p2p: connection manager: %v", err)
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(resourceLimits(c.ChainID)))
	if err != nil {
		_ = h.cm.Close()
		return nil, fmt.Errorf("p2p: resource manager: %v", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(c.priv),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(libp2ptls.ID, libp2ptls.New), // preferred: AES-GCM (see docs/architecture.md)
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(h.cm),
		libp2p.ConnectionGater(h.gater),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.UserAgent("inferd"),
	}
	if len(c.listen) > 0 {
		opts = append(opts, libp2p.ListenAddrs(c.listen...))
	} else {
		opts = append(opts, libp2p.NoListenAddrs)
	}
	h.host, err = libp2p.New(opts...)
	if err != nil {
		_ = rm.Close()
		_ = h.cm.Close()
		return nil, fmt.Errorf("p2p: start host: %v", err)
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if err := h.start(); err != nil {
		_ = h.Close()
		return nil, err
	}
	return h, nil
}

func (h *Host) start() error {
	c := h.cfg
	var err error
	h.ps, err = pubsub.NewGossipSub(h.ctx, h.host,
		pubsub.WithPeerScore(peerScoreParams(h.appScore), &scoreThresholds),
		pubsub.WithPeerScoreInspect(pubsub.PeerScoreInspectFn(h.inspectScores), c.ScoreCheckInterval),
		pubsub.WithNoAuthor(), // unsigned, no author: content carries its own signatures
		pubsub.WithMessageIdFn(messageID),
		// Room for the RPC envelope around the largest message.
		pubsub.WithMaxMessageSize(c.MaxMessageSize+64<<10),
		pubsub.WithPeerExchange(true),
		// Own messages go to every topic peer above the publish
		// threshold, not only to the mesh: lower latency for votes, and
		// no loss before the first heartbeat builds the mesh.
		pubsub.WithFloodPublish(true),
		// Bursts (a block's worth of txs) must not overflow the queues:
		// pubsub drops what does not fit.
		pubsub.WithPeerOutboundQueueSize(outboundQueueSize),
		pubsub.WithValidateQueueSize(validateQueueSize),
		pubsub.WithRawTracer(h.tracer),
	)
	if err != nil {
		return fmt.Errorf("p2p: gossipsub: %v", err)
	}
	for _, ai := range c.bootstrap {
		h.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
		h.cm.Protect(ai.ID, protectBootstrap)
	}
	if c.DHT {
		h.dht, err = dht.New(h.host,
			dht.Mode(dht.ModeServer),
			dht.ProtocolPrefix(protocol.ID("/inferd/"+c.ChainID)),
			dht.DisableValues(),
			dht.BootstrapPeers(c.bootstrap...),
		)
		if err != nil {
			return fmt.Errorf("p2p: dht: %v", err)
		}
		h.wg.Add(1)
		go h.discoveryLoop()
	}
	if c.MDNS {
		h.mdns = mdns.NewMdnsService(h.host, "inferd-"+c.ChainID, mdnsNotifee{h})
		if err := h.mdns.Start(); err != nil {
			return fmt.Errorf("p2p: mdns: %v", err)
		}
	}
	if len(c.bootstrap) > 0 {
		sub, err := h.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(64))
		if err != nil {
			return fmt.Errorf("p2p: event bus: %v", err)
		}
		h.wg.Add(1)
		go h.bootstrapLoop(sub)
	}
	return nil
}

// Close stops the host: discovery, gossip, every connection and stream. It
// waits for the host's goroutines and is idempotent.
func (h *Host) Close() error {
	var err error
	h.once.Do(func() {
		h.cancel()
		if h.mdns != nil {
			err = errors.Join(err, h.mdns.Close())
		}
		if h.dht != nil {
			err = errors.Join(err, h.dht.Close())
		}
		err = errors.Join(err, h.host.Close())
		h.wg.Wait()
	})
	return err
}

// ID is this host's peer ID.
func (h *Host) ID() peer.ID { return h.host.ID() }

// Addrs are this host's listen addresses as full multiaddrs ending in
// /p2p/<id>, ready for another node's bootstrap_peers.
func (h *Host) Addrs() []ma.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.host.ID(), Addrs: h.host.Addrs()})
	if err != nil {
		return nil // cannot happen: the ID is valid
	}
	return addrs
}

// LibP2P exposes the underlying libp2p host, for protocols that run beside
// gossip and block sync on the same identity and connections (bitswap).
func (h *Host) LibP2P() host.Host { return h.host }

// Routing is the DHT for content routing, or nil when the DHT is off.
func (h *Host) Routing() routing.ContentDiscovery {
	if h.dht == nil {
		return nil
	}
	return h.dht
}

// Peers lists the peers with at least one open connection.
func (h *Host) Peers() []peer.ID { return h.host.Network().Peers() }

// Connect dials ai unless already connected. It fails at once for a peer
// banned by Penalize.
func (h *Host) Connect(ctx context.Context, ai peer.AddrInfo) error {
	if ai.ID == h.host.ID() {
		return errors.New("p2p: connect to self")
	}
	if h.gater.isBanned(ai.ID) {
		return fmt.Errorf("p2p: peer %s is banned", ai.ID)
	}
	if err := h.host.Connect(ctx, ai); err != nil {
		return fmt.Errorf("p2p: connect %s: %w", ai.ID, err)
	}
	return nil
}

// ConnectAddr dials a full multiaddr such as /ip4/127.0.0.1/tcp/26656/p2p/12D3KooW...
func (h *Host) ConnectAddr(ctx context.Context, addr string) error {
	ai, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return fmt.Errorf("p2p: peer address %q: %v (want e.g. /ip4/10.0.0.1/tcp/26656/p2p/12D3KooW...)", addr, err)
	}
	return h.Connect(ctx, *ai)
}

func (h *Host) connected(p peer.ID) bool {
	return h.host.Network().Connectedness(p) == network.Connected
}

// bootstrapLoop keeps the bootstrap peers connected: it dials each one
// that is not, at once when it drops and then with exponential backoff.
func (h *Host) bootstrapLoop(sub event.Subscription) {
	defer h.wg.Done()
	defer sub.Close()
	peers := h.cfg.bootstrap
	index := make(map[peer.ID]int, len(peers))
	for i, ai := range peers {
		index[ai.ID] = i
	}
	next := make([]time.Time, len(peers))
	backoff := make([]time.Duration, len(peers))
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case ev := <-sub.Out():
			e, ok := ev.(event.EvtPeerConnectednessChanged)
			i, known := index[e.Peer]
			if !ok || !known || e.Connectedness == network.Connected {
				continue
			}
			next[i] = time.Time{} // dropped: re-dial now, with the backoff it has
		case <-timer.C:
		}
		now := time.Now()
		wake := now.Add(bootstrapMaxBackoff)
		for i, ai := range peers {
			if h.connected(ai.ID) {
				backoff[i] = 0
				continue
			}
			if until := h.gater.bannedUntil(ai.ID); !until.IsZero() {
				next[i] = until
			}
			if now.Before(next[i]) {
				wake = earliest(wake, next[i])
				continue
			}
			ctx, cancel := context.WithTimeout(h.ctx, dialTimeout)
			// This loop has its own backoff; skip the swarm's (5 s and up
			// per failed address), which would delay the re-dial.
			ctx = network.WithForceDirectDial(ctx, "inferd bootstrap")
			err := h.host.Connect(ctx, ai)
			cancel()
			if err == nil {
				backoff[i] = 0
				continue
			}
			if h.ctx.Err() != nil {
				return
			}
			backoff[i] = min(max(2*backoff[i], bootstrapMinBackoff), bootstrapMaxBackoff)
			next[i] = time.Now().Add(backoff[i])
			wake = earliest(wake, next[i])
			h.log.Debug("p2p: bootstrap dial failed", "peer", ai.ID, "err", err, "retry_in", backoff[i])
		}
		timer.Reset(time.Until(wake))
	}
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// mdnsNotifee connects to peers found on the local network.
type mdnsNotifee struct{ h *Host }

// HandlePeerFound implements mdns.Notifee.
func (n mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	h := n.h
	if ai.ID == h.host.ID() || h.connected(ai.ID) || len(h.Peers()) >= h.cfg.MaxPeers {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ctx, cancel := context.WithTimeout(h.ctx, dialTimeout)
		defer cancel()
		if err := h.Connect(ctx, ai); err != nil {
			h.log.Debug("p2p: mdns dial failed", "peer", ai.ID, "err", err)
		}
	}()
}
