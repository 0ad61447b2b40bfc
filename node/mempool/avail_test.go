package mempool

import (
	"errors"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// TxsAvailable signals once per batch of admissions; HasReady is true only
// while a tx at its sender's nonce is held.
func TestTxsAvailableAndHasReady(t *testing.T) {
	m := New(Config{})
	acc := accounts(1, 7)[0]
	pending := func() bool {
		select {
		case <-m.TxsAvailable():
			return true
		default:
			return false
		}
	}
	if pending() || m.HasReady() {
		t.Fatal("an empty pool signals or has ready txs")
	}
	// A tx with a nonce gap is held but not ready.
	add(t, m, acc, 1, 10, 0)
	if !pending() {
		t.Fatal("no signal after an admission")
	}
	if m.HasReady() {
		t.Fatal("a tx behind a nonce gap counts as ready")
	}
	a0 := add(t, m, acc, 0, 10, 0)
	add(t, m, acc, 2, 10, 0)
	if !pending() || pending() {
		t.Fatal("two admissions should leave exactly one pending signal")
	}
	if !m.HasReady() {
		t.Fatal("the tx at the account's nonce is not ready")
	}
	raw, tx := mk(acc, 0, 10, 0)
	if err := m.Add(raw, tx, 0); err == nil || pending() {
		t.Fatalf("a refused duplicate signalled (err %v)", err)
	}
	// The block takes nonces 0-2: nothing is left.
	m.Update([][]byte{a0}, func(keys.Address) uint64 { return 3 })
	if m.HasReady() || m.Size() != 0 {
		t.Fatalf("after the block: ready %v, size %d", m.HasReady(), m.Size())
	}
}

// With FullRecheckEvery, Update rechecks only the block's senders between
// full passes, and every tx on each full pass.
func TestIncrementalRecheck(t *testing.T) {
	accs := accounts(2, 9)
	broke := map[keys.Address]bool{}
	m := New(Config{FullRecheckEvery: 3, Recheck: func(tx *ledger.Tx) error {
		if broke[tx.Body.Sender] {
			return errors.New("cannot pay")
		}
		return nil
	}})
	a0 := add(t, m, accs[0], 0, 10, 0)
	add(t, m, accs[0], 1, 10, 0)
	b0 := add(t, m, accs[1], 0, 10, 0)
	broke[accs[0].addr], broke[accs[1].addr] = true, true
	// Update 1: the block holds accs[0]'s nonce 0; only accs[0] is rechecked.
	m.Update([][]byte{a0}, func(keys.Address) uint64 { return 1 })
	if m.Size() != 1 || !m.Has(ledger.HashTx(b0)) {
		t.Fatalf("after update 1: size %d, accs[1]'s tx held %v; want only accs[1]'s tx left", m.Size(), m.Has(ledger.HashTx(b0)))
	}
	m.Update(nil, func(keys.Address) uint64 { return 0 })
	if m.Size() != 1 {
		t.Fatalf("after update 2 (an empty block): size %d, want 1", m.Size())
	}
	m.Update(nil, func(keys.Address) uint64 { return 0 }) // update 3: a full pass
	if m.Size() != 0 {
		t.Fatalf("after the full pass: size %d, want 0", m.Size())
	}
}
