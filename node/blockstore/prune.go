package blockstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
)

// ErrPruned is wrapped by PrunedError: the height was stored once and has
// been pruned.
var ErrPruned = errors.New("blockstore: pruned")

// PrunedError is returned for a read of a pruned height.
type PrunedError struct {
	Height uint64 // the height asked for
	Base   uint64 // the oldest height kept without gaps
}

func (e *PrunedError) Error() string {
	return fmt.Sprintf("blockstore: height %d was pruned; blocks are kept from height %d", e.Height, e.Base)
}

// Is makes errors.Is(err, ErrPruned) true.
func (e *PrunedError) Is(target error) bool { return target == ErrPruned }

// Pruning markers: m/base is the oldest height kept without gaps (written
// first), m/swept how far deletion has got (advanced in the same
// transaction as each batch of deletions), m/every the keep_every of the
// last prune.
var (
	keyBase  = []byte("m/base")
	keySwept = []byte("m/swept")
	keyEvery = []byte("m/every")
)

// pruneBatch bounds the heights deleted per Badger transaction.
const pruneBatch = 64

func (s *Store) loadPruneMarkers(txn *badger.Txn) error {
	for _, m := range []struct {
		key []byte
		dst *uint64
	}{{keyBase, &s.base}, {keyEvery, &s.every}} {
		v, err := get(txn, m.key)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return err
		case len(v) != 8:
			return fmt.Errorf("%w: %s is %d bytes, want 8", ErrCorrupt, m.key, len(v))
		}
		*m.dst = binary.BigEndian.Uint64(v)
	}
	return nil
}

// Base is the oldest height kept without gaps (1, or 0 when empty, for a
// store never pruned).
func (s *Store) Base() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.base == 0 && s.height > 0 {
		return 1
	}
	return s.base
}

// prunedErr reports whether height h is pruned, and the error to return.
func (s *Store) prunedErr(h uint64) error {
	s.mu.RLock()
	base, every := s.base, s.every
	s.mu.RUnlock()
	if h == 0 || h >= base || every > 0 && h%every == 0 {
		return nil
	}
	return &PrunedError{Height: h, Base: base}
}

// Prune removes every height below base (blocks, seen commits, results,
// validator sets, hash and tx index entries), except, with keepEvery > 0,
// the heights that are multiples of keepEvery. The latest height is never
// pruned: base must be at most Height(). A base at or below the current one
// is a no-op, except that an interrupted prune is finished.
//
// Crash safety: the new base is recorded (fsynced) before anything is
// deleted, so reads below it are refused from then on; deletions go in
// batches, each in one transaction with the m/swept progress marker, so a
// prune interrupted by a crash leaves only undeleted, already-refused
// heights, which the next Prune deletes.
func (s *Store) Prune(base, keepEvery uint64) (int, error) {
	s.mu.Lock()
	switch {
	case base > s.height:
		s.mu.Unlock()
		return 0, fmt.Errorf("%w: prune below %d: the store is at %d and the latest block is never pruned", ErrInvalid, base, s.height)
	case base > s.base || keepEvery != s.every:
		if base < s.base {
			base = s.base
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			if err := set(txn, keyBase, be64(base)); err != nil {
				return err
			}
			return set(txn, keyEvery, be64(keepEvery))
		})
		if err != nil {
			s.mu.Unlock()
			return 0, fmt.Errorf("prune below %d: %w", base, err)
		}
		s.base, s.every = base, keepEvery
	}
	base, keepEvery = s.base, s.every
	s.mu.Unlock()

	var swept uint64 = 1
	if v, err := s.read(keySwept, "prune progress"); err == nil && len(v) == 8 {
		swept = binary.BigEndian.Uint64(v)
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	deleted := 0
	for from := swept; from < base; {
		to := min(from+pruneBatch, base)
		err := s.db.Update(func(txn *badger.Txn) error {
			for h := from; h < to; h++ {
				if keepEvery > 0 && h%keepEvery == 0 {
					continue
				}
				n, err := deleteHeight(txn, h)
				if err != nil {
					return err
				}
				deleted += n
			}
			return set(txn, keySwept, be64(to))
		})
		if err != nil {
			return deleted, fmt.Errorf("prune heights %d..%d: %w", from, to-1, err)
		}
		from = to
	}
	return deleted, nil
}

// deleteHeight deletes what SaveBlock and SaveValidators wrote for h and
// reports whether a block was there (1) or not (0).
func deleteHeight(txn *badger.Txn, h uint64) (int, error) {
	raw, err := get(txn, heightKey(pBlock, h))
	if errors.Is(err, ErrNotFound) {
		return 0, txn.Delete(heightKey(pVals, h))
	}
	if err != nil {
		return 0, err
	}
	b, err := blocks.Decode(raw)
	if err != nil {
		return 0, fmt.Errorf("%w: block %d: %v", ErrCorrupt, h, err)
	}
	for _, tx := range b.Txs {
		k := hashKey(pTx, ledger.HashTx(tx))
		v, err := get(txn, k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		// The first inclusion of a tx owns its index entry: delete it only
		// when it points here.
		if len(v) == 12 && binary.BigEndian.Uint64(v) == h {
			if err := txn.Delete(k); err != nil {
				return 0, err
			}
		}
	}
	for _, k := range [][]byte{hashKey(pHash, b.Hash()), heightKey(pBlock, h), heightKey(pCommit, h), heightKey(pResults, h), heightKey(pVals, h)} {
		if err := txn.Delete(k); err != nil {
			return 0, err
		}
	}
	return 1, nil
}

// Compact forces Badger's compactions and value-log garbage collection,
// which reclaim the space of pruned heights (Badger also runs them on its
// own). Slow on a large store.
func (s *Store) Compact() error {
	if err := s.db.Flatten(1); err != nil {
		return fmt.Errorf("compact block store: %w", err)
	}
	for {
		if err := s.db.RunValueLogGC(0.5); err != nil {
			if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
				return nil
			}
			return fmt.Errorf("compact block store: value log: %w", err)
		}
	}
}

// KeyCount counts the keys of each kind ('b', 'c', 'h', 't', 'r', 'v')
// currently stored: what pruning bounds. For tests and diagnostics.
func (s *Store) KeyCount() (map[byte]int, error) {
	out := map[byte]int{}
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if k := it.Item().Key(); len(k) > 0 && k[0] != 'm' {
				out[k[0]]++
			}
		}
		return nil
	})
	return out, err
}

// Bootstrap starts an empty store at block b (the height a state-synced
// node restored its state at) with the commit that finalized it: the block,
// its commit and hash index are stored, the height becomes b's and the
// base too, so heights below read as pruned. The block's tx results are
// unknown (they are not part of the state) and are not stored. The caller
// has verified b and seen.
func (s *Store) Bootstrap(b *blocks.Block, seen blocks.Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := b.Header.Height
	switch {
	case s.height != 0:
		return fmt.Errorf("%w: bootstrap at %d: the store already holds height %d", ErrInvalid, h, s.height)
	case seen.Height != h || seen.BlockID != b.Hash():
		return fmt.Errorf("%w: bootstrap block %d with a commit for height %d", ErrInvalid, h, seen.Height)
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, kv := range [][2][]byte{
			{heightKey(pBlock, h), blocks.Encode(b)}, {heightKey(pCommit, h), blocks.EncodeCommit(seen)},
			{hashKey(pHash, b.Hash()), be64(h)}, {keyBase, be64(h)}, {keySwept, be64(h)}, {keyEvery, be64(0)}, {keyHeight, be64(h)},
		} {
			if err := set(txn, kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bootstrap at block %d: %w", h, err)
	}
	s.height, s.base, s.every = h, h, 0
	return nil
}
