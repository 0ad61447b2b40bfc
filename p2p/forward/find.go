package forward

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Published is where a provider says its node is: the peer ID and
// addresses of its on-chain resources (compute/set_resources). Zero when
// it published none.
type Published struct {
	PeerID string
	Addrs  []string
}

// PublishedTTL is how long a provider's published addresses stay in the
// peerstore: long enough for a forward session to redial, short enough
// that a provider that moved is not dialled at a stale address for long.
const PublishedTTL = 10 * time.Minute

// Find returns the node that runs lease (or job): first the provider's
// published node, dialled at its published addresses and asked; then,
// when it published none or did not answer, the connected peers
// (Locate). The path taken is logged at debug level.
func (c *Client) Find(ctx context.Context, pub Published, lease uint64, log *slog.Logger) (peer.ID, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var pubErr error
	if pub.PeerID != "" {
		p, err := c.askPublished(ctx, pub, lease)
		if err == nil {
			log.Debug("lease provider found at its published peer", "lease", lease, "peer", p, "addrs", len(pub.Addrs))
			return p, nil
		}
		pubErr = err
		log.Debug("lease provider's published peer did not answer; asking connected peers", "lease", lease, "peer", pub.PeerID, "err", err)
	}
	p, err := c.Locate(ctx, c.h.Network().Peers(), lease)
	if err != nil {
		if pubErr != nil {
			return "", fmt.Errorf("%w; the provider's published node %s: %v", err, pub.PeerID, pubErr)
		}
		return "", fmt.Errorf("%w; the provider published no peer ID (an older node), so only connected peers were asked", err)
	}
	log.Debug("lease provider found among connected peers", "lease", lease, "peer", p)
	return p, nil
}

// askPublished adds pub's addresses to the peerstore and asks that node
// whether it runs lease (NewStream dials it when not connected).
func (c *Client) askPublished(ctx context.Context, pub Published, lease uint64) (peer.ID, error) {
	id, err := peer.Decode(pub.PeerID)
	if err != nil {
		return "", fmt.Errorf("published peer ID %q: %v", pub.PeerID, err)
	}
	if id == c.h.ID() {
		return "", fmt.Errorf("published peer ID %s is this host", id)
	}
	addrs := make([]ma.Multiaddr, 0, len(pub.Addrs))
	for _, s := range pub.Addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue // the ledger checks them; skip one this version cannot parse
		}
		if _, last := ma.SplitLast(a); last != nil && last.Protocol().Code == ma.P_P2P {
			a, _ = ma.SplitLast(a) // /p2p/<id> is implied by the peer ID
		}
		addrs = append(addrs, a)
	}
	c.h.Peerstore().AddAddrs(id, addrs, PublishedTTL)
	st, _, err := c.open(ctx, id, lease, PurposeLocate)
	if err != nil {
		return "", err
	}
	st.Close()
	return id, nil
}
