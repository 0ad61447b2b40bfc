// Package store is the narrow, versioned key-value interface under the
// ledger. A Store holds one version of the state per committed height;
// Commit writes a height atomically (all of its changes or none), and At
// reads the state as it was at any committed height. Implementations: Mem
// (this package, for unit tests) and badgerstore (Badger v4 on disk).
//
// Implementations are safe for concurrent readers; Commit calls are
// serialised by the caller (the ledger applies one block at a time).
package store

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// Errors returned by stores.
var (
	ErrUnknownHeight = errors.New("store: height not committed")
	ErrOutOfOrder    = errors.New("store: commit height out of order")
	// ErrPruned is wrapped by PrunedError: the height was committed but
	// its version has been pruned away.
	ErrPruned = errors.New("store: height pruned")
)

// PrunedError is returned by At for a height below the oldest kept one.
type PrunedError struct {
	Height uint64 // the height asked for
	Oldest uint64 // the oldest height still readable
}

func (e *PrunedError) Error() string {
	return fmt.Sprintf("store: height %d was pruned; the oldest kept height is %d", e.Height, e.Oldest)
}

// Is makes errors.Is(err, ErrPruned) true.
func (e *PrunedError) Is(target error) bool { return target == ErrPruned }

// Pruner is a store that can drop the versions of old heights. Prune keeps
// every height from oldest up to the latest readable; it never removes the
// latest height. Oldest reports the oldest readable height (0 and false
// when nothing was ever pruned).
type Pruner interface {
	Prune(oldest uint64) error
	Oldest() (uint64, bool)
}

// Change is one write of a commit: a set, or a delete when Delete is true.
type Change struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// Reader reads one version of the state. A Reader may be used by one
// goroutine at a time; open one per goroutine.
type Reader interface {
	// Get returns the value of key, and false when it is absent.
	Get(key []byte) ([]byte, bool, error)
	// Iterate calls fn for each key with the prefix in ascending byte
	// order until fn returns false. fn must not keep k or v.
	Iterate(prefix []byte, fn func(k, v []byte) bool) error
}

// Store is a versioned key-value store.
type Store interface {
	// Latest is the last committed height and false if nothing was committed.
	Latest() (uint64, bool)
	// At returns a reader of the state as committed at height.
	At(height uint64) (Reader, error)
	// Commit writes changes as the state of height, atomically and durably.
	// height must be Latest()+1, or any height when the store is empty.
	Commit(height uint64, changes []Change) error
	Close() error
}

// CheckNext verifies that height may be committed after latest.
func CheckNext(latest uint64, has bool, height uint64) error {
	if has && height != latest+1 {
		return fmt.Errorf("%w: committing %d after %d", ErrOutOfOrder, height, latest)
	}
	return nil
}

// Mem is the in-memory twin of the Badger store, for unit tests.
type Mem struct {
	mu     sync.RWMutex
	keys   map[string][]version
	latest uint64
	has    bool
	sorted []string // keys in order; rebuilt lazily
	dirty  bool
}

type version struct {
	height uint64
	value  []byte
	del    bool
}

// NewMem returns an empty in-memory store.
func NewMem() *Mem { return &Mem{keys: map[string][]version{}} }

// Latest implements Store.
func (m *Mem) Latest() (uint64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.latest, m.has
}

// Commit implements Store.
func (m *Mem) Commit(height uint64, changes []Change) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := CheckNext(m.latest, m.has, height); err != nil {
		return err
	}
	for _, c := range changes {
		k := string(c.Key)
		vs, ok := m.keys[k]
		if !ok {
			m.dirty = true
		}
		v := version{height: height, del: c.Delete}
		if !c.Delete {
			v.value = bytes.Clone(c.Value)
		}
		if n := len(vs); n > 0 && vs[n-1].height == height {
			vs[n-1] = v
		} else {
			vs = append(vs, v)
		}
		m.keys[k] = vs
	}
	m.latest, m.has = height, true
	return nil
}

// At implements Store.
func (m *Mem) At(height uint64) (Reader, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.has || height > m.latest {
		return nil, fmt.Errorf("%w: %d", ErrUnknownHeight, height)
	}
	return memReader{m: m, height: height}, nil
}

// Close implements Store.
func (m *Mem) Close() error { return nil }

type memReader struct {
	m      *Mem
	height uint64
}

func (r memReader) Get(key []byte) ([]byte, bool, error) {
	r.m.mu.RLock()
	defer r.m.mu.RUnlock()
	return lookup(r.m.keys[string(key)], r.height)
}

func lookup(vs []version, h uint64) ([]byte, bool, error) {
	i := sort.Search(len(vs), func(i int) bool { return vs[i].height > h }) - 1
	if i < 0 || vs[i].del {
		return nil, false, nil
	}
	return vs[i].value, true, nil
}

func (r memReader) Iterate(prefix []byte, fn func(k, v []byte) bool) error {
	r.m.mu.Lock()
	if r.m.dirty {
		r.m.sorted = r.m.sorted[:0]
		for k := range r.m.keys {
			r.m.sorted = append(r.m.sorted, k)
		}
		sort.Strings(r.m.sorted)
		r.m.dirty = false
	}
	p := string(prefix)
	start := sort.SearchStrings(r.m.sorted, p)
	type kv struct {
		k string
		v []byte
	}
	var out []kv
	for _, k := range r.m.sorted[start:] {
		if len(k) < len(p) || k[:len(p)] != p {
			break
		}
		if v, ok, _ := lookup(r.m.keys[k], r.height); ok {
			out = append(out, kv{k, v})
		}
	}
	r.m.mu.Unlock()
	for _, e := range out {
		if !fn([]byte(e.k), e.v) {
			break
		}
	}
	return nil
}
