package content

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Service is what a node runs: the store under <home>/data/content, bitswap
// on the node's libp2p host, and the gateway handler. It is the one call
// the node needs:
//
//	svc, err := content.Start(ctx, home, libp2pHost, content.ExchangeOptions{Routing: dht, OnUnwantedBlock: penalise})
//	defer svc.Close()
//	mux.Handle("GET /ipfs/", svc.Gateway)
type Service struct {
	Store    *Store
	Exchange *Exchange
	Gateway  http.Handler
	// Provider announces pinned and added roots on the DHT (nil without
	// a DHT).
	Provider *Provider

	id peer.ID
}

// services are the running Services by their host's peer ID, so that the
// node's HTTP API finds its node's content (ServiceOf).
var services sync.Map // peer.ID -> *Service

// ServiceOf is the running Service on the libp2p host with peer ID id, or
// nil.
func ServiceOf(id peer.ID) *Service {
	if v, ok := services.Load(id); ok {
		return v.(*Service)
	}
	return nil
}

// Start opens the store in home and starts bitswap on h.
func Start(ctx context.Context, home string, h host.Host, o ExchangeOptions) (*Service, error) {
	s, err := Open(filepath.Join(home, Dir))
	if err != nil {
		return nil, err
	}
	svc := &Service{Store: s, Exchange: NewExchange(ctx, h, s, o), Gateway: Gateway(s), id: h.ID()}
	if r, ok := o.Routing.(Router); ok && o.Routing != nil {
		if svc.Provider, err = NewProvider(s, r, o.ReprovideInterval); err != nil {
			svc.Exchange.Close()
			s.Close()
			return nil, err
		}
	}
	services.Store(svc.id, svc)
	return svc, nil
}

// Close stops bitswap, then closes the store.
func (s *Service) Close() error {
	services.CompareAndDelete(s.id, s)
	var perr error
	if s.Provider != nil {
		perr = s.Provider.Close()
	}
	return errors.Join(perr, s.Exchange.Close(), s.Store.Close())
}
