package challenge

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxN is the largest accepted n. Every entry of A*B is a sum of n products
// of int8s, |C[i][j]| <= n * 128 * 128 = n * 2^14, which fits an int32 for
// n < 2^17; MaxN stays one power of two below that.
const MaxN = 1 << 16

// Tiers is the capacity tier table: tier t challenges are Tiers[t] x Tiers[t].
// Work per challenge is 2n^3 operations, so each tier is 8x the one below.
var tiers = [...]int{256, 512, 1024, 2048, 4096, 8192}

// NumTiers is the number of capacity tiers.
const NumTiers = len(tiers)

// ErrBadTier is returned for a tier outside [0, NumTiers).
var ErrBadTier = errors.New("challenge: unknown capacity tier")

// ErrBadSize is returned for n outside [1, MaxN].
var ErrBadSize = errors.New("challenge: matrix size out of range")

// TierN returns the matrix size of capacity tier t.
func TierN(t int) (int, error) {
	if t < 0 || t >= NumTiers {
		return 0, fmt.Errorf("%w: %d", ErrBadTier, t)
	}
	return tiers[t], nil
}

// Ops returns the operation count credited for an n x n challenge: 2n^3
// (one multiply and one add per term of each of the n^2 dot products).
func Ops(n int) uint64 {
	u := uint64(n)
	return 2 * u * u * u
}

// Domain-separation labels. Changing any of them changes every challenge.
const (
	labelSeed = "inferd/compute/v1/seed"
	labelA    = "inferd/compute/v1/A"
	labelB    = "inferd/compute/v1/B"
)

// ProviderSeed derives the seed of one provider's challenge from a block hash
// and the provider's address bytes:
// SHA-256(labelSeed || blockHash || provider). Providers in the same epoch
// and tier thus get different matrices and cannot share one product.
func ProviderSeed(blockHash [32]byte, provider []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(labelSeed))
	h.Write(blockHash[:])
	h.Write(provider)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Challenge is one matrix-multiplication challenge. The zero value is not
// valid; use New.
type Challenge struct {
	seed [32]byte
	n    int
	keyA [32]byte // SHA-256(labelA || seed || u64be(n))
	keyB [32]byte // SHA-256(labelB || seed || u64be(n))
}

// New returns the challenge of size n for seed.
func New(seed [32]byte, n int) (Challenge, error) {
	if n < 1 || n > MaxN {
		return Challenge{}, fmt.Errorf("%w: %d", ErrBadSize, n)
	}
	return Challenge{seed: seed, n: n, keyA: matrixKey(labelA, seed, n), keyB: matrixKey(labelB, seed, n)}, nil
}

// Seed returns the challenge seed.
func (c Challenge) Seed() [32]byte { return c.seed }

// N returns the matrix size.
func (c Challenge) N() int { return c.n }

func matrixKey(label string, seed [32]byte, n int) [32]byte {
	var buf [len(labelA) + 32 + 8]byte
	m := copy(buf[:], label)
	m += copy(buf[m:], seed[:])
	binary.BigEndian.PutUint64(buf[m:], uint64(n))
	return sha256.Sum256(buf[:m+8])
}

// stream fills dst with the byte stream
// SHA-256(key || u32be(index) || u32be(0)) || SHA-256(key || u32be(index) || u32be(1)) || ...
// truncated to len(dst), each byte read as a two's-complement int8.
func stream(key *[32]byte, index int, dst []int8) {
	var msg [40]byte
	copy(msg[:32], key[:])
	binary.BigEndian.PutUint32(msg[32:], uint32(index))
	for ctr := 0; len(dst) > 0; ctr++ {
		binary.BigEndian.PutUint32(msg[36:], uint32(ctr))
		block := sha256.Sum256(msg[:])
		m := min(len(dst), len(block))
		for i := range m {
			dst[i] = int8(block[i])
		}
		dst = dst[m:]
	}
}

// RowA writes row i of A (A[i][0..n)) into dst, which must have length n.
func (c Challenge) RowA(i int, dst []int8) {
	c.check(i, dst)
	stream(&c.keyA, i, dst)
}

// ColB writes column j of B (B[0..n)[j]) into dst, which must have length n.
func (c Challenge) ColB(j int, dst []int8) {
	c.check(j, dst)
	stream(&c.keyB, j, dst)
}

func (c Challenge) check(i int, dst []int8) {
	if c.n == 0 {
		panic("challenge: zero Challenge")
	}
	if i < 0 || i >= c.n || len(dst) != c.n {
		panic(fmt.Sprintf("challenge: index %d or buffer length %d out of range for n=%d", i, len(dst), c.n))
	}
}

// A returns the whole of A, row-major: A[i][p] is at index i*n+p.
func (c Challenge) A() []int8 {
	n := c.n
	a := make([]int8, n*n)
	for i := range n {
		c.RowA(i, a[i*n:(i+1)*n])
	}
	return a
}

// RowsA returns the rows idx of A, row-major, one after another
// (len(idx) x n).
func (c Challenge) RowsA(idx []int) []int8 {
	n := c.n
	a := make([]int8, len(idx)*n)
	for r, i := range idx {
		c.RowA(i, a[r*n:(r+1)*n])
	}
	return a
}

// B returns the whole of B, row-major: B[p][j] is at index p*n+j. It is
// generated column by column (as ColB) and transposed.
func (c Challenge) B() []int8 {
	n := c.n
	b := make([]int8, n*n)
	// Generate a strip of columns, then write it out row by row, so the
	// transpose touches b sequentially.
	const strip = 32
	buf := make([]int8, strip*n)
	for j0 := 0; j0 < n; j0 += strip {
		w := min(strip, n-j0)
		for jj := range w {
			c.ColB(j0+jj, buf[jj*n:(jj+1)*n])
		}
		for p := range n {
			row := b[p*n+j0 : p*n+j0+w]
			for jj := range row {
				row[jj] = buf[jj*n+p]
			}
		}
	}
	return b
}
