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
