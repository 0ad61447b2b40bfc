package matmul

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func randMat(r *rand.Rand, rows, cols int) []int8 {
	m := make([]int8, rows*cols)
	for i := range m {
		m[i] = int8(r.Uint32())
	}
	return m
}

func fill(v int8, size int) []int8 {
	m := make([]int8, size)
	for i := range m {
		m[i] = v
	}
	return m
}

func equal(t *testing.T, name string, got, want []int32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: entry %d = %d, want %d", name, i, got[i], want[i])
		}
	}
}

// TestCPUMatchesNaive checks the fast backend bit-exactly against the
// reference on random sizes, including ones that are not multiples of the
// micro-tile (4 x 6), the flush interval (63) or the k block (252).
func TestCPUMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	sizes := []int{1, 2, 3, 4, 5, 6, 7, 11, 17, 62, 63, 64, 65, 100, 127, 251, 252, 253, 300}
	for range 8 {
		sizes = append(sizes, 1+r.IntN(200))
	}
	for _, n := range sizes {
		for _, m := range []int{n, 1 + r.IntN(n), 1} {
			a := randMat(r, m, n)
			b := randMat(r, n, n)
			want := make([]int32, m*n)
			Naive{}.MatMul(a, m, b, n, want)
			for _, w := range []int{1, 2, 3} {
				got := make([]int32, m*n)
				for i := range got {
					got[i] = -1 // MatMul must overwrite, not add
				}
				CPU{Workers: w}.MatMul(a, m, b, n, got)
				equal(t, fmt.Sprintf("n=%d m=%d workers=%d", n, m, w), got, want)
			}
		}
	}
}

// TestExtremes drives every lane to its bound: all -128 (each product is
// +2^14, the largest) and mixed -128/127 (the most negative products), over
// more than one k block so the flushes and block sums are exercised.
// TestCPUMatchesNaiveWide covers sizes past one column block (64 panels =
// 384 columns) and several k blocks (252 steps), with few rows to keep the
// naive product cheap, plus one full square product.
func TestCPUMatchesNaiveWide(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, c := range [][2]int{{385, 5}, {449, 9}, {777, 6}, {1031, 3}, {400, 400}} {
		n, m := c[0], c[1]
		a := randMat(r, m, n)
		b := randMat(r, n, n)
		want := make([]int32, m*n)
		Naive{}.MatMul(a, m, b, n, want)
		got := make([]int32, m*n)
		CPU{}.MatMul(a, m, b, n, got)
		equal(t, fmt.Sprintf("n=%d m=%d", n, m), got, want)
	}
}

func TestExtremes(t *testing.T) {
	for _, n := range []int{63, 64, 126, 127, 505} {
		cases := map[string][2][]int8{
			"min*min": {fill(-128, n*n), fill(-128, n*n)},
			"min*max": {fill(-128, n*n), fill(127, n*n)},
			"max*max": {fill(127, n*n), fill(127, n*n)},
		}
		for name, ab := range cases {
			want := make([]int32, n*n)
			Naive{}.MatMul(ab[0], n, ab[1], n, want)
			got := make([]int32, n*n)
			CPU{}.MatMul(ab[0], n, ab[1], n, got)
			equal(t, fmt.Sprintf("%s n=%d", name, n), got, want)
		}
	}
	// Alternating signs across the three lanes of a word.
	n := 130
	a := fill(-128, n*n)
	b := make([]int8, n*n)
	for i := range b {
		b[i] = [3]int8{-128, 127, -128}[i%3]
	}
	want := make([]int32, n*n)
	Naive{}.MatMul(a, n, b, n, want)
	got := make([]int32, n*n)
	CPU{}.MatMul(a, n, b, n, got)
	equal(t, "alternating", got, want)
}

func TestBadDimensionsPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic on bad dimensions")
		}
	}()
	CPU{}.MatMul(make([]int8, 4), 2, make([]int8, 4), 2, make([]int32, 3))
}

func benchMatMul(bn *testing.B, be Backend, n int) {
	r := rand.New(rand.NewPCG(1, 2))
	a := randMat(r, n, n)
	b := randMat(r, n, n)
	c := make([]int32, n*n)
	bn.ResetTimer()
	for bn.Loop() {
		be.MatMul(a, n, b, n, c)
	}
	ops := 2 * float64(n) * float64(n) * float64(n)
	bn.ReportMetric(ops*float64(bn.N)/bn.Elapsed().Seconds()/1e9, "GOPS")
}

// The sizes are 1024, 2048 and 4096, the CPU backend against the
// triple loop in the same run:
//
//	go test -run '^$' -bench 'CPU$|Naive' -benchtime 1x ./compute/matmul/
//
// (the triple loop at 4096 takes about a minute and a half).
func BenchmarkCPU(b *testing.B) {
	for _, n := range []int{512, 1024, 2048, 4096} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchMatMul(b, CPU{}, n) })
	}
}

func BenchmarkCPU1Worker(b *testing.B) {
	for _, n := range []int{512, 1024} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchMatMul(b, CPU{Workers: 1}, n) })
	}
}

func BenchmarkNaive(b *testing.B) {
	for _, n := range []int{512, 1024, 2048, 4096} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchMatMul(b, Naive{}, n) })
	}
}
