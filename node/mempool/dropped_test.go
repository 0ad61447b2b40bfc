package mempool

import (
	"errors"
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// TestDroppedReasons: every way an admitted tx leaves the pool without
// being committed is recorded with its reason; a committed tx is not
// "dropped"; a dropped tx admitted again is no longer reported.
func TestDroppedReasons(t *testing.T) {
	acc := accounts(4, 7)
	poor := acc[3].addr
	m := New(Config{MaxTxs: 3, Recheck: func(tx *ledger.Tx) error {
		if tx.Body.Sender == poor {
			return errors.New("balance 0 cannot pay fee 10")
		}
		return nil
	}})
	reason := func(raw []byte) string {
		r, _ := m.Dropped(ledger.HashTx(raw))
		return r
	}
	// Replacement by a higher fee.
	low := add(t, m, acc[0], 0, 10, 0)
	high := add(t, m, acc[0], 0, 20, 0)
	if r := reason(low); !strings.Contains(r, "replaced by transaction") {
		t.Fatalf("replaced tx: %q", r)
	}
	// Eviction from a full pool (MaxTxs 3) by a better fee.
	cheap := add(t, m, acc[1], 0, 1, 0)
	add(t, m, acc[2], 0, 30, 0)
	add(t, m, acc[2], 1, 30, 0)
	if r := reason(cheap); r != ReasonEvicted {
		t.Fatalf("evicted tx: %q", r)
	}
	// A block commits another tx with acc[2]'s nonce 0 and 1: the pool's
	// are dropped as used; high (acc[0]) is committed, not dropped.
	other, _ := mk(acc[2], 0, 5, 3)
	other1, _ := mk(acc[2], 1, 5, 3)
	pending2, _ := mk(acc[2], 0, 30, 0)
	m.Update([][]byte{other, other1, high}, func(a keys.Address) uint64 {
		if a == acc[2].addr {
			return 2
		}
		return 1
	})
	if r := reason(pending2); r != ReasonNonce {
		t.Fatalf("tx whose nonce another tx used: %q", r)
	}
	if r, ok := m.Dropped(ledger.HashTx(high)); ok {
		t.Fatalf("committed tx reported dropped: %q", r)
	}
	// Recheck: a sender who can no longer pay loses its txs, with why.
	p0 := add(t, m, acc[3], 0, 10, 0)
	p1 := add(t, m, acc[3], 1, 10, 0)
	m.Update(nil, func(keys.Address) uint64 { return 0 })
	m.Update([][]byte{}, func(keys.Address) uint64 { return 0 })
	for _, raw := range [][]byte{p0, p1} {
		if r := reason(raw); !strings.Contains(r, "cannot pay fee") {
			t.Fatalf("rechecked tx: %q", r)
		}
	}
	// Admitted again: no longer dropped.
	again, tx := mk(acc[1], 0, 1, 0)
	if err := m.Add(again, tx, 0); err != nil {
		t.Fatal(err)
	}
	if r, ok := m.Dropped(ledger.HashTx(again)); ok {
		t.Fatalf("re-admitted tx still reported dropped: %q", r)
	}
}
