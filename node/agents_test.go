package node

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/p2p"
)

// TestAgentSubmitSharesItsKey: the agent host keeps several transactions
// in flight with consecutive nonces, and when a person signs with the same
// key and takes the next nonce, the agent moves past it instead of failing
// (the devnet demo and the agents share the operators' keys).
func TestAgentSubmitSharesItsKey(t *testing.T) {
	var operator keys.PrivKey
	dir := t.TempDir()
	info, err := CreateDevnet(dir, DevnetOptions{Validators: 1, BasePort: 30000 + int(time.Now().UnixNano()%20000), CommitDelay: 200 * time.Millisecond,
		AddKey: func(name string) (keys.Address, error) {
			pub, priv, err := keys.Generate(rand.Reader)
			if name == "node0" {
				operator = priv
			}
			return keys.AddressOf(pub), err
		}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := Open(info.Nodes[0].Home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		t.Fatal(err)
	}
	r := &Running{Node: n}
	h := newAgentHost(r, &p2pTransport{topics: map[string]*p2p.Topic{}}, operator)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Engine.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	send := ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: info.DemoAddress, Amount: 1})
	for i := 0; i < 3; i++ { // no waiting for blocks in between
		if _, err := h.Submit(ctx, send); err != nil {
			t.Fatalf("agent tx %d: %v", i, err)
		}
	}
	// The owner of the key signs by hand with the next nonce (3).
	_, raw := ledger.SignTx(n.Genesis.ChainID, operator, 3, 100, "by hand", send)
	if _, err := n.SubmitTx(raw); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Submit(ctx, send); err != nil {
		t.Fatalf("agent tx after the person's: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var nonce uint64
		n.Chain.Query(n.Engine.Status().Height, func(c *ledger.Context) error {
			nonce = ledger.AccountNonce(c, h.Account())
			return nil
		})
		if nonce == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("account nonce %d after 30 s, want 5 (all five transactions committed)", nonce)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
