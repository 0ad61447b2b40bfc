package compute

import (
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
)

// libp2pKeyCodec is the multicodec of a peer ID written as a CIDv1.
const libp2pKeyCodec = 0x72

// checkPeer validates a provider's published node: PeerID as libp2p
// prints one (base58 multihash, or CIDv1 with the libp2p-key codec),
// without importing libp2p into the deterministic core; Addrs as
// canonical multiaddrs. Both empty is the old behaviour (not published).
func checkPeer(r Resources) error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrBadResources}, a...)...) }
	if r.PeerID == "" {
		if len(r.Addrs) != 0 {
			return bad("addrs given without peer_id; publish the node's peer ID with its addresses")
		}
		return nil
	}
	if len(r.PeerID) > MaxPeerIDBytes {
		return bad("peer_id is %d bytes; a libp2p peer ID is at most %d", len(r.PeerID), MaxPeerIDBytes)
	}
	if err := checkPeerID(r.PeerID); err != nil {
		return bad("peer_id %q: %v; give the node's ID as `inferd status` or libp2p prints it (12D3KooW... or Qm...)", r.PeerID, err)
	}
	if len(r.Addrs) > MaxPeerAddrs {
		return bad("%d addrs; at most %d (the node's public ones)", len(r.Addrs), MaxPeerAddrs)
	}
	for i, a := range r.Addrs {
		if len(a) > MaxPeerAddrBytes {
			return bad("addrs[%d] is %d bytes; at most %d", i, len(a), MaxPeerAddrBytes)
		}
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			return bad("addrs[%d] %q is not a multiaddr: %v; want e.g. /ip4/203.0.113.7/tcp/26656", i, a, err)
		}
		if m.String() != a {
			return bad("addrs[%d] %q is not in canonical form; write it as %q", i, a, m.String())
		}
	}
	return nil
}

// checkPeerID decodes s as peer.Decode does: a base58btc multihash
// (identity or sha2-256), or a CIDv1 of the libp2p-key codec.
func checkPeerID(s string) error {
	var h mh.Multihash
	if strings.HasPrefix(s, "Qm") || strings.HasPrefix(s, "1") {
		var err error
		if h, err = mh.FromB58String(s); err != nil {
			return fmt.Errorf("not a base58 multihash: %v", err)
		}
	} else {
		c, err := cid.Decode(s)
		if err != nil {
			return fmt.Errorf("neither a base58 multihash nor a CID: %v", err)
		}
		if c.Version() != 1 || c.Type() != libp2pKeyCodec {
			return fmt.Errorf("a CID but not a libp2p-key CIDv1 (codec %#x)", c.Type())
		}
		h = c.Hash()
	}
	d, err := mh.Decode(h)
	if err != nil {
		return err
	}
	if d.Code != mh.IDENTITY && d.Code != mh.SHA2_256 {
		return fmt.Errorf("multihash code %#x; a peer ID hashes its key with identity or sha2-256", d.Code)
	}
	if d.Length == 0 {
		return fmt.Errorf("empty multihash digest")
	}
	return nil
}
