package api

import (
	"net/http"
)

// NetID is GET /net/id: this node's libp2p identity, as Kubo's `ipfs id`.
type NetID struct {
	ID        string   `json:"id"`        // peer id
	Addrs     []string `json:"addrs"`     // listen addresses, each ending in /p2p/<id>
	Protocols []string `json:"protocols"` // libp2p protocols the host speaks
	Agent     string   `json:"agent"`     // e.g. "inferd/devel"
}

// PeerInfo is one connected peer.
type PeerInfo struct {
	ID        string `json:"id"`
	Addr      string `json:"addr"`      // the remote address of a connection to it
	Direction string `json:"direction"` // inbound or outbound
	// ListenAddrs are the addresses the peer says it listens on.
	ListenAddrs []string `json:"listen_addrs,omitempty"`
}

// PeersResponse is GET /net/peers.
type PeersResponse struct {
	Peers []PeerInfo `json:"peers"`
}

// NetBackend is a Backend with a libp2p host. A Backend that does not
// implement it answers /net/* with 404 not_found.
type NetBackend interface {
	NetID() NetID
	NetPeers() []PeerInfo
}

func (s *server) handleNet() {
	s.handle("GET", "/net/id", func(w http.ResponseWriter, r *http.Request) error {
		nb, ok := s.b.(NetBackend)
		if !ok {
			return errorf(http.StatusNotFound, "not_found", "this node has no p2p host")
		}
		writeJSON(w, http.StatusOK, nb.NetID())
		return nil
	})
	s.handle("GET", "/net/peers", func(w http.ResponseWriter, r *http.Request) error {
		nb, ok := s.b.(NetBackend)
		if !ok {
			return errorf(http.StatusNotFound, "not_found", "this node has no p2p host")
		}
		out := PeersResponse{Peers: nb.NetPeers()}
		if out.Peers == nil {
			out.Peers = []PeerInfo{}
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
}
