package ledger

import (
	"fmt"

	"github.com/inferd/inferd/ledger/store"
)

// AppHashOf computes the app hash of the state r reads, from scratch (the
// same commitment State keeps incrementally), and returns it with the app
// hash the state records for itself (zero when absent). State sync uses it
// to check a restored state before trusting it.
func AppHashOf(r store.Reader) (computed, recorded [32]byte, err error) {
	t := newHashTree()
	if err := r.Iterate(nil, func(k, v []byte) bool {
		if len(k) == 0 || k[0] != metaPrefix[0] {
			t.update(k, v, false)
		}
		return true
	}); err != nil {
		return computed, recorded, fmt.Errorf("ledger: hash the state: %w", err)
	}
	t.rebuildNodes()
	computed = t.root()
	v, ok, err := r.Get(keyMetaAppHash)
	if err != nil {
		return computed, recorded, err
	}
	if ok && len(v) == 32 {
		copy(recorded[:], v)
	}
	return computed, recorded, nil
}

// MetaAppHashKey is the key under which the state records its own app hash
// (outside the hashed keys), for tools that build a state by hand.
func MetaAppHashKey() []byte { return append([]byte(nil), keyMetaAppHash...) }
