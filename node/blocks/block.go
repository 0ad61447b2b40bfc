package blocks

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Limits checked by Decode and ValidateBasic. They bound what a peer can
// make us decode and hash; the proposer's own, smaller limits (how much it
// reaps from the mempool) are the node's business.
const (
	// MaxBlockBytes bounds an encoded block.
	MaxBlockBytes = 16 << 20
	// MaxTxs bounds the transactions of a block.
	MaxTxs = 20_000
	// MaxEvidence bounds the evidence items of a block.
	MaxEvidence = 256
	// MaxEvidenceBytes bounds one encoded evidence item (two votes).
	MaxEvidenceBytes = 2 << 10
	// MaxCommitSigs bounds the signatures of a commit (the validator count).
	MaxCommitSigs = 10_000
	// MaxCommitBytes bounds an encoded commit on its own (DecodeCommit).
	MaxCommitBytes = 2 << 20
)

// Errors. Every error returned by Decode, ValidateBasic and VerifyCommit
// wraps one of these, so callers can tell a malformed block (penalise the
// peer that sent it) from one that is merely not for us.
var (
	ErrMalformed         = errors.New("blocks: malformed block")
	ErrTooLarge          = errors.New("blocks: block too large")
	ErrInvalidCommit     = errors.New("blocks: invalid commit")
	ErrInsufficientPower = errors.New("blocks: commit signed by 2/3 of voting power or less")
	ErrUnknownSigner     = errors.New("blocks: commit signer is not in the validator set")
)

// Header is what consensus agrees on: its hash is the block ID. It commits
// to the rest of the block through TxRoot, EvidenceHash and LastCommitHash.
type Header struct {
	_              struct{} `cbor:",toarray"`
	ChainID        string
	Height         uint64
	Time           int64             // unix nanoseconds
	LastBlockHash  consensus.BlockID // zero at height 1
	LastCommitHash [32]byte          // Commit.Hash of LastCommit; zero at height 1
	TxRoot         [32]byte          // TxRoot(Txs)
	AppHash        [32]byte          // ledger app hash after the previous block
	Proposer       keys.Address      // consensus address of the proposer
	ValidatorsHash [32]byte          // ValidatorsHash of the set deciding Height
	EvidenceHash   [32]byte          // EvidenceRoot(Evidence)
	// BeaconProof is the proposer's VRF proof over the previous beacon
	// (beacon.go); in the header so that the block ID commits to it.
	BeaconProof []byte
}

// Hash is the block ID: sha256 of the canonical encoding of h.
func (h *Header) Hash() consensus.BlockID {
	return sha256.Sum256(codec.MustMarshal(h))
}

// Block is a header and the body it commits to.
type Block struct {
	_          struct{} `cbor:",toarray"`
	Header     Header
	Txs        [][]byte // encoded ledger transactions, in execution order
	Evidence   [][]byte // encoded consensus.DuplicateVoteEvidence
	LastCommit Commit   // the commit of block Height-1; zero at height 1
}

// NewBlock fills the header's content hashes (TxRoot, EvidenceHash,
// LastCommitHash) from the body and returns the block. The slices are
// kept, not copied; empty ones are stored as nil (the canonical form).
func NewBlock(h Header, txs, evidence [][]byte, lastCommit Commit) *Block {
	b := &Block{Header: h, Txs: nilIfEmpty(txs), Evidence: nilIfEmpty(evidence), LastCommit: lastCommit.normalized()}
	b.Header.TxRoot = TxRoot(b.Txs)
	b.Header.EvidenceHash = EvidenceRoot(b.Evidence)
	if b.LastCommit.IsZero() {
		b.Header.LastCommitHash = [32]byte{}
	} else {
		b.Header.LastCommitHash = b.LastCommit.Hash()
	}
	return b
}

// Hash is the block ID (the header's hash).
func (b *Block) Hash() consensus.BlockID { return b.Header.Hash() }

// Size is the length of the block's encoding.
func (b *Block) Size() int { return len(Encode(b)) }

func emptyNotNil(s [][]byte) bool { return s != nil && len(s) == 0 }

func nilIfEmpty(s [][]byte) [][]byte {
	if len(s) == 0 {
		return nil
	}
	return s
}

// Encode is the canonical encoding of b. Empty lists are encoded as null,
// so a block has exactly one encoding whatever slices it was built with.
func Encode(b *Block) []byte {
	c := *b
	c.Txs, c.Evidence, c.LastCommit = nilIfEmpty(b.Txs), nilIfEmpty(b.Evidence), b.LastCommit.normalized()
	return codec.MustMarshal(&c)
}

// Decode parses an encoded block and runs ValidateBasic. It refuses input
// over MaxBlockBytes before decoding, and any encoding other than Encode's.
// It never panics.
func Decode(raw []byte) (*Block, error) {
	if len(raw) > MaxBlockBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), MaxBlockBytes)
	}
	b := new(Block)
	if err := codec.Unmarshal(raw, b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// codec.Unmarshal has checked that raw re-encodes to itself; what is
	// left is the one choice it allows, [] or null for an empty list.
	if emptyNotNil(b.Txs) || emptyNotNil(b.Evidence) || (b.LastCommit.Signatures != nil && len(b.LastCommit.Signatures) == 0) {
		return nil, fmt.Errorf("%w: empty list not encoded as null", ErrMalformed)
	}
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	return b, nil
}

// ValidateBasic checks everything that needs no state: the chain id's
// form, height and proposer present, sizes within the limits, the header's
// TxRoot, EvidenceHash and LastCommitHash equal to the body's, every
// evidence item decoding as duplicate-vote evidence for an earlier height,
// no transaction or evidence item twice, and the last commit well formed
// and for the previous height and LastBlockHash. Signatures are not checked
// here (VerifyCommit does that, given the validator set).
func (b *Block) ValidateBasic() error {
	h := &b.Header
	if err := ledger.ValidateChainID(h.ChainID); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case h.Height == 0:
		return fmt.Errorf("%w: height 0", ErrMalformed)
	case h.Proposer.IsZero():
		return fmt.Errorf("%w: height %d: no proposer", ErrMalformed, h.Height)
	case len(b.Txs) > MaxTxs:
		return fmt.Errorf("%w: height %d: %d transactions, limit %d", ErrTooLarge, h.Height, len(b.Txs), MaxTxs)
	case len(b.Evidence) > MaxEvidence:
		return fmt.Errorf("%w: height %d: %d evidence items, limit %d", ErrTooLarge, h.Height, len(b.Evidence), MaxEvidence)
	case len(h.BeaconProof) != BeaconProofSize:
		return fmt.Errorf("%w: height %d: beacon proof is %d bytes, want %d", ErrMalformed, h.Height, len(h.BeaconProof), BeaconProofSize)
	}
	total := 0
	for i, tx := range b.Txs {
		if len(tx) == 0 || len(tx) > ledger.MaxTxBytes {
			return fmt.Errorf("%w: height %d: tx %d is %d bytes (1 to %d)", ErrMalformed, h.Height, i, len(tx), ledger.MaxTxBytes)
		}
		total += len(tx)
	}
	if total > MaxBlockBytes {
		return fmt.Errorf("%w: height %d: transactions total %d bytes, limit %d", ErrTooLarge, h.Height, total, MaxBlockBytes)
	}
	hashes := hashAll(b.Txs)
	seen := make(map[[32]byte]int, len(hashes))
	for i, th := range hashes {
		if j, dup := seen[[32]byte(th)]; dup {
			return fmt.Errorf("%w: height %d: tx %d repeats tx %d", ErrMalformed, h.Height, i, j)
		}
		seen[[32]byte(th)] = i
	}
	if got := MerkleRoot(hashes); got != h.TxRoot {
		return fmt.Errorf("%w: height %d: tx root %x does not match the transactions (%x)", ErrMalformed, h.Height, h.TxRoot[:6], got[:6])
	}
	evSeen := make(map[[32]byte]int, len(b.Evidence))
	for i, raw := range b.Evidence {
		if j, dup := evSeen[sha256.Sum256(raw)]; dup {
			return fmt.Errorf("%w: height %d: evidence %d repeats evidence %d", ErrMalformed, h.Height, i, j)
		}
		evSeen[sha256.Sum256(raw)] = i
		if len(raw) > MaxEvidenceBytes {
			return fmt.Errorf("%w: height %d: evidence %d is %d bytes, limit %d", ErrTooLarge, h.Height, i, len(raw), MaxEvidenceBytes)
		}
		ev, err := consensus.DecodeDuplicateVoteEvidence(raw)
		if err != nil {
			return fmt.Errorf("%w: height %d: evidence %d: %v", ErrMalformed, h.Height, i, err)
		}
		if ev.Height() >= h.Height {
			return fmt.Errorf("%w: height %d: evidence %d is for height %d, not an earlier one", ErrMalformed, h.Height, i, ev.Height())
		}
	}
	if got := EvidenceRoot(b.Evidence); got != h.EvidenceHash {
		return fmt.Errorf("%w: height %d: evidence hash %x does not match the evidence (%x)", ErrMalformed, h.Height, h.EvidenceHash[:6], got[:6])
	}
	return b.validateLastCommit()
}

func (b *Block) validateLastCommit() error {
	h := &b.Header
	if h.Height == 1 {
		switch {
		case !h.LastBlockHash.IsNil():
			return fmt.Errorf("%w: height 1 with a last block hash", ErrMalformed)
		case !b.LastCommit.IsZero() || h.LastCommitHash != [32]byte{}:
			return fmt.Errorf("%w: height 1 with a last commit", ErrMalformed)
		}
		return nil
	}
	c := &b.LastCommit
	switch {
	case h.LastBlockHash.IsNil():
		return fmt.Errorf("%w: height %d: no last block hash", ErrMalformed, h.Height)
	case c.IsZero():
		return fmt.Errorf("%w: height %d: no last commit", ErrMalformed, h.Height)
	}
	if err := c.ValidateBasic(); err != nil {
		return fmt.Errorf("height %d: last commit: %w", h.Height, err)
	}
	switch {
	case c.Height != h.Height-1:
		return fmt.Errorf("%w: height %d: last commit is for height %d", ErrInvalidCommit, h.Height, c.Height)
	case c.BlockID != h.LastBlockHash:
		return fmt.Errorf("%w: height %d: last commit is for block %s, header says the last block is %s", ErrInvalidCommit, h.Height, c.BlockID, h.LastBlockHash)
	case c.Hash() != h.LastCommitHash:
		return fmt.Errorf("%w: height %d: last commit hash does not match the last commit", ErrMalformed, h.Height)
	}
	return nil
}
