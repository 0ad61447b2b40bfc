package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node/blocks"
	"github.com/inferd/inferd/p2p"
)

// fundedHome is a one-validator devnet whose "demo" account key is known.
func fundedHome(t *testing.T) (string, keys.PrivKey) {
	t.Helper()
	privs := map[string]keys.PrivKey{}
	info, err := CreateDevnet(t.TempDir(), DevnetOptions{Validators: 1, BasePort: 30000 + int(time.Now().UnixNano()%20000), CommitDelay: 200 * time.Millisecond,
		AddKey: func(name string) (keys.Address, error) {
			pub, priv, err := keys.Generate(rand.Reader)
			privs[name] = priv
			return keys.AddressOf(pub), err
		}})
	if err != nil {
		t.Fatal(err)
	}
	return info.Nodes[0].Home, privs["demo"]
}

// openRunning opens home with an engine on a null transport: enough for
// the topic validators, without a libp2p host.
func openRunning(t *testing.T, home string) *Running {
	t.Helper()
	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		t.Fatal(err)
	}
	return &Running{Node: n}
}

func sendTxs(chainID string, priv keys.PrivKey, from, to uint64) [][]byte {
	var out [][]byte
	for nonce := from; nonce < to; nonce++ {
		_, raw := ledger.SignTx(chainID, priv, nonce, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: keys.Address{1}, Amount: 1}))
		out = append(out, raw)
	}
	return out
}

func seqWrap(b []byte) []byte { return append(binary.BigEndian.AppendUint64(nil, 1), b...) }

// TestTxBatchValidator: a good batch is admitted whole and relayed; a
// batch with one bad transaction (bad signature, another chain, bytes that
// do not decode) is rejected (the peer scored down) but its good
// transactions are admitted all the same; a malformed batch (garbage,
// empty, an oversized element) is rejected without touching the mempool.
func TestTxBatchValidator(t *testing.T) {
	home, demo := fundedHome(t)
	r := openRunning(t, home)
	chainID := r.Genesis.ChainID
	validate := r.validator(KindTxBatch)
	check := func(name string, body []byte, want p2p.ValidationResult) {
		t.Helper()
		if got := validate(context.Background(), "", seqWrap(body)); got != want {
			t.Fatalf("%s: %v, want %v", name, got, want)
		}
	}
	has := func(raws ...[]byte) {
		t.Helper()
		for _, raw := range raws {
			if !r.Mempool.Has(ledger.HashTx(raw)) {
				t.Fatalf("good tx %x not admitted", ledger.HashTx(raw))
			}
		}
	}

	good := sendTxs(chainID, demo, 0, 5)
	check("good batch", encodeTxBatch(good), p2p.Accept)
	has(good...)
	check("the same batch again", encodeTxBatch(good), p2p.Accept)
	if r.Mempool.Size() != 5 {
		t.Fatalf("mempool holds %d, want 5", r.Mempool.Size())
	}

	mixed := sendTxs(chainID, demo, 5, 10)
	bad := bytes.Clone(mixed[2])
	bad[len(bad)-3] ^= 1 // inside the signature
	otherChain := sendTxs("another-chain", demo, 10, 11)[0]
	batch := [][]byte{mixed[0], mixed[1], bad, mixed[3], otherChain, []byte("not a tx"), mixed[4]}
	check("one bad signature, another chain, garbage", encodeTxBatch(batch), p2p.Reject)
	has(mixed[0], mixed[1], mixed[3], mixed[4])
	if r.Mempool.Has(ledger.HashTx(bad)) || r.Mempool.Has(ledger.HashTx(otherChain)) {
		t.Fatal("a bad transaction was admitted")
	}
	if r.txSigs.has(ledger.HashTx(bad)) {
		t.Fatal("a bad signature was recorded as verified")
	}

	size := r.Mempool.Size()
	check("garbage", []byte("not cbor at all"), p2p.Reject)
	check("empty batch", encodeTxBatch([][]byte{}), p2p.Reject)
	check("oversized element", encodeTxBatch([][]byte{sendTxs(chainID, demo, 20, 21)[0], make([]byte, ledger.MaxTxBytes+1)}), p2p.Reject)
	check("empty element", encodeTxBatch([][]byte{{}}), p2p.Reject)
	check("not an array of byte strings", codec.MustMarshal([]uint64{1, 2}), p2p.Reject)
	check("too short for a sequence prefix", nil, p2p.Reject)
	if r.Mempool.Size() != size {
		t.Fatalf("a malformed batch changed the mempool: %d -> %d", size, r.Mempool.Size())
	}
	tooMany := make([][]byte, txBatchMaxTxs+1)
	for i := range tooMany {
		tooMany[i] = []byte{1}
	}
	if _, err := decodeTxBatch(encodeTxBatch(tooMany)); err == nil {
		t.Fatal("a batch over txBatchMaxTxs decoded")
	}
}

// TestPreverifyTxs: a block's good signatures are recorded (the ledger
// skips them), a bad one is not (the ledger finds and refuses it).
func TestPreverifyTxs(t *testing.T) {
	home, demo := fundedHome(t)
	r := openRunning(t, home)
	txs := sendTxs(r.Genesis.ChainID, demo, 0, 40)
	txs[7] = bytes.Clone(txs[7])
	txs[7][len(txs[7])-1] ^= 1
	r.preverifyTxs(&blocks.Block{Txs: txs})
	for i, raw := range txs {
		if got := r.txSigs.has(ledger.HashTx(raw)); got != (i != 7) {
			t.Errorf("tx %d: recorded %v", i, got)
		}
	}
}

// TestTxBatcher: transactions leave in one batch per interval, a full
// batch leaves at once, and what is queued at shutdown is flushed.
func TestTxBatcher(t *testing.T) {
	var mu sync.Mutex
	var got [][][]byte
	b := newTxBatcher(func(body []byte) error {
		raws, err := decodeTxBatch(body)
		if err != nil {
			t.Errorf("published a bad batch: %v", err)
		}
		mu.Lock()
		got = append(got, raws)
		mu.Unlock()
		return nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.run(ctx); close(done) }()
	for i := 0; i < 3; i++ {
		b.add([]byte{byte(i + 1)})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	if len(got) != 1 || len(got[0]) != 3 {
		t.Fatalf("want one batch of 3, got %d batches", len(got))
	}
	got = nil
	mu.Unlock()
	for i := 0; i < txBatchMaxTxs+5; i++ {
		for !b.add([]byte{1, byte(i)}) {
			time.Sleep(time.Millisecond)
		}
	}
	cancel()
	<-done
	total := 0
	for _, g := range got {
		if len(g) > txBatchMaxTxs {
			t.Fatalf("batch of %d", len(g))
		}
		total += len(g)
	}
	if total != txBatchMaxTxs+5 {
		t.Fatalf("published %d transactions, want %d", total, txBatchMaxTxs+5)
	}
}
