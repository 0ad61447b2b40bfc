package ledger

import (
	"bytes"
	"crypto/sha256"
	"sort"
)

// The app hash is a two-level Merkle commitment to every state key:
//
//	leaf(k, v)  = sha256(0x00 || sha256(k) || sha256(v))
//	bucket(b)   = sha256(0x01 || leaf_1 || ... || leaf_n), leaves of the keys
//	              whose sha256(k) starts with the 16-bit b, ordered by sha256(k);
//	              32 zero bytes when the bucket is empty
//	node(l, r)  = sha256(0x02 || l || r) over the 65536 buckets
//	app hash    = the root node
//
// A proof that key k has value v (or is absent) is the leaves of k's bucket
// (each as its key hash and value hash, so that an absence can be checked)
// plus the 16 sibling hashes on its path: about 1.5 KB at a million keys
// (15 leaves on average); see proof.go and docs/light.md. Updating after a block rehashes only the touched buckets and their
// paths. Keys beginning with metaPrefix (the ledger's own bookkeeping, such as
// the app hash itself) are outside the tree.
const (
	bucketBits = 16
	numBuckets = 1 << bucketBits
)

// leaf is one key of a bucket: the hashes of its key and value (the leaf
// hash is computed from them when the bucket is rehashed, so that a proof
// can carry both and an absence proof can show every key hash).
type leaf struct {
	keyHash   [32]byte
	valueHash [32]byte
}

func (l *leaf) hash() [32]byte {
	var buf [65]byte
	buf[0] = 0x00
	copy(buf[1:], l.keyHash[:])
	copy(buf[33:], l.valueHash[:])
	return sha256.Sum256(buf[:])
}

type hashTree struct {
	buckets [numBuckets][]leaf
	nodes   [2 * numBuckets][32]byte // heap layout: root at 1, bucket b at numBuckets+b
	dirty   map[int]struct{}
	// saving, when set, receives a copy of each bucket before its first
	// change since saving was set (the undo log of proofs.go).
	saving map[int][]leaf
}

func newHashTree() *hashTree {
	t := &hashTree{dirty: map[int]struct{}{}}
	t.rebuildNodes()
	return t
}

func (t *hashTree) update(key, value []byte, del bool) {
	kh := sha256.Sum256(key)
	b := bucketOf(kh)
	ls := t.buckets[b]
	i := sort.Search(len(ls), func(i int) bool { return bytes.Compare(ls[i].keyHash[:], kh[:]) >= 0 })
	found := i < len(ls) && ls[i].keyHash == kh
	if t.saving != nil && (found || !del) {
		if _, ok := t.saving[b]; !ok {
			t.saving[b] = append([]leaf(nil), ls...)
		}
	}
	switch {
	case del && found:
		ls = append(ls[:i], ls[i+1:]...)
	case del:
		return
	default:
		l := leaf{keyHash: kh, valueHash: sha256.Sum256(value)}
		if found {
			ls[i] = l
		} else {
			ls = append(ls, leaf{})
			copy(ls[i+1:], ls[i:])
			ls[i] = l
		}
	}
	t.buckets[b] = ls
	t.dirty[b] = struct{}{}
}

func (t *hashTree) bucketHash(b int) [32]byte { return bucketHashOf(t.buckets[b]) }

func bucketHashOf(ls []leaf) [32]byte {
	if len(ls) == 0 {
		return [32]byte{}
	}
	h := sha256.New()
	h.Write([]byte{0x01})
	for i := range ls {
		lh := ls[i].hash()
		h.Write(lh[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func (t *hashTree) nodeHash(i int) [32]byte { return pairHash(t.nodes[2*i], t.nodes[2*i+1]) }

func pairHash(l, r [32]byte) [32]byte {
	var buf [65]byte
	buf[0] = 0x02
	copy(buf[1:], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

func bucketOf(kh [32]byte) int { return int(kh[0])<<8 | int(kh[1]) }

func (t *hashTree) rebuildNodes() {
	for b := 0; b < numBuckets; b++ {
		t.nodes[numBuckets+b] = t.bucketHash(b)
	}
	for i := numBuckets - 1; i >= 1; i-- {
		t.nodes[i] = t.nodeHash(i)
	}
	clear(t.dirty)
}

// root rehashes the dirty buckets and their paths and returns the root.
func (t *hashTree) root() [32]byte {
	if len(t.dirty) == 0 {
		return t.nodes[1]
	}
	level := make([]int, 0, len(t.dirty))
	for b := range t.dirty {
		t.nodes[numBuckets+b] = t.bucketHash(b)
		level = append(level, (numBuckets+b)/2)
	}
	clear(t.dirty)
	sort.Ints(level)
	for len(level) > 0 && level[0] >= 1 {
		next := level[:0]
		prev := -1
		for _, n := range level {
			if n == prev {
				continue
			}
			prev = n
			t.nodes[n] = t.nodeHash(n)
			if n > 1 {
				next = append(next, n/2)
			}
		}
		level = next
	}
	return t.nodes[1]
}
