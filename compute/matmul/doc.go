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
//
// Threading: backends hold no mutable state and are safe for concurrent use.
// CPU.MatMul starts its worker goroutines and waits for them before it
// returns; each worker writes its own rows of C, so the result never depends
// on scheduling.
package matmul
