package p2p

import (
	"context"
	"time"

	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
)

// DHT discovery: the host advertises itself under the chain's namespace and
// looks for other hosts there. Rounds start discoveryMinInterval apart and
// stretch to discoveryMaxInterval.
const (
	discoveryMinInterval = time.Second
	discoveryMaxInterval = time.Minute
	discoveryTimeout     = 30 * time.Second
	// advertiseEvery re-advertises well within the provider record TTL.
	advertiseEvery = 10 * time.Minute
)

// DiscoveryNamespace is the DHT namespace hosts of chainID advertise under.
func DiscoveryNamespace(chainID string) string { return "inferd/" + chainID }

// discoveryLoop advertises this host and connects to hosts found under the
// chain's namespace while it has fewer than MaxPeers peers.
func (h *Host) discoveryLoop() {
	defer h.wg.Done()
	rd := drouting.NewRoutingDiscovery(h.dht)
	ns := DiscoveryNamespace(h.cfg.ChainID)
	interval := discoveryMinInterval
	var advertised time.Time
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-timer.C:
		}
		if h.dht.RoutingTable().Size() > 0 {
			if time.Since(advertised) > advertiseEvery {
				ctx, cancel := context.WithTimeout(h.ctx, discoveryTimeout)
				if _, err := rd.Advertise(ctx, ns); err == nil {
					advertised = time.Now()
				} else {
					h.log.Debug("p2p: advertise failed", "err", err)
				}
				cancel()
			}
			if len(h.Peers()) < h.cfg.MaxPeers {
				h.findPeers(rd, ns)
			}
		}
		interval = min(2*interval, discoveryMaxInterval)
		timer.Reset(interval)
	}
}

func (h *Host) findPeers(rd *drouting.RoutingDiscovery, ns string) {
	ctx, cancel := context.WithTimeout(h.ctx, discoveryTimeout)
	defer cancel()
	found, err := rd.FindPeers(ctx, ns)
	if err != nil {
		h.log.Debug("p2p: find peers failed", "err", err)
		return
	}
	for ai := range found {
		if ai.ID == h.host.ID() || len(ai.Addrs) == 0 || h.connected(ai.ID) {
			continue
		}
		if len(h.Peers()) >= h.cfg.MaxPeers {
			return
		}
		dctx, dcancel := context.WithTimeout(ctx, dialTimeout)
		if err := h.Connect(dctx, ai); err != nil {
			h.log.Debug("p2p: dial discovered peer failed", "peer", ai.ID, "err", err)
		}
		dcancel()
	}
}
