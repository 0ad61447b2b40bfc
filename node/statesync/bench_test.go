package statesync

import (
	"encoding/binary"
	"os"
	"strconv"
	"testing"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/ledger/store/badgerstore"
)

// BenchmarkSnapshot1MAccounts: the snapshot of a Badger state holding
// 1,000,000 accounts, each a balance and a nonce record as the ledger keeps
// them (20-byte address keys, 8-byte values): its size and the time to
// create it (stream, chunk, hash, fsync). INFERD_BENCH_ACCOUNTS overrides
// the count.
func BenchmarkSnapshot1MAccounts(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("INFERD_BENCH_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	st, err := badgerstore.Open(b.TempDir(), badgerstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cs := make([]store.Change, 0, 2*n+1)
	for i := 0; i < n; i++ {
		var addr [20]byte
		binary.BigEndian.PutUint64(addr[12:], uint64(i)*0x9e3779b97f4a7c15)
		cs = append(cs,
			store.Change{Key: append([]byte("bank/bal/"), addr[:]...), Value: binary.BigEndian.AppendUint64(nil, uint64(i)+1)},
			store.Change{Key: append([]byte("acc/"), addr[:]...), Value: binary.BigEndian.AppendUint64(nil, uint64(i%7))})
	}
	if err := st.Commit(1, cs); err != nil {
		b.Fatal(err)
	}
	r, _ := st.At(1)
	app, _, err := ledger.AppHashOf(r)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var m Metadata
	for i := 0; i < b.N; i++ {
		ss, err := OpenStore(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		r, _ := st.At(1)
		if m, err = ss.Create(1, r, app); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.Size)/(1<<20), "MiB")
	b.ReportMetric(float64(len(m.Chunks)), "chunks")
}
