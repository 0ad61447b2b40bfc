package blockstore

import (
	"sync"
	"testing"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
)

// TestReadsDuringWrites reads the latest height while blocks are saved:
// whatever Height reports must be fully readable (run with -race).
func TestReadsDuringWrites(t *testing.T) {
	c := newTestChain(t)
	for h := uint64(1); h <= 30; h++ {
		c.block(h) // build before the goroutines share c
	}
	s, err := Open(t.TempDir(), Options{SmallMemory: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				h := s.Height()
				if h == 0 {
					continue
				}
				b, err := s.Block(h)
				if err == nil {
					_, err = s.SeenCommit(h)
				}
				if err == nil {
					_, err = s.Tx(ledger.HashTx(b.Txs[0]))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for h := uint64(1); h <= 30; h++ {
		b, seen := c.block(h)
		if err := s.SaveBlock(b, seen, results(b)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("a reader saw a height it could not read: %v", err)
	default:
	}
}

// BenchmarkSaveBlock saves blocks of 1,000 txs with fsync (the production
// setting); the figure is dominated by the disk's fsync latency.
func BenchmarkSaveBlock(b *testing.B) {
	c := newTestChain(b)
	s, err := Open(b.TempDir(), Options{SmallMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var txs [][]byte
	for i := 0; i < 1000; i++ {
		txs = append(txs, c.tx(uint64(i)))
	}
	prev, prevSeen := c.block(1)
	if err := s.SaveBlock(prev, prevSeen, results(prev)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := prev.Header.Height + 1
		hdr := prev.Header
		hdr.Height, hdr.LastBlockHash, hdr.Time = h, prev.Hash(), int64(h)*1e9
		blk := blocks.NewBlock(hdr, txs, nil, c.commitFor(h-1, prev.Hash(), 0, 1, 2))
		seen := c.commitFor(h, blk.Hash(), 0, 1, 2, 3)
		res := results(blk)
		b.StartTimer()
		if err := s.SaveBlock(blk, seen, res); err != nil {
			b.Fatal(err)
		}
		prev = blk
	}
}
