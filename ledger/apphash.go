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
// plus the 16 sibling hashes on its path: a few hundred bytes at a million
// keys. Updating after a block rehashes only the touched buckets and their
// paths. Keys beginning with metaPrefix (the ledger's own bookkeeping, such as
// the app hash itself) are outside the tree.
const (
	bucketBits = 16
	numBuckets = 1 << bucketBits
)

type leaf struct {
	keyHash  [32]byte
	leafHash [32]byte
}

type hashTree struct {
	buckets [numBuckets][]leaf
	nodes   [2 * numBuckets][32]byte // heap layout: root at 1, bucket b at numBuckets+b
	dirty   map[int]struct{}
}

func newHashTree() *hashTree {
	t := &hashTree{dirty: map[int]struct{}{}}
	t.rebuildNodes()
	return t
}

func (t *hashTree) update(key, value []byte, del bool) {
	kh := sha256.Sum256(key)
	b := int(kh[0])<<8 | int(kh[1])
	ls := t.buckets[b]
	i := sort.Search(len(ls), func(i int) bool { return bytes.Compare(ls[i].keyHash[:], kh[:]) >= 0 })
	found := i < len(ls) && ls[i].keyHash == kh
	switch {
	case del && found:
		ls = append(ls[:i], ls[i+1:]...)
	case del:
		return
	default:
		vh := sha256.Sum256(value)
		var buf [65]byte
		buf[0] = 0x00
		copy(buf[1:], kh[:])
		copy(buf[33:], vh[:])
		l := leaf{keyHash: kh, leafHash: sha256.Sum256(buf[:])}
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

func (t *hashTree) bucketHash(b int) [32]byte {
	ls := t.buckets[b]
	if len(ls) == 0 {
		return [32]byte{}
	}
	h := sha256.New()
	h.Write([]byte{0x01})
	for i := range ls {
		h.Write(ls[i].leafHash[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func (t *hashTree) nodeHash(i int) [32]byte {
	var buf [65]byte
	buf[0] = 0x02
	copy(buf[1:], t.nodes[2*i][:])
	copy(buf[33:], t.nodes[2*i+1][:])
	return sha256.Sum256(buf[:])
}

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
