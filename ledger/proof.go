package ledger

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger/store"
)

// Proofs of state (docs/light.md). A Proof shows that a key has a value, or
// is absent, in the state committed by the app hash of a height: it carries
// every leaf of the key's bucket (key hash and value hash, in key-hash
// order) and the 16 sibling hashes from the bucket to the root. A verifier
// recomputes the bucket hash from the leaves, the root from the siblings,
// and compares it with the app hash; package light does this, with no code
// shared with the generator below.
//
// Proofs at the latest height read the live tree. Proofs at any of the
// last ProofWindow heights overlay the undo log (each block's touched
// buckets as they were before it) on the live tree. Older heights, and any
// height after a restart, rebuild the tree of that height from the store:
// correct but O(keys); the last rebuilt tree is kept for the next proof at
// the same height.

// ProofWindow is how many recent heights are proven without a rebuild.
const ProofWindow = 64

// ErrNotProvable is returned for a key outside the app-hash tree (empty,
// or the ledger's own bookkeeping).
var ErrNotProvable = errors.New("ledger: key is not in the state commitment")

// Proof is a Merkle proof of one key against an app hash.
type Proof struct {
	_        struct{}    `cbor:",toarray"`
	Key      HexBytes    `json:"key"`
	Leaves   []ProofLeaf `json:"leaves"`   // the key's bucket, ascending by key hash
	Siblings []HexBytes  `json:"siblings"` // 16 hashes, bottom up: the bucket's sibling first
}

// ProofLeaf is one key of a bucket, as hashes.
type ProofLeaf struct {
	_         struct{} `cbor:",toarray"`
	KeyHash   HexBytes `json:"key_hash"`
	ValueHash HexBytes `json:"value_hash"`
}

// Size is the length of the proof's canonical encoding.
func (p *Proof) Size() int { return len(codec.MustMarshal(p)) }

// ProvenValue is a key's value at a height with its proof.
type ProvenValue struct {
	Height  uint64   `json:"height"`
	Key     HexBytes `json:"key"`
	Exists  bool     `json:"exists"`
	Value   HexBytes `json:"value"` // "" when absent (Exists tells an empty value from none)
	AppHash HexBytes `json:"app_hash"`
	Proof   Proof    `json:"proof"`
}

// undoEntry holds, for one committed height, every bucket that block
// changed, as it was before the block (so at height-1).
type undoEntry struct {
	height  uint64
	buckets map[int][]leaf
}

// Prove returns key's value at height (a committed height) with a proof
// against AppHashAt(height). The proof is checked against the recorded app
// hash before it is returned.
func (s *State) Prove(height uint64, key []byte) (*ProvenValue, error) {
	if len(key) == 0 || key[0] == metaPrefix[0] {
		return nil, fmt.Errorf("%w: %q", ErrNotProvable, key)
	}
	r, err := s.st.At(height)
	if err != nil {
		return nil, err
	}
	value, exists, err := r.Get(key)
	if err != nil {
		return nil, err
	}
	want, err := s.AppHashAt(height)
	if err != nil {
		return nil, err
	}
	kh := sha256.Sum256(key)
	ls, sib, ok := s.proveFromTree(height, bucketOf(kh))
	if !ok {
		t, err := s.rebuiltTree(height, r)
		if err != nil {
			return nil, err
		}
		ls, sib = proofPath(t.buckets[bucketOf(kh)], func(i int) [32]byte { return t.nodes[i] }, bucketOf(kh))
	}
	pv := &ProvenValue{Height: height, Key: bytes.Clone(key), Exists: exists, AppHash: want[:], Proof: Proof{Key: bytes.Clone(key)}}
	if exists {
		pv.Value = bytes.Clone(value)
	}
	for _, l := range ls {
		pv.Proof.Leaves = append(pv.Proof.Leaves, ProofLeaf{KeyHash: bytes.Clone(l.keyHash[:]), ValueHash: bytes.Clone(l.valueHash[:])})
	}
	for _, h := range sib {
		pv.Proof.Siblings = append(pv.Proof.Siblings, bytes.Clone(h[:]))
	}
	if got := selfCheckRoot(ls, sib, bucketOf(kh)); got != want {
		return nil, fmt.Errorf("ledger: proof of %q at height %d gives root %x, the recorded app hash is %x", key, height, got[:6], want[:6])
	}
	return pv, nil
}

// proveFromTree answers from the live tree and the undo log; false when
// the log does not reach back to height.
func (s *State) proveFromTree(height uint64, b int) ([]leaf, [bucketBits][32]byte, bool) {
	s.treeMu.Lock()
	defer s.treeMu.Unlock()
	if height > s.treeH {
		return nil, [bucketBits][32]byte{}, false
	}
	need := s.treeH - height // undo entries height+1..s.height
	if uint64(len(s.undo)) < need {
		return nil, [bucketBits][32]byte{}, false
	}
	entries := s.undo[uint64(len(s.undo))-need:]
	if need > 0 && entries[0].height != height+1 {
		return nil, [bucketBits][32]byte{}, false
	}
	t := s.tree
	old := map[int][]leaf{} // buckets as they were at height
	dirty := map[int]bool{} // nodes whose hash differs at height
	for _, e := range entries {
		for bk, ls := range e.buckets {
			if _, seen := old[bk]; seen {
				continue
			}
			old[bk] = ls
			for n := numBuckets + bk; n >= 1; n /= 2 {
				dirty[n] = true
			}
		}
	}
	memo := map[int][32]byte{}
	var nodeAt func(i int) [32]byte
	nodeAt = func(i int) [32]byte {
		if !dirty[i] {
			return t.nodes[i]
		}
		if h, ok := memo[i]; ok {
			return h
		}
		var h [32]byte
		if i >= numBuckets {
			h = bucketHashOf(old[i-numBuckets])
		} else {
			h = pairHash(nodeAt(2*i), nodeAt(2*i+1))
		}
		memo[i] = h
		return h
	}
	ls, present := old[b]
	if !present {
		ls = t.buckets[b]
	}
	ls, sib := proofPath(ls, nodeAt, b)
	return ls, sib, true
}

// proofPath copies the bucket's leaves and collects the siblings of its
// path, bottom up.
func proofPath(ls []leaf, nodeAt func(int) [32]byte, b int) ([]leaf, [bucketBits][32]byte) {
	var sib [bucketBits][32]byte
	n := numBuckets + b
	for d := 0; d < bucketBits; d++ {
		sib[d] = nodeAt(n ^ 1)
		n /= 2
	}
	return append([]leaf(nil), ls...), sib
}

func selfCheckRoot(ls []leaf, sib [bucketBits][32]byte, b int) [32]byte {
	h := bucketHashOf(ls)
	n := numBuckets + b
	for d := 0; d < bucketBits; d++ {
		if n%2 == 0 {
			h = pairHash(h, sib[d])
		} else {
			h = pairHash(sib[d], h)
		}
		n /= 2
	}
	return h
}

// recordUndo keeps the buckets block height changed, dropping entries
// older than ProofWindow. Called with treeMu held.
func (s *State) recordUndo(height uint64, saved map[int][]leaf) {
	if len(s.undo) > 0 && s.undo[len(s.undo)-1].height+1 != height {
		s.undo = s.undo[:0] // a gap (cannot happen in order): start over
	}
	s.undo = append(s.undo, undoEntry{height: height, buckets: saved})
	if len(s.undo) > ProofWindow {
		s.undo = append(s.undo[:0], s.undo[len(s.undo)-ProofWindow:]...)
	}
}

// rebuiltTree is the tree of height built from the store, kept for the
// next proof at the same height (a client proves several keys at one
// height); only the last one is kept.
func (s *State) rebuiltTree(height uint64, r store.Reader) (*hashTree, error) {
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	if s.rebuilt != nil && s.rebuiltH == height {
		return s.rebuilt, nil
	}
	t := newHashTree()
	if err := r.Iterate(nil, func(k, v []byte) bool {
		if len(k) > 0 && k[0] != metaPrefix[0] {
			t.update(k, v, false)
		}
		return true
	}); err != nil {
		return nil, fmt.Errorf("ledger: rebuild the state commitment of height %d: %w", height, err)
	}
	t.rebuildNodes()
	s.rebuilt, s.rebuiltH = t, height
	return t, nil
}
