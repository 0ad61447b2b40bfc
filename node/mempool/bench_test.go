package mempool

import (
	"encoding/binary"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// fakeTx is an unsigned 250-byte tx: the mempool trusts its caller to have
// verified signatures, so benchmarks need not sign.
func fakeTx(sender, nonce, fee uint64) ([]byte, *ledger.Tx) {
	var a keys.Address
	binary.BigEndian.PutUint64(a[:], sender+1)
	raw := make([]byte, 250)
	binary.BigEndian.PutUint64(raw, sender)
	binary.BigEndian.PutUint64(raw[8:], nonce)
	binary.BigEndian.PutUint64(raw[16:], fee)
	return raw, &ledger.Tx{Body: ledger.TxBody{Sender: a, Nonce: nonce, Fee: fee}}
}

// fill adds 10,000 txs: 1,000 senders with 10 nonces each, mixed fees.
func fill(b *testing.B, m *Mempool) {
	b.Helper()
	for s := uint64(0); s < 1000; s++ {
		for n := uint64(0); n < 10; n++ {
			raw, tx := fakeTx(s, n, 100+(s*7919+n*31)%1000)
			if err := m.Add(raw, tx, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkAdd adds txs of new senders to a pool holding 10,000 (rebuilt
// every 10,000 adds, outside the timer).
func BenchmarkAdd(b *testing.B) {
	var m *Mempool
	next := uint64(1 << 32)
	for i := 0; i < b.N; i++ {
		if i%10_000 == 0 {
			b.StopTimer()
			m = New(Config{MaxTxs: 40_000})
			fill(b, m)
			b.StartTimer()
		}
		raw, tx := fakeTx(next, 0, 500)
		next++
		if err := m.Add(raw, tx, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddEvict adds to a full pool of 10,000: every add evicts the
// weakest tx.
func BenchmarkAddEvict(b *testing.B) {
	m := New(Config{MaxTxs: 10_000})
	fill(b, m)
	next := uint64(1 << 32)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		raw, tx := fakeTx(next, 0, 2000+uint64(i))
		next++
		if err := m.Add(raw, tx, 0); err != nil {
			b.Fatal(err)
		}
	}
	if m.Size() != 10_000 {
		b.Fatalf("size %d", m.Size())
	}
}

// BenchmarkReap reaps a whole block (up to 10,000 txs, 4 MiB) from 10,000.
func BenchmarkReap(b *testing.B) {
	m := New(Config{})
	fill(b, m)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if got := m.Reap(4<<20, 10_000); len(got) != 10_000 {
			b.Fatalf("reaped %d", len(got))
		}
	}
}

// BenchmarkUpdate commits 2,000 of 10,000 txs (2 nonces of each sender).
func BenchmarkUpdate(b *testing.B) {
	committed := make([][]byte, 0, 2000)
	for s := uint64(0); s < 1000; s++ {
		for n := uint64(0); n < 2; n++ {
			raw, _ := fakeTx(s, n, 100+(s*7919+n*31)%1000)
			committed = append(committed, raw)
		}
	}
	nonceOf := func(keys.Address) uint64 { return 2 }
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		m := New(Config{})
		fill(b, m)
		b.StartTimer()
		m.Update(committed, nonceOf)
		if m.Size() != 8000 {
			b.Fatalf("size %d", m.Size())
		}
	}
}
