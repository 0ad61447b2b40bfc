// Package merkle commits to the rows of a challenge product C with a
// Merkle tree in the shape of RFC 6962 (Certificate Transparency) section
// 2.1, and proves and verifies the inclusion of single rows.
//
//	leaf(i, row) = SHA-256(0x00 || u64be(i) || row[0] as int32 LE || ... || row[n-1] as int32 LE)
//	MTH({d0})    = d0 (a leaf hash)
//	MTH(D[0:m])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:m])), k the largest power of two < m
//
// The row index inside the leaf binds each row to its position, so a
// provider cannot answer a check of row i with a correct row j. The 0x00 and
// 0x01 prefixes separate leaves from interior nodes (second-preimage
// resistance). Trees of any size m >= 1 are supported; m need not be a power
// of two. Proofs are RFC 6962 audit paths, verified by the algorithm of
// RFC 9162 section 2.1.3.2.
//
// The package is pure; Tree is immutable once built and safe for concurrent
// readers.
package merkle
