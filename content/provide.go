package content

import (
	"context"
	"time"

	"github.com/ipfs/boxo/provider"
	"github.com/ipfs/go-cid"
)

// DefaultReprovideInterval is how often every pinned root is announced
// again: Kubo's Reprovider.Interval (provider records expire after 48 h).
const DefaultReprovideInterval = provider.DefaultReproviderInterval // 22 h

// provideWorkers bounds the DHT provides in flight: each opens
// connections to about 20 peers, so a burst of new pins is drained from
// the queue at this many at a time, never all at once.
const provideWorkers = 4

// Router announces CIDs: the node's DHT (routing.ContentRouting).
type Router interface {
	Provide(ctx context.Context, c cid.Cid, announce bool) error
}

// Provider announces on the DHT the roots this store pins: once when a
// root is pinned (added, fetched or pinned), and all of them again every
// reprovide interval. Only roots are announced, never the blocks under
// them (Kubo's "roots" strategy): a peer that finds a root's provider
// fetches the rest of the DAG from it over bitswap. New roots go through a
// queue kept in the store's datastore (it survives restarts) and drained
// by a few workers, so that pinning many CIDs does not flood the DHT
// (go-libp2p-kad-dht issue 824). It is boxo's batched provider system.
type Provider struct {
	sys provider.System
}

// NewProvider starts announcing s's pinned roots through r, again every
// interval (0: DefaultReprovideInterval). Close stops it.
func NewProvider(s *Store, r Router, interval time.Duration) (*Provider, error) {
	if interval <= 0 {
		interval = DefaultReprovideInterval
	}
	// The queue and the last reprovide time live under /provider in the
	// store's Badger (provider.DefaultKeyPrefix), beside /blocks and /pins.
	sys, err := provider.New(s.ds,
		provider.Online(r),
		provider.ReproviderInterval(interval),
		provider.ProvideWorkerCount(provideWorkers),
		provider.KeyProvider(s.pinnedRoots),
	)
	if err != nil {
		return nil, err
	}
	p := &Provider{sys: sys}
	s.setOnPin(p.announce)
	return p, nil
}

func (p *Provider) announce(c cid.Cid) {
	// Enqueued only: the queue's workers do the network part.
	_ = p.sys.Provide(context.Background(), c, true)
}

// Reprovide announces every pinned root now (it runs by itself every
// interval).
func (p *Provider) Reprovide(ctx context.Context) error { return p.sys.Reprovide(ctx) }

// Close stops announcing; the queue keeps what was not announced yet.
func (p *Provider) Close() error { return p.sys.Close() }

// pinnedRoots streams the pinned roots for a reprovide.
func (s *Store) pinnedRoots(ctx context.Context) (<-chan cid.Cid, error) {
	pins, err := s.Pins(ctx)
	if err != nil {
		return nil, err
	}
	ch := make(chan cid.Cid, len(pins))
	for _, p := range pins {
		ch <- p
	}
	close(ch)
	return ch, nil
}
