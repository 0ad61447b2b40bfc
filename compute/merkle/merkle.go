package merkle

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Hash is a SHA-256 digest.
type Hash = [32]byte

// ErrBadProof is returned when a proof does not lead to the root.
var ErrBadProof = errors.New("merkle: bad proof")

// LeafHash returns the leaf hash of row i.
func LeafHash(i int, row []int32) Hash {
	buf := make([]byte, 1+8+4*len(row))
	buf[0] = 0x00
	binary.BigEndian.PutUint64(buf[1:], uint64(i))
	for j, v := range row {
		binary.LittleEndian.PutUint32(buf[9+4*j:], uint32(v))
	}
	return sha256.Sum256(buf)
}

func nodeHash(l, r *Hash) Hash {
	var buf [65]byte
	buf[0] = 0x01
	copy(buf[1:33], l[:])
	copy(buf[33:], r[:])
	return sha256.Sum256(buf[:])
}

// Tree is a built Merkle tree over m leaves. levels[0] holds the leaf
// hashes; levels[h] the roots of the complete subtrees of 2^h leaves, plus,
// at the right edge, the root of a smaller incomplete subtree (RFC 6962's
// shape makes every level of the tree exactly this).
type Tree struct {
	levels [][]Hash
}

// FromRows builds the tree over the rows of C (m rows of n entries, row-major).
func FromRows(c []int32, m, n int) *Tree {
	if m < 1 || len(c) != m*n {
		panic(fmt.Sprintf("merkle: bad dimensions m=%d n=%d len=%d", m, n, len(c)))
	}
	leaves := make([]Hash, m)
	for i := range m {
		leaves[i] = LeafHash(i, c[i*n:(i+1)*n])
	}
	return FromLeaves(leaves)
}

// FromLeaves builds the tree over leaf hashes (which it keeps; the caller
// must not modify them).
func FromLeaves(leaves []Hash) *Tree {
	if len(leaves) == 0 {
		panic("merkle: empty tree")
	}
	levels := [][]Hash{leaves}
	for cur := leaves; len(cur) > 1; {
		next := make([]Hash, (len(cur)+1)/2)
		for i := 0; i+1 < len(cur); i += 2 {
			next[i/2] = nodeHash(&cur[i], &cur[i+1])
		}
		if len(cur)%2 == 1 {
			// The last node has no sibling at this height: RFC 6962 splits
			// at the largest power of two, so it rises unchanged.
			next[len(next)-1] = cur[len(cur)-1]
		}
		levels = append(levels, next)
		cur = next
	}
	return &Tree{levels: levels}
}

// Size returns the number of leaves.
func (t *Tree) Size() int { return len(t.levels[0]) }

// Root returns the tree head.
func (t *Tree) Root() Hash { return t.levels[len(t.levels)-1][0] }

// Proof is the inclusion proof of one leaf: the RFC 6962 audit path,
// siblings from the leaf upwards. It carries neither the leaf index nor the
// tree size: the verifier must supply both from what it knows (the index it
// asked for, the challenge size), since one path can be valid for several
// tree sizes.
type Proof []Hash

// Prove returns the inclusion proof of leaf i.
func (t *Tree) Prove(i int) Proof {
	if i < 0 || i >= t.Size() {
		panic(fmt.Sprintf("merkle: leaf %d out of range [0,%d)", i, t.Size()))
	}
	p := Proof{}
	idx := i
	for _, lvl := range t.levels[:len(t.levels)-1] {
		sib := idx ^ 1
		if sib < len(lvl) {
			p = append(p, lvl[sib])
		}
		idx /= 2
	}
	return p
}

// Verify checks that leaf is leaf index of a tree of size leaves with the
// given root (RFC 9162 section 2.1.3.2).
func Verify(root Hash, size, index int, leaf Hash, p Proof) error {
	if size <= 0 || index < 0 || index >= size {
		return fmt.Errorf("%w: index %d, size %d", ErrBadProof, index, size)
	}
	if len(p) > 64 {
		return fmt.Errorf("%w: path of %d hashes", ErrBadProof, len(p))
	}
	fn, sn := uint64(index), uint64(size-1)
	r := leaf
	for _, h := range p {
		if sn == 0 {
			return fmt.Errorf("%w: path too long", ErrBadProof)
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(&h, &r)
			if fn&1 == 0 {
				// Right edge: skip the levels where this node has no sibling.
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = nodeHash(&r, &h)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return fmt.Errorf("%w: path too short", ErrBadProof)
	}
	if r != root {
		return fmt.Errorf("%w: root mismatch", ErrBadProof)
	}
	return nil
}
