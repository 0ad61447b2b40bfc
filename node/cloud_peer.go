package node

import (
	"slices"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/p2p/forward"
)

// PeerInfo is this node's libp2p peer ID and the listen addresses worth
// publishing on-chain (compute/set_resources), so lease clients dial the
// provider directly (compute/agent.Cloud).
func (h *agentHost) PeerInfo() (id string, addrs []string) {
	lh := h.r.Host.LibP2P()
	return lh.ID().String(), PublishAddrs(lh.Addrs())
}

// PublishAddrs picks at most ledger's MaxPeerAddrs of addrs for others to
// dial: public ones first, then private, then loopback (a devnet's);
// never an unspecified (0.0.0.0, ::) or link-local address. The /p2p
// suffix is dropped: the peer ID is published beside them.
func PublishAddrs(addrs []ma.Multiaddr) []string {
	rank := func(a ma.Multiaddr) int {
		ip, err := manet.ToIP(a)
		switch {
		case err != nil:
			return 1 // dns, circuit: as good as public
		case ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.IsMulticast():
			return -1
		case manet.IsPublicAddr(a):
			return 1
		case ip.IsLoopback():
			return 3
		default:
			return 2 // private
		}
	}
	type ranked struct {
		s string
		r int
	}
	var rs []ranked
	for _, a := range addrs {
		if a == nil {
			continue
		}
		if head, last := ma.SplitLast(a); last != nil && last.Protocol().Code == ma.P_P2P {
			a = head
		}
		s := a.String()
		if r := rank(a); r >= 0 && len(s) <= ledgercompute.MaxPeerAddrBytes && !slices.ContainsFunc(rs, func(x ranked) bool { return x.s == s }) {
			rs = append(rs, ranked{s, r})
		}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int { return a.r - b.r })
	out := make([]string, 0, ledgercompute.MaxPeerAddrs)
	for _, x := range rs[:min(len(rs), ledgercompute.MaxPeerAddrs)] {
		out = append(out, x.s)
	}
	return out
}

// publishedPeer is where lease j's provider says its node is, from the
// ledger at the latest height (zero when it published none).
func (h *agentHost) publishedPeer(j ledgercompute.Job) forward.Published {
	var pub forward.Published
	h.r.Chain.Query(h.LatestHeight(), func(c *ledger.Context) error {
		p, err := h.r.Chain.Compute.ProviderByAddr(c, j.Provider)
		if err == nil {
			pub = forward.Published{PeerID: p.Resources.PeerID, Addrs: p.Resources.Addrs}
		}
		return nil
	})
	return pub
}
