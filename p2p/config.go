package p2p

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/inferd/inferd/keys"
)

// Defaults used when a Config field is zero.
const (
	// DefaultMaxPeers is the connection manager's high-water mark.
	DefaultMaxPeers = 64
	// DefaultMaxMessageSize bounds any one gossip message on the wire, for
	// every topic (the per-topic bound given to JoinTopic may be smaller).
	DefaultMaxMessageSize = 4 << 20
	// DefaultMaxBlockSize bounds one block in a block-sync response.
	DefaultMaxBlockSize = 8 << 20
	// DefaultMaxBlocksPerRequest bounds the count of one block-sync request.
	DefaultMaxBlocksPerRequest = 64
	// DefaultMaxResponseBytes bounds the sum of the blocks in one response.
	DefaultMaxResponseBytes = 64 << 20
	// DefaultRequestTimeout bounds one status or blocks request, both as a
	// client and as a server.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultPenaltyDuration is how long a penalised or graylisted peer is
	// refused (no dial, no accepted connection).
	DefaultPenaltyDuration = 10 * time.Minute
	// DefaultScoreCheckInterval is how often gossip scores are read and
	// peers below the graylist threshold are disconnected.
	DefaultScoreCheckInterval = time.Second
	// DefaultSubscriptionBuffer is how many messages a topic holds for a
	// slow reader before dropping new ones.
	DefaultSubscriptionBuffer = 256
)

// Config configures a Host. Zero values mean the default named on each field.
type Config struct {
	// ChainID namespaces every topic, protocol ID, the DHT and the
	// discovery namespace, so that two chains never exchange bytes.
	// Required; no '/' or white space.
	ChainID string
	// PrivKey is the node's ed25519 identity (its peer ID). Required.
	PrivKey keys.PrivKey
	// ListenAddrs are multiaddrs such as /ip4/0.0.0.0/tcp/26656 and
	// /ip4/0.0.0.0/udp/26656/quic-v1. Empty means no listening.
	ListenAddrs []string
	// BootstrapPeers are full multiaddrs with /p2p/<peer id>. The host dials
	// them in the background, with backoff, and again whenever they drop.
	BootstrapPeers []string
	// MDNS turns on local-network discovery (for devnets). Off by default.
	MDNS bool
	// DHT turns on the Kademlia DHT (server mode) and discovery through it
	// on the chain's namespace. Off when false: set it for real nodes.
	DHT bool
	// MaxPeers is the connection manager's high-water mark; it trims down
	// to 4/5 of it. Default DefaultMaxPeers.
	MaxPeers int

	// MaxMessageSize: default DefaultMaxMessageSize.
	MaxMessageSize int
	// MaxBlockSize: default DefaultMaxBlockSize.
	MaxBlockSize int
	// MaxBlocksPerRequest: default DefaultMaxBlocksPerRequest.
	MaxBlocksPerRequest int
	// MaxResponseBytes: default DefaultMaxResponseBytes.
	MaxResponseBytes int
	// RequestTimeout: default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// PenaltyDuration: default DefaultPenaltyDuration.
	PenaltyDuration time.Duration
	// ScoreCheckInterval: default DefaultScoreCheckInterval.
	ScoreCheckInterval time.Duration
	// SubscriptionBuffer: default DefaultSubscriptionBuffer.
	SubscriptionBuffer int
	// Logger receives the host's logs; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig is a configuration for a real node of chainID: DHT on, mDNS
// off, no listen addresses or bootstrap peers.
func DefaultConfig(chainID string, priv keys.PrivKey) Config {
	return Config{ChainID: chainID, PrivKey: priv, DHT: true, MaxPeers: DefaultMaxPeers}
}

// parsed is a validated Config with defaults filled in.
type parsed struct {
	Config
	priv      crypto.PrivKey
	listen    []ma.Multiaddr
	bootstrap []peer.AddrInfo
}

func (c Config) parse() (*parsed, error) {
	p := &parsed{Config: c}
	if c.ChainID == "" {
		return nil, errors.New("p2p: chain id is empty")
	}
	if strings.ContainsAny(c.ChainID, "/ \t\r\n") {
		return nil, fmt.Errorf("p2p: chain id %q must not contain '/' or white space", c.ChainID)
	}
	if len(c.PrivKey) == 0 {
		return nil, errors.New("p2p: no private key")
	}
	priv, err := crypto.UnmarshalEd25519PrivateKey(c.PrivKey)
	if err != nil {
		return nil, fmt.Errorf("p2p: private key: %v", err)
	}
	p.priv = priv
	self, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("p2p: peer id: %v", err)
	}
	for _, s := range c.ListenAddrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("p2p: listen address %q: %v (want e.g. /ip4/0.0.0.0/tcp/26656 or /ip4/0.0.0.0/udp/26656/quic-v1)", s, err)
		}
		p.listen = append(p.listen, a)
	}
	seen := map[peer.ID]int{}
	for _, s := range c.BootstrapPeers {
		ai, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, fmt.Errorf("p2p: bootstrap peer %q: %v (want e.g. /ip4/10.0.0.1/tcp/26656/p2p/12D3KooW...)", s, err)
		}
		if ai.ID == self {
			continue // a shared peer list may name this node itself
		}
		if i, ok := seen[ai.ID]; ok {
			p.bootstrap[i].Addrs = append(p.bootstrap[i].Addrs, ai.Addrs...)
			continue
		}
		seen[ai.ID] = len(p.bootstrap)
		p.bootstrap = append(p.bootstrap, *ai)
	}
	if c.MaxPeers < 0 {
		return nil, fmt.Errorf("p2p: max peers %d is negative", c.MaxPeers)
	}
	setDefault(&p.MaxPeers, DefaultMaxPeers)
	setDefault(&p.MaxMessageSize, DefaultMaxMessageSize)
	setDefault(&p.MaxBlockSize, DefaultMaxBlockSize)
	setDefault(&p.MaxBlocksPerRequest, DefaultMaxBlocksPerRequest)
	setDefault(&p.MaxResponseBytes, DefaultMaxResponseBytes)
	setDefault(&p.RequestTimeout, DefaultRequestTimeout)
	setDefault(&p.PenaltyDuration, DefaultPenaltyDuration)
	setDefault(&p.ScoreCheckInterval, DefaultScoreCheckInterval)
	setDefault(&p.SubscriptionBuffer, DefaultSubscriptionBuffer)
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.MaxBlockSize > p.MaxResponseBytes {
		return nil, fmt.Errorf("p2p: max block size %d exceeds max response bytes %d", p.MaxBlockSize, p.MaxResponseBytes)
	}
	return p, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
