package blockstore

import (
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/inferd/inferd/ledger"
)

// TestPrune2000Heights stores 2,000 heights, pruning to the last 100 every
// 10 heights with keep_every 500, and checks after a restart: the key
// counts of every kind are those of the kept heights only, pruned heights
// give a PrunedError naming the base, kept heights (the window and the
// keep_every ones) read back complete, and saving continues.
func TestPrune2000Heights(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 2,000 signed blocks")
	}
	const heights, keep, interval, every = 2000, 100, 10, 500
	c := newTestChain(t)
	dir := t.TempDir()
	s, err := Open(dir, Options{SmallMemory: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= heights; h++ {
		save(t, s, c, h)
		if err := s.SaveValidators(h, c.vals); err != nil {
			t.Fatal(err)
		}
		if h > keep && h%interval == 0 {
			if _, err := s.Prune(h-keep+1, every); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	base := uint64(heights - keep + 1)
	if s.Base() != base || s.Height() != heights {
		t.Fatalf("after restart: base %d height %d, want %d %d", s.Base(), s.Height(), base, heights)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	counts, err := s.KeyCount()
	if err != nil {
		t.Fatal(err)
	}
	kept := keep + (base-1)/every // the window and heights 500, 1000, 1500
	for _, k := range []byte{'b', 'c', 'h', 'r', 'v'} {
		if counts[k] != int(kept) {
			t.Errorf("%d keys of kind %c, want %d (the kept heights)", counts[k], k, kept)
		}
	}
	if counts['t'] != int(kept)*txsPerBlock {
		t.Errorf("%d tx index entries, want %d", counts['t'], kept*txsPerBlock)
	}
	for _, h := range []uint64{1, 499, 501, base - 1} {
		_, err := s.BlockBytes(h)
		var pe *PrunedError
		if !errors.As(err, &pe) || !errors.Is(err, ErrPruned) || pe.Base != base {
			t.Fatalf("block %d: %v, want a PrunedError naming base %d", h, err, base)
		}
		if _, err := s.SeenCommit(h); !errors.Is(err, ErrPruned) {
			t.Fatalf("commit %d: %v", h, err)
		}
		b, _ := c.block(h)
		if _, err := s.Tx(ledger.HashTx(b.Txs[0])); !errors.Is(err, ErrNotFound) {
			t.Fatalf("tx of pruned block %d: %v", h, err)
		}
	}
	for _, h := range []uint64{500, 1000, 1500, base, heights} {
		checkHeight(t, s, c, h)
	}
	if _, err := s.Prune(heights+1, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("pruning the latest block away: %v", err)
	}
	save(t, s, c, heights+1)
	checkHeight(t, s, c, heights+1)
}

// TestPruneResumesAfterInterruption: a base recorded without its deletions
// (a crash mid-prune) refuses the heights at once, and the next Prune
// deletes them.
func TestPruneResumesAfterInterruption(t *testing.T) {
	c := newTestChain(t)
	dir := t.TempDir()
	s := open(t, dir)
	for h := uint64(1); h <= 30; h++ {
		save(t, s, c, h)
	}
	// What a crash right after the base marker leaves: m/base set, nothing
	// deleted, m/swept not advanced.
	s.mu.Lock()
	if err := s.db.Update(func(txn *badger.Txn) error { return set(txn, keyBase, be64(20)) }); err != nil {
		t.Fatal(err)
	}
	s.mu.Unlock()
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if _, err := s.BlockBytes(5); !errors.Is(err, ErrPruned) {
		t.Fatalf("block below the recorded base: %v", err)
	}
	if n, _ := s.KeyCount(); n['b'] != 30 {
		t.Fatalf("%d blocks before the sweep, want 30", n['b'])
	}
	if _, err := s.Prune(20, 0); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.KeyCount(); n['b'] != 11 {
		t.Fatalf("%d blocks after the sweep, want 11", n['b'])
	}
	checkHeight(t, s, c, 20)
}
