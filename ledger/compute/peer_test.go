package compute

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/ledger"
)

func testPeerID(t *testing.T, typ int) peer.ID {
	t.Helper()
	priv, _, err := crypto.GenerateKeyPairWithReader(typ, 2048, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCheckPeer: the ledger's own peer ID check (libp2p stays out of the
// deterministic core) agrees with peer.Decode, and addrs are bounded
// canonical multiaddrs.
func TestCheckPeer(t *testing.T) {
	ed := testPeerID(t, crypto.Ed25519)
	secp := testPeerID(t, crypto.Secp256k1)
	rsa := testPeerID(t, crypto.RSA) // sha2-256 multihash: Qm...
	good := []Resources{
		{},
		{PeerID: ed.String()},
		{PeerID: secp.String(), Addrs: []string{"/ip4/127.0.0.1/tcp/4001"}},
		{PeerID: rsa.String(), Addrs: []string{"/ip4/203.0.113.7/tcp/26656", "/ip6/::1/udp/4001/quic-v1", "/dns4/a.example/tcp/1", "/ip4/1.2.3.4/tcp/2"}},
		{PeerID: peer.ToCid(ed).String()}, // the CIDv1 form peer.Decode also takes
	}
	for i, r := range good {
		if err := checkPeer(r); err != nil {
			t.Errorf("good %d %+v: %v", i, r, err)
		}
	}
	long := "/dns4/" + strings.Repeat("a", MaxPeerAddrBytes) + "/tcp/1"
	bad := map[string]Resources{
		"peer_id":  {PeerID: "not-a-peer"},
		"peer_id ": {PeerID: ed.String()[:len(ed.String())-2]},                 // truncated multihash
		"qm-agree": {PeerID: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"}, // a sha2-256 multihash: libp2p takes it too
		"addrs":    {Addrs: []string{"/ip4/127.0.0.1/tcp/1"}},                  // addrs without a peer ID
		"addrs[0]": {PeerID: ed.String(), Addrs: []string{"127.0.0.1:4001"}},
		"addrs[1]": {PeerID: ed.String(), Addrs: []string{"/ip4/127.0.0.1/tcp/1", long}},
		"5 addrs":  {PeerID: ed.String(), Addrs: []string{"/ip4/1.1.1.1/tcp/1", "/ip4/1.1.1.2/tcp/1", "/ip4/1.1.1.3/tcp/1", "/ip4/1.1.1.4/tcp/1", "/ip4/1.1.1.5/tcp/1"}},
		"canon":    {PeerID: ed.String(), Addrs: []string{"/ip4/127.0.0.1/tcp/01"}},
		"cid":      {PeerID: "bafkreigh2akiscaildcqabsyg3dzr5a4l6e5ps3a5xkfftxuzbn5ha5v7e"}, // a raw CID, not libp2p-key
	}
	for name, r := range bad {
		_, decErr := peer.Decode(r.PeerID)
		err := checkPeer(r)
		if name == "qm-agree" {
			// A sha2-256 multihash is a valid peer ID to libp2p too: agree with it.
			if (err == nil) != (decErr == nil) {
				t.Errorf("%s: checkPeer %v, peer.Decode %v: they must agree", name, err, decErr)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: %+v accepted", name, r)
			continue
		}
		if !strings.Contains(err.Error(), "invalid provider resources: ") {
			t.Errorf("%s: %v is not ErrBadResources", name, err)
		}
		if strings.HasPrefix(name, "peer_id") && decErr == nil {
			t.Errorf("%s: refused %q, which peer.Decode takes", name, r.PeerID)
		}
	}
}

// TestSetResourcesPeer: a published peer ID and addrs are stored and
// shown; a bad one is refused naming the field; clearing them works.
func TestSetResourcesPeer(t *testing.T) {
	n := newNet(t, cloudParams, 1, 2)
	prov := n.accts[0]
	mustOK(t, n.block(n.tx(prov, register(10, 0, 2, 2*ledger.UinfPerINF))))
	id := testPeerID(t, crypto.Ed25519).String()
	r := cpuBox(1000, 1<<30)
	r.PeerID, r.Addrs = id, []string{"/ip4/127.0.0.1/tcp/26656"}
	mustOK(t, n.block(n.tx(prov, setRes(r))))
	if p := n.provider(prov.addr); p.Resources.PeerID != id || len(p.Resources.Addrs) != 1 || p.Resources.Addrs[0] != r.Addrs[0] {
		t.Fatalf("resources %+v", p.Resources)
	}
	r.Addrs = []string{"nonsense"}
	res := n.block(n.tx(prov, setRes(r)))
	mustFail(t, res, ErrBadResources)
	if msg := res.Txs[0].Error; !strings.Contains(msg, "addrs[0]") {
		t.Fatalf("error %q does not name the field", msg)
	}
	if p := n.provider(prov.addr); len(p.Resources.Addrs) != 1 {
		t.Fatalf("a refused update changed the state: %+v", p.Resources)
	}
	r.PeerID, r.Addrs = "", nil
	mustOK(t, n.block(n.tx(prov, setRes(r))))
	if p := n.provider(prov.addr); p.Resources.PeerID != "" || len(p.Resources.Addrs) != 0 {
		t.Fatalf("not cleared: %+v", p.Resources)
	}
}
