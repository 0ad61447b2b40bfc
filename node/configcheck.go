package node

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// validateP2P checks the multiaddrs of the p2p section, so that a typo in
// config.toml, in `inferd config set` or in a run flag is named before the
// node opens its stores.
func validateP2P(c *P2PConfig) error {
	for _, s := range c.ListenAddresses {
		if _, err := ma.NewMultiaddr(s); err != nil {
			return fmt.Errorf("config: p2p.listen_addresses: %q is not a multiaddr: %v (want e.g. /ip4/0.0.0.0/tcp/26656)", s, err)
		}
	}
	for _, s := range c.BootstrapPeers {
		if _, err := peer.AddrInfoFromString(s); err != nil {
			return fmt.Errorf("config: p2p.bootstrap_peers: %q: %v (want a multiaddr ending in /p2p/<peer id>, e.g. /ip4/10.0.0.1/tcp/26656/p2p/12D3KooW...; a node prints its own as peer_id and listen addresses at start-up)", s, err)
		}
	}
	return nil
}
