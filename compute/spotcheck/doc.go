// Package spotcheck is the row spot-check protocol of a compute challenge:
// the provider's side (Solve: compute C = A*B and commit to its rows;
// Answer: open the selected rows) and the verifier's side (Select: pick k
// distinct rows from a later seed; Verify: check the openings against the
// commitment and recompute the rows from the challenge seed).
//
// A provider that computed only a fraction f of the rows correctly passes
// Verify with probability C(f*n, k) / C(n, k) <= f^k (k distinct rows drawn
// uniformly; see docs/compute.md).
//
// The package is pure and deterministic; the only goroutines are those of the
// matmul backend, which never affect results.
package spotcheck
