// Package challenge generates the matrices of a compute challenge from a
// 32-byte seed, deterministically and portably.
//
// A challenge is (seed, n). A is n x n int8, generated row by row; B is
// n x n int8, generated column by column; each row of A and each column of B
// is an independent stream, so a verifier can produce exactly the part it
// needs. The generator is SHA-256 in counter mode (specified in
// docs/compute.md), which any language can reimplement from the text.
//
// The package is pure: no goroutines, no global state; every function is safe
// for concurrent use.
package challenge
