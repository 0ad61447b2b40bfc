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
)

// A single validator with create_empty_blocks = false makes the first
// block and waits; a tx wakes it: the tx's block and one empty block
// whose header carries the app hash after it; then it waits again, also
// after a restart. With an interval it makes empty blocks at that pace.
func TestEngineWaitsForTxs(t *testing.T) {
	privs := map[string]keys.PrivKey{}
	info, err := CreateDevnet(t.TempDir(), DevnetOptions{Validators: 1, BasePort: 30000 + int(time.Now().UnixNano()%20000),
		AddKey: func(name string) (keys.Address, error) {
			pub, priv, err := keys.Generate(rand.Reader)
			privs[name] = priv
			return keys.AddressOf(pub), err
		}})
	if err != nil {
		t.Fatal(err)
	}
	home := info.Nodes[0].Home
	configure := func(f func(*ConsensusConfig)) {
		c, err := LoadConfig(home)
		if err != nil {
			t.Fatal(err)
		}
		f(&c.Consensus)
		if err := SaveConfig(home, c); err != nil {
			t.Fatal(err)
		}
	}
	configure(func(c *ConsensusConfig) { c.CreateEmptyBlocks, c.CommitDelay = false, Duration{} })
	run := func(body func(n *Node)) {
		t.Helper()
		n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		if err := n.NewEngine(nullTransport{}, nil); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Engine.Run(ctx) }()
		body(n)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(n *Node, h uint64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for n.Engine.Status().Height < h {
			if time.Now().After(deadline) {
				t.Fatalf("no height %d within 10s (at %d)", h, n.Engine.Status().Height)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	stays := func(n *Node, h uint64) {
		t.Helper()
		time.Sleep(1500 * time.Millisecond) // longer than a propose timeout (1s)
		if got := n.Engine.Status().Height; got != h {
			t.Fatalf("at height %d while idle, want %d", got, h)
		}
	}
	run(func(n *Node) {
		waitFor(n, 1)
		stays(n, 1)
		_, raw := ledger.SignTx(info.ChainID, privs["demo"], 0, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: keys.Address{9}, Amount: 1}))
		if _, err := n.SubmitTx(raw); err != nil {
			t.Fatal(err)
		}
		waitFor(n, 3)
		b2, err := n.Blocks.Block(2)
		if err != nil {
			t.Fatal(err)
		}
		b3, err := n.Blocks.Block(3)
		if err != nil {
			t.Fatal(err)
		}
		after2, _ := n.Chain.AppHashAt(2)
		if len(b2.Txs) != 1 || len(b3.Txs) != 0 || b3.Header.AppHash != after2 {
			t.Fatalf("blocks 2 and 3 hold %d and %d txs (want 1, 0); block 3's app hash %x, the state after 2 %x",
				len(b2.Txs), len(b3.Txs), b3.Header.AppHash[:4], after2[:4])
		}
		stays(n, 3)
	})
	run(func(n *Node) { stays(n, 3) })

	configure(func(c *ConsensusConfig) { c.CreateEmptyBlocksInterval = Duration{300 * time.Millisecond} })
	run(func(n *Node) {
		start := time.Now()
		waitFor(n, 6)
		if d := time.Since(start); d < 800*time.Millisecond {
			t.Fatalf("3 empty blocks in %v with an interval of 300ms", d)
		}
	})
}
