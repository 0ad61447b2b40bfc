// Package compute is the home of the compute contest's deterministic proof
// core (DESIGN.md section 7). It holds no code itself; the work is done by
// small sub-packages, each with one job:
//
//   - challenge: the seeded n x n int8 matrices A and B of a challenge and
//     the capacity tier table.
//   - matmul: exact int8 x int8 -> int32 matrix products behind a Backend
//     interface (a fast pure-Go CPU backend and a naive reference).
//   - merkle: the RFC 6962-style Merkle commitment over the rows of C = A*B,
//     with inclusion proofs.
//   - spotcheck: selection of the k rows to check from a later seed, and the
//     verifier that recomputes them and checks their proofs.
//
// All of it is pure and deterministic: no clock, no global randomness, no
// I/O. Only matmul's CPU backend starts goroutines, and they never change
// its result. See docs/compute.md for the specification.
package compute
