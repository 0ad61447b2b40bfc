package e2e

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/p2p"
)

// A peer that floods malformed and oversized gossip is scored down and
// disconnected; the validators keep committing.
func TestRoguePeerIsDisconnected(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 100*time.Millisecond)
	tn.startAll()
	n0 := tn.info.Nodes[0]
	start := waitHeight(t, n0.API, 3, 60*time.Second)

	_, priv, _ := keys.Generate(rand.Reader)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rogue, err := p2p.New(ctx, p2p.Config{ChainID: tn.info.ChainID, PrivKey: priv, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, MaxMessageSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Close()
	addr, _ := ma.NewMultiaddr(n0.P2P)
	target, _ := peer.AddrInfoFromP2pAddr(addr)
	if err := rogue.Connect(ctx, *target); err != nil {
		t.Fatal(err)
	}
	accept := func(context.Context, peer.ID, []byte) p2p.ValidationResult { return p2p.Accept }
	cons, err := rogue.JoinTopic(p2p.TopicConsensus, 4<<20, accept)
	if err != nil {
		t.Fatal(err)
	}
	txs, err := rogue.JoinTopic(p2p.TopicTx, 4<<20, accept)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // let the mesh form
	connected := func() bool {
		for _, p := range rogue.Peers() {
			if p == target.ID {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(60 * time.Second)
	sent := 0
	for connected() && time.Now().Before(deadline) {
		garbage := make([]byte, 64)
		rand.Read(garbage)
		binary.BigEndian.PutUint64(garbage, uint64(sent))
		cons.Publish(ctx, garbage)
		if sent%10 == 0 {
			txs.Publish(ctx, make([]byte, 1<<20)) // far above the tx topic's limit
		}
		sent++
		time.Sleep(20 * time.Millisecond)
	}
	if connected() {
		t.Fatalf("the rogue peer is still connected after %d malformed messages", sent)
	}
	t.Logf("rogue disconnected after %d malformed messages", sent)
	// And it stays out for a while: a redial is refused.
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	if err := rogue.Connect(rctx, *target); err == nil {
		time.Sleep(time.Second)
		if connected() {
			t.Fatal("the penalised peer could reconnect at once")
		}
	}
	waitHeight(t, n0.API, start.Height+10, 60*time.Second)
	for _, nd := range tn.info.Nodes[1:] {
		waitHeight(t, nd.API, start.Height+10, 30*time.Second)
	}
}
