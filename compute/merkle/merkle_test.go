package merkle

import (
	"crypto/sha256"
	"errors"
	"math/bits"
	"slices"
	"testing"
)

// mth is RFC 6962's recursive definition, the reference for Tree.
func mth(d []Hash) Hash {
	if len(d) == 1 {
		return d[0]
	}
	k := largestPow2Below(len(d))
	l, r := mth(d[:k]), mth(d[k:])
	return nodeHash(&l, &r)
}

// path is RFC 6962's recursive PATH(m, D[n]).
func path(m int, d []Hash) []Hash {
	if len(d) == 1 {
		return nil
	}
	k := largestPow2Below(len(d))
	if m < k {
		return append(path(m, d[:k]), mth(d[k:]))
	}
	return append(path(m-k, d[k:]), mth(d[:k]))
}

func largestPow2Below(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

func leaves(m int) []Hash {
	d := make([]Hash, m)
	for i := range d {
		d[i] = LeafHash(i, []int32{int32(i), -int32(i), 7})
	}
	return d
}

func TestTreeMatchesRFC6962(t *testing.T) {
	for m := 1; m <= 70; m++ {
		d := leaves(m)
		tr := FromLeaves(d)
		if tr.Root() != mth(d) {
			t.Fatalf("m=%d: root differs from RFC 6962 MTH", m)
		}
		for i := range m {
			p := tr.Prove(i)
			want := path(i, d)
			if len(p) != len(want) {
				t.Fatalf("m=%d i=%d: path length %d, want %d", m, i, len(p), len(want))
			}
			for j := range want {
				if p[j] != want[j] {
					t.Fatalf("m=%d i=%d: path[%d] differs", m, i, j)
				}
			}
			if err := Verify(tr.Root(), m, i, d[i], p); err != nil {
				t.Fatalf("m=%d i=%d: %v", m, i, err)
			}
		}
	}
}

func TestLeafEncoding(t *testing.T) {
	// 0x00 || u64be(5) || int32 LE entries
	want := sha256.Sum256([]byte{0, 0, 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	if LeafHash(5, []int32{1, -1}) != want {
		t.Fatal("leaf encoding changed")
	}
}

type tampered struct {
	what        string
	size, index int
	p           Proof
}

func TestTamperedProofsRejected(t *testing.T) {
	for _, m := range []int{1, 2, 5, 8, 13, 64} {
		d := leaves(m)
		tr := FromLeaves(d)
		root := tr.Root()
		for i := range m {
			good := tr.Prove(i)
			var bad []tampered
			for j := range good {
				p := clone(good)
				p[j][0] ^= 1
				bad = append(bad, tampered{"flipped hash", m, i, p})
			}
			if len(good) > 0 {
				bad = append(bad, tampered{"truncated", m, i, clone(good)[:len(good)-1]})
			}
			bad = append(bad, tampered{"extended", m, i, append(clone(good), root)})
			if m > 1 {
				// Another leaf's index (with this leaf's path).
				bad = append(bad, tampered{"other index", m, (i + 1) % m, good})
			}
			bad = append(bad, tampered{"index out of range", m, m, good},
				tampered{"negative index", m, -1, good},
				tampered{"zero size", 0, i, good})
			for _, b := range bad {
				if err := Verify(root, b.size, b.index, d[i], b.p); !errors.Is(err, ErrBadProof) {
					t.Fatalf("m=%d i=%d %s: err = %v, want ErrBadProof", m, i, b.what, err)
				}
			}
			other := LeafHash(i, []int32{1, 2, 3})
			if err := Verify(root, m, i, other, good); !errors.Is(err, ErrBadProof) {
				t.Fatalf("m=%d i=%d: wrong leaf accepted", m, i)
			}
			r2 := root
			r2[31] ^= 0x80
			if err := Verify(r2, m, i, d[i], good); !errors.Is(err, ErrBadProof) {
				t.Fatalf("m=%d i=%d: wrong root accepted", m, i)
			}
		}
	}
}

func clone(p Proof) Proof { return append(Proof(nil), p...) }

func TestFromRows(t *testing.T) {
	c := []int32{1, 2, 3, 4, 5, 6}
	tr := FromRows(c, 3, 2)
	want := mth([]Hash{LeafHash(0, c[0:2]), LeafHash(1, c[2:4]), LeafHash(2, c[4:6])})
	if tr.Root() != want || tr.Size() != 3 {
		t.Fatal("FromRows root mismatch")
	}
}

// FuzzVerify: proofs arrive from the network; Verify must never panic and
// must accept only the real path of the real leaf.
func FuzzVerify(f *testing.F) {
	f.Add(5, 2, []byte{1, 2, 3})
	f.Add(1, 0, []byte{})
	f.Add(64, 63, make([]byte, 32*6))
	f.Add(-3, 7, make([]byte, 33))
	d := leaves(13)
	tr := FromLeaves(d)
	f.Fuzz(func(t *testing.T, size, index int, raw []byte) {
		var p Proof
		for len(raw) >= 32 && len(p) < 80 {
			p = append(p, Hash(raw[:32]))
			raw = raw[32:]
		}
		err := Verify(tr.Root(), size, index, d[0], p)
		if err == nil && !(size == 13 && index == 0 && slices.Equal(p, tr.Prove(0))) {
			t.Fatalf("accepted size=%d index=%d path of %d", size, index, len(p))
		}
	})
}
