package mempool

import (
	"testing"

	"github.com/inferd/inferd/keys"
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
