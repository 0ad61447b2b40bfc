package node

import (
	"sort"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/inferd/inferd/node/api"
)

var _ api.NetBackend = backend{}

func (b backend) NetID() api.NetID {
	h := b.r.Host
	out := api.NetID{ID: h.ID().String(), Addrs: []string{}, Agent: "inferd"}
	for _, a := range h.Addrs() {
		out.Addrs = append(out.Addrs, a.String())
	}
	for _, p := range h.LibP2P().Mux().Protocols() {
		out.Protocols = append(out.Protocols, string(p))
	}
	sort.Strings(out.Protocols)
	if v, err := h.LibP2P().Peerstore().Get(h.ID(), "AgentVersion"); err == nil {
		if s, ok := v.(string); ok && s != "" {
			out.Agent = s
		}
	}
	return out
}

func (b backend) NetPeers() []api.PeerInfo {
	var out []api.PeerInfo
	for _, p := range b.r.Host.Peers() {
		pi := api.PeerInfo{ID: p.String()}
		if conns := b.r.Host.LibP2P().Network().ConnsToPeer(p); len(conns) > 0 {
			pi.Addr = conns[0].RemoteMultiaddr().String()
			pi.Direction = "outbound"
			if conns[0].Stat().Direction == network.DirInbound {
				pi.Direction = "inbound"
			}
		}
		// The addresses the peer listens on (from identify): what a client
		// dials to reach it, unlike an inbound connection's remote port.
		for _, a := range b.r.Host.LibP2P().Peerstore().Addrs(p) {
			pi.ListenAddrs = append(pi.ListenAddrs, a.String())
		}
		sort.Strings(pi.ListenAddrs)
		out = append(out, pi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
