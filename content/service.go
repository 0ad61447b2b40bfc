package content

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/host"
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
}

// Start opens the store in home and starts bitswap on h.
func Start(ctx context.Context, home string, h host.Host, o ExchangeOptions) (*Service, error) {
	s, err := Open(filepath.Join(home, Dir))
	if err != nil {
		return nil, err
	}
	return &Service{Store: s, Exchange: NewExchange(ctx, h, s, o), Gateway: Gateway(s)}, nil
}

// Close stops bitswap, then closes the store.
func (s *Service) Close() error {
	return errors.Join(s.Exchange.Close(), s.Store.Close())
}
