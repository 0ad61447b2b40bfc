package blocks

import "crypto/sha256"

// Domain-separation prefixes of the Merkle tree (RFC 6962, section 2.1): a
// leaf can never be mistaken for an inner node, so no second preimage can
// be built by presenting an inner node as a leaf.
const (
	leafPrefix  = 0x00
	innerPrefix = 0x01
)

// MerkleRoot is the RFC 6962 Merkle Tree Hash of items:
//
//	MTH({})      = sha256()
//	MTH({d0})    = sha256(0x00 || d0)
//	MTH(D[0:n])  = sha256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
//
// where k is the largest power of two smaller than n. The tree is
// unbalanced on the right, never padded, so lists of different lengths
// have different roots.
func MerkleRoot(items [][]byte) [32]byte {
	if len(items) == 0 {
		return sha256.Sum256(nil)
	}
	// Bottom-up over a level array gives the same tree as the recursive
	// definition: pairing left to right and carrying an odd last node up
	// unchanged builds exactly the split at the largest power of two.
	level := make([][32]byte, len(items))
	buf := make([]byte, 0, 1+64)
	for i, it := range items {
		buf = append(append(buf[:0], leafPrefix), it...)
		level[i] = sha256.Sum256(buf)
	}
	for len(level) > 1 {
		next := make([][32]byte, 0, (len(level)+1)/2)
		for i := 0; i+1 < len(level); i += 2 {
			buf = append(buf[:0], innerPrefix)
			buf = append(buf, level[i][:]...)
			buf = append(buf, level[i+1][:]...)
			next = append(next, sha256.Sum256(buf))
		}
		if len(level)%2 == 1 {
			next = append(next, level[len(level)-1])
		}
		level = next
	}
	return level[0]
}

// TxRoot is the Merkle root over the transactions' hashes: leaf i is
// sha256(tx_i) (the ledger's TxHash), so a light client holding a tx hash
// can be given an inclusion proof without the other transactions.
func TxRoot(txs [][]byte) [32]byte {
	return MerkleRoot(hashAll(txs))
}

// EvidenceRoot is the Merkle root over sha256 of each encoded evidence.
func EvidenceRoot(evs [][]byte) [32]byte {
	return MerkleRoot(hashAll(evs))
}

func hashAll(items [][]byte) [][]byte {
	out := make([][]byte, len(items))
	for i, it := range items {
		h := sha256.Sum256(it)
		out[i] = h[:]
	}
	return out
}

// TxProof proves that the transaction at Index of a block with Total
// transactions is under the block's TxRoot: Path is the RFC 6962 audit path
// (section 2.1.1), sibling hashes from the leaf up.
type TxProof struct {
	_     struct{} `cbor:",toarray"`
	Index uint64
	Total uint64
	Path  [][32]byte
}

// NewTxProof builds the inclusion proof of txs[i]. It panics if i is out of
// range (a caller bug).
func NewTxProof(txs [][]byte, i int) TxProof {
	if i < 0 || i >= len(txs) {
		panic("blocks: tx proof index out of range")
	}
	return TxProof{Index: uint64(i), Total: uint64(len(txs)), Path: auditPath(hashAll(txs), i)}
}

func auditPath(items [][]byte, m int) [][32]byte {
	n := len(items)
	if n <= 1 {
		return nil
	}
	k := 1
	for k*2 < n {
		k *= 2
	}
	if m < k {
		return append(auditPath(items[:k], m), MerkleRoot(items[k:]))
	}
	return append(auditPath(items[k:], m-k), MerkleRoot(items[:k]))
}

// Verify reports whether the tx with hash txHash (ledger.HashTx) is under
// root at p.Index, following RFC 9162 section 2.1.3.2. Inclusion is sound
// on its own (leaf and inner hashes are domain-separated); the position is
// certain only to a verifier that knows Total from elsewhere (the block's
// tx count), as the root does not commit to it separately.
func (p TxProof) Verify(root [32]byte, txHash [32]byte) bool {
	if p.Index >= p.Total {
		return false
	}
	r := sha256.Sum256(append([]byte{leafPrefix}, txHash[:]...))
	fn, sn := p.Index, p.Total-1
	buf := make([]byte, 0, 65)
	for _, sib := range p.Path {
		if sn == 0 {
			return false
		}
		buf = append(buf[:0], innerPrefix)
		if fn&1 == 1 || fn == sn {
			buf = append(append(buf, sib[:]...), r[:]...)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			buf = append(append(buf, r[:]...), sib[:]...)
		}
		r = sha256.Sum256(buf)
		fn >>= 1
		sn >>= 1
	}
	return sn == 0 && r == root
}
