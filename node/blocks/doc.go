// Package blocks is inferd's block format: the header that consensus agrees
// on (its hash is the consensus.BlockID), the block body (transactions,
// duplicate-vote evidence, the commit of the previous block), the commit
// certificate and its verification against a validator set, and the
// translation of a block into the ledger's view of it (ToLedger).
//
// Everything that is hashed is the canonical CBOR of package codec. A block
// has exactly one accepted encoding: Decode refuses any other, so two peers
// holding the same block hold the same bytes. The header commits to the body
// through TxRoot, EvidenceHash and LastCommitHash (see docs/blocks.md).
//
// Threading model: the package holds no state. Functions are pure and safe
// for concurrent use; a *Block must not be modified while another goroutine
// reads it. EvidenceVerifier is stateless and deterministic, as the ledger
// requires. CheckEvidence applies the ledger's evidence rules ahead of a
// block (API submissions, gossip), reading a state the caller gives it.
package blocks
