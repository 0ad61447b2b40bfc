package consensus

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// ErrBadEvidence is returned by DuplicateVoteEvidence.Verify.
var ErrBadEvidence = errors.New("consensus: invalid duplicate-vote evidence")

// DuplicateVoteEvidence proves that one validator signed two different votes
// of the same type at the same height and round. It is canonical: VoteA has
// the smaller block ID (bytewise), so a pair has exactly one encoding.
type DuplicateVoteEvidence struct {
	_     struct{} `cbor:",toarray"`
	VoteA Vote
	VoteB Vote
}

// NewDuplicateVoteEvidence orders a and b canonically. It does not verify.
func NewDuplicateVoteEvidence(a, b *Vote) *DuplicateVoteEvidence {
	if bytes.Compare(a.BlockID[:], b.BlockID[:]) > 0 {
		a, b = b, a
	}
	return &DuplicateVoteEvidence{VoteA: *a, VoteB: *b}
}

// Height is the height of the equivocation.
func (e *DuplicateVoteEvidence) Height() uint64 { return e.VoteA.Height }

// Validator is the address of the equivocating validator.
func (e *DuplicateVoteEvidence) Validator() keys.Address { return e.VoteA.Validator }

// Encode is the canonical CBOR encoding.
func (e *DuplicateVoteEvidence) Encode() []byte { return codec.MustMarshal(e) }

// DecodeDuplicateVoteEvidence parses canonical CBOR; it does not verify
// signatures (call Verify with the validator's key for that).
func DecodeDuplicateVoteEvidence(b []byte) (*DuplicateVoteEvidence, error) {
	e := new(DuplicateVoteEvidence)
	if err := codec.Unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEvidence, err)
	}
	return e, nil
}

// Verify checks the evidence deterministically: both votes well formed, same
// type, height, round and validator, different block IDs in canonical order,
// pub is the validator's key and both signatures are valid for chainID. The
// caller (the ledger) must check that pub belonged to a validator bonded at
// Height() and that the evidence is not too old or already punished.
func (e *DuplicateVoteEvidence) Verify(chainID string, pub keys.PubKey) error {
	a, b := &e.VoteA, &e.VoteB
	if err := a.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: vote A: %v", ErrBadEvidence, err)
	}
	if err := b.ValidateBasic(); err != nil {
		return fmt.Errorf("%w: vote B: %v", ErrBadEvidence, err)
	}
	switch {
	case a.Type != b.Type || a.Height != b.Height || a.Round != b.Round:
		return fmt.Errorf("%w: votes at different type/height/round", ErrBadEvidence)
	case a.Validator != b.Validator:
		return fmt.Errorf("%w: votes of different validators", ErrBadEvidence)
	case bytes.Compare(a.BlockID[:], b.BlockID[:]) >= 0:
		return fmt.Errorf("%w: block IDs equal or not in canonical order", ErrBadEvidence)
	}
	if err := VerifySignature(chainID, pub, a); err != nil {
		return fmt.Errorf("%w: vote A: %v", ErrBadEvidence, err)
	}
	if err := VerifySignature(chainID, pub, b); err != nil {
		return fmt.Errorf("%w: vote B: %v", ErrBadEvidence, err)
	}
	return nil
}

// Evidence is what the ledger is given to check misbehaviour
// deterministically; *DuplicateVoteEvidence implements it.
type Evidence interface {
	// Height is the height of the misbehaviour.
	Height() uint64
	// Validator is the address of the validator to punish.
	Validator() keys.Address
	// Verify checks the evidence against the validator's key.
	Verify(chainID string, pub keys.PubKey) error
	// Encode is the canonical encoding (to gossip and include in blocks).
	Encode() []byte
}

var _ Evidence = (*DuplicateVoteEvidence)(nil)
