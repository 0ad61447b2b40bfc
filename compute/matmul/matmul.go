// Package matmul multiplies int8 matrices exactly into int32.
//
// A Backend computes C = A * B where A is m x n, B is n x n and C is m x n,
// all row-major, every entry of C the exact sum of n int8 x int8 products.
// The sum is exact in int32 for n < 2^17 (|C[i][j]| <= n * 2^14), so every
// correct backend gives bit-identical results on every machine. m = n is
// the full challenge product; m < n serves the verifier, which recomputes a
// few rows of C.
//
// Two backends: Naive, the obvious triple loop kept as the reference for
// tests and benchmarks, and CPU, the fast pure-Go one (see cpu.go). A GPU
// backend can implement the same interface.
package matmul

import "fmt"

// Backend computes exact int8 matrix products.
type Backend interface {
	// Name identifies the backend ("naive", "cpu", ...).
	Name() string
	// MatMul sets c[i*n+j] = sum over p < n of a[i*n+p] * b[p*n+j] for
	// i < m and j < n. It panics unless len(a) == m*n, len(b) == n*n and
	// len(c) == m*n. It must be safe to call concurrently.
	MatMul(a []int8, m int, b []int8, n int, c []int32)
}

// MaxN is the largest n for which every entry of C fits an int32 exactly.
const MaxN = 1<<17 - 1

func checkDims(a []int8, m int, b []int8, n int, c []int32) {
	if n < 1 || n > MaxN || m < 0 || len(a) != m*n || len(b) != n*n || len(c) != m*n {
		panic(fmt.Sprintf("matmul: bad dimensions m=%d n=%d len(a)=%d len(b)=%d len(c)=%d",
			m, n, len(a), len(b), len(c)))
	}
}

// Naive is the reference backend: the plain triple loop, one dot product
// per entry. It is slow and obviously correct.
type Naive struct{}

// Name implements Backend.
func (Naive) Name() string { return "naive" }

// MatMul implements Backend.
func (Naive) MatMul(a []int8, m int, b []int8, n int, c []int32) {
	checkDims(a, m, b, n, c)
	for i := range m {
		for j := range n {
			var s int32
			for p := range n {
				s += int32(a[i*n+p]) * int32(b[p*n+j])
			}
			c[i*n+j] = s
		}
	}
}
