// Package badgerstore implements store.Store on Badger v4 in managed mode:
// Badger's own multi-version concurrency control keeps one version of every
// key per committed height (commit timestamp = height+1), so reading the
// state at any height is a read transaction at that timestamp.
//
// A height is committed in one Badger transaction together with the marker
// that records it as the latest, with SyncWrites on: after a crash the store
// holds exactly the heights whose commit returned (or, at most, also the one
// in flight), never part of one. It is the only package under ledger/ that
// imports Badger.
//
// Pruning (Prune) moves Badger's discard timestamp up to the oldest kept
// height: compactions then keep, of every key, only its newest version at or
// below that height (deleted keys vanish) and every version above it. The
// oldest kept height is recorded (m/oldest) before the discard timestamp
// moves, so a crash at any point leaves a store that refuses exactly the
// heights that compaction may have dropped, and loses nothing it still
// reports readable.
package badgerstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/inferd/inferd/ledger/store"
)

// Key spaces inside Badger: state keys and the store's own metadata.
const (
	statePrefix = 's'
	metaLatest  = "m/latest"
	metaOldest  = "m/oldest"
)

// Options tune the store. The zero value is the production default.
type Options struct {
	// NoSync skips fsync on commit (benchmarks and tests only).
	NoSync bool
	// SmallMemory lowers Badger's caches for tests that open many stores.
	SmallMemory bool
}

// Store is a Badger-backed store.Store.
type Store struct {
	db     *badger.DB
	mu     sync.Mutex
	latest uint64
	has    bool
	oldest uint64 // oldest readable height when pruned
	pruned bool
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, o Options) (*Store, error) {
	opts := badger.DefaultOptions(dir).
		WithSyncWrites(!o.NoSync).
		// One version at or below the discard timestamp (the oldest kept
		// height), every version above it; see Prune.
		WithNumVersionsToKeep(1).
		WithCompactL0OnClose(true).
		WithLogger(nil).
		WithMemTableSize(64 << 20)
	if o.SmallMemory {
		opts = opts.WithMemTableSize(16 << 20).WithBlockCacheSize(8 << 20).WithIndexCacheSize(4 << 20).WithNumMemtables(2).WithValueLogFileSize(64 << 20)
	}
	db, err := badger.OpenManaged(opts)
	if err != nil {
		return nil, fmt.Errorf("open state store in %s: %w", dir, err)
	}
	s := &Store{db: db}
	txn := db.NewTransactionAt(math.MaxUint64, false)
	defer txn.Discard()
	item, err := txn.Get([]byte(metaLatest))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		db.Close()
		return nil, fmt.Errorf("read latest height in %s: %w", dir, err)
	default:
		v, err := item.ValueCopy(nil)
		if err != nil || len(v) != 8 {
			db.Close()
			return nil, fmt.Errorf("state store in %s: latest-height marker is corrupt (%d bytes, %v)", dir, len(v), err)
		}
		s.latest, s.has = binary.BigEndian.Uint64(v), true
	}
	item, err = txn.Get([]byte(metaOldest))
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		db.Close()
		return nil, fmt.Errorf("read oldest height in %s: %w", dir, err)
	default:
		v, err := item.ValueCopy(nil)
		if err != nil || len(v) != 8 {
			db.Close()
			return nil, fmt.Errorf("state store in %s: oldest-height marker is corrupt (%d bytes, %v)", dir, len(v), err)
		}
		s.oldest, s.pruned = binary.BigEndian.Uint64(v), true
		db.SetDiscardTs(ts(s.oldest))
	}
	return s, nil
}

// Oldest implements store.Pruner.
func (s *Store) Oldest() (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oldest, s.pruned
}

// Prune implements store.Pruner: heights below oldest become unreadable
// and their versions are dropped by later compactions. oldest must not be
// above the latest height; a value at or below the current oldest is a
// no-op. The marker is written (fsynced) before Badger may discard
// anything.
func (s *Store) Prune(oldest uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.has {
		return errors.New("prune: nothing committed")
	}
	if oldest > s.latest {
		return fmt.Errorf("prune: oldest kept height %d is above the latest %d; the latest state is never pruned", oldest, s.latest)
	}
	if s.pruned && oldest <= s.oldest || !s.pruned && oldest == 0 {
		return nil
	}
	txn := s.db.NewTransactionAt(math.MaxUint64, true)
	defer txn.Discard()
	if err := txn.Set([]byte(metaOldest), binary.BigEndian.AppendUint64(nil, oldest)); err != nil {
		return fmt.Errorf("prune to %d: %w", oldest, err)
	}
	if err := txn.CommitAt(ts(s.latest), nil); err != nil {
		return fmt.Errorf("prune to %d: %w", oldest, err)
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("prune to %d: %w", oldest, err)
	}
	s.oldest, s.pruned = oldest, true
	s.db.SetDiscardTs(ts(oldest))
	return nil
}

// Compact forces the compactions that drop pruned versions (Badger runs
// them on its own as the tree grows) and garbage-collects the value log.
// It is slow on a large store; pruning does not need it to be correct.
func (s *Store) Compact() error {
	if err := s.db.Flatten(1); err != nil {
		return fmt.Errorf("compact state store: %w", err)
	}
	for {
		if err := s.db.RunValueLogGC(0.5); err != nil {
			if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
				return nil
			}
			return fmt.Errorf("compact state store: value log: %w", err)
		}
	}
}

// Versions counts the stored versions of state keys (every version Badger
// still holds, visible or not), and the distinct keys among them: what
// pruning should bound. For tests and operators' diagnostics.
func (s *Store) Versions() (versions, keys int, err error) {
	txn := s.db.NewTransactionAt(math.MaxUint64, false)
	defer txn.Discard()
	opts := badger.DefaultIteratorOptions
	opts.AllVersions, opts.PrefetchValues = true, false
	opts.Prefix = []byte{statePrefix}
	it := txn.NewIterator(opts)
	defer it.Close()
	var last []byte
	for it.Rewind(); it.Valid(); it.Next() {
		versions++
		if k := it.Item().Key(); string(k) != string(last) {
			keys++
			last = append(last[:0], k...)
		}
	}
	return versions, keys, nil
}

// Latest implements store.Store.
func (s *Store) Latest() (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latest, s.has
}

func ts(height uint64) uint64 { return height + 1 }

func stateKey(k []byte) []byte {
	out := make([]byte, 1+len(k))
	out[0] = statePrefix
	copy(out[1:], k)
	return out
}

// Commit implements store.Store.
func (s *Store) Commit(height uint64, changes []store.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := store.CheckNext(s.latest, s.has, height); err != nil {
		return err
	}
	marker := binary.BigEndian.AppendUint64(nil, height)
	txn := s.db.NewTransactionAt(math.MaxUint64, true)
	defer txn.Discard()
	err := apply(txn, changes)
	if err == nil {
		err = txn.Set([]byte(metaLatest), marker)
	}
	if errors.Is(err, badger.ErrTxnTooBig) {
		// Only a huge genesis gets here. A write batch is not atomic, but
		// the latest-height marker is written after all of it, so a crash
		// leaves a store that reports nothing committed at this height.
		txn.Discard()
		if err := s.commitBatch(height, changes, marker); err != nil {
			return err
		}
		s.latest, s.has = height, true
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit height %d: %w", height, err)
	}
	if err := txn.CommitAt(ts(height), nil); err != nil {
		return fmt.Errorf("commit height %d: %w", height, err)
	}
	s.latest, s.has = height, true
	return nil
}

func apply(txn *badger.Txn, changes []store.Change) error {
	for _, c := range changes {
		var err error
		if c.Delete {
			err = txn.Delete(stateKey(c.Key))
		} else {
			err = txn.Set(stateKey(c.Key), c.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) commitBatch(height uint64, changes []store.Change, marker []byte) error {
	wb := s.db.NewWriteBatchAt(ts(height))
	for _, c := range changes {
		var err error
		if c.Delete {
			err = wb.Delete(stateKey(c.Key))
		} else {
			err = wb.Set(stateKey(c.Key), c.Value)
		}
		if err != nil {
			wb.Cancel()
			return fmt.Errorf("commit height %d: %w", height, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("commit height %d: %w", height, err)
	}
	txn := s.db.NewTransactionAt(math.MaxUint64, true)
	defer txn.Discard()
	if err := txn.Set([]byte(metaLatest), marker); err != nil {
		return err
	}
	if err := txn.CommitAt(ts(height), nil); err != nil {
		return fmt.Errorf("commit height %d: %w", height, err)
	}
	return s.db.Sync()
}

// At implements store.Store.
func (s *Store) At(height uint64) (store.Reader, error) {
	s.mu.Lock()
	latest, has, oldest, pruned := s.latest, s.has, s.oldest, s.pruned
	s.mu.Unlock()
	if !has || height > latest {
		return nil, fmt.Errorf("%w: %d", store.ErrUnknownHeight, height)
	}
	if pruned && height < oldest {
		return nil, &store.PrunedError{Height: height, Oldest: oldest}
	}
	// In managed mode a read-only transaction holds no resources that
	// Discard must release, so the reader keeps one for all its reads.
	return reader{txn: s.db.NewTransactionAt(ts(height), false)}, nil
}

// Close implements store.Store.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the Badger handle for size reporting in benchmarks.
func (s *Store) DB() *badger.DB { return s.db }

// reader reads one height. Like a Badger transaction, it is for one
// goroutine at a time.
type reader struct {
	txn *badger.Txn
}

func (r reader) Get(key []byte) ([]byte, bool, error) {
	item, err := r.txn.Get(stateKey(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

func (r reader) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	txn := r.txn
	opts := badger.DefaultIteratorOptions
	opts.Prefix = stateKey(prefix)
	it := txn.NewIterator(opts)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if !fn(item.Key()[1:], v) {
			return nil
		}
	}
	return nil
}
