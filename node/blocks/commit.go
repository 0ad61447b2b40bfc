package blocks

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sort"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

// Commit is the certificate that block BlockID was decided at Height: the
// precommits for it, in round Round, of more than 2/3 of the voting power of
// the height's validator set. Every signature is over the same precommit
// (type, height, round, block id), so a signature only carries its signer;
// Vote rebuilds the full consensus.Vote.
type Commit struct {
	_          struct{} `cbor:",toarray"`
	Height     uint64
	Round      int32
	BlockID    consensus.BlockID
	Signatures []CommitSig // strictly ascending by Validator (the set's order)
}

// CommitSig is one validator's precommit signature.
type CommitSig struct {
	_         struct{}     `cbor:",toarray"`
	Validator keys.Address // consensus address
	Signature []byte       // ed25519 over keys.SignBytes(chainID, keys.DomainVote, vote.SignBytes())
}

// IsZero reports whether c is the empty commit (the last commit of block 1).
func (c *Commit) IsZero() bool {
	return c.Height == 0 && c.Round == 0 && c.BlockID.IsNil() && len(c.Signatures) == 0
}

func (c Commit) normalized() Commit {
	if len(c.Signatures) == 0 {
		c.Signatures = nil
	}
	return c
}

// EncodeCommit is the canonical encoding of c.
func EncodeCommit(c Commit) []byte { return codec.MustMarshal(c.normalized()) }

// Hash is sha256 of the canonical encoding (the header's LastCommitHash).
func (c *Commit) Hash() [32]byte { return sha256.Sum256(EncodeCommit(*c)) }

// DecodeCommit parses an encoded commit (as EncodeCommit writes it) and
// runs ValidateBasic.
func DecodeCommit(raw []byte) (Commit, error) {
	var c Commit
	if len(raw) > MaxCommitBytes {
		return c, fmt.Errorf("%w: commit is %d bytes, limit %d", ErrTooLarge, len(raw), MaxCommitBytes)
	}
	if err := codec.Unmarshal(raw, &c); err != nil {
		return Commit{}, fmt.Errorf("%w: commit: %v", ErrMalformed, err)
	}
	if c.Signatures != nil && len(c.Signatures) == 0 {
		return Commit{}, fmt.Errorf("%w: commit: empty list not encoded as null", ErrMalformed)
	}
	if err := c.ValidateBasic(); err != nil {
		return Commit{}, err
	}
	return c, nil
}

// ValidateBasic checks the form of a (non-zero) commit: a height, a round
// within consensus.MaxRound, a non-nil block ID, 1 to MaxCommitSigs
// signatures of 64 bytes each, signers strictly ascending (so none twice).
func (c *Commit) ValidateBasic() error {
	switch {
	case c.Height == 0:
		return fmt.Errorf("%w: commit height 0", ErrInvalidCommit)
	case c.Round < 0 || c.Round > consensus.MaxRound:
		return fmt.Errorf("%w: commit round %d", ErrInvalidCommit, c.Round)
	case c.BlockID.IsNil():
		return fmt.Errorf("%w: commit for the nil block", ErrInvalidCommit)
	case len(c.Signatures) == 0:
		return fmt.Errorf("%w: commit for height %d has no signatures", ErrInvalidCommit, c.Height)
	case len(c.Signatures) > MaxCommitSigs:
		return fmt.Errorf("%w: commit has %d signatures, limit %d", ErrTooLarge, len(c.Signatures), MaxCommitSigs)
	}
	for i, s := range c.Signatures {
		if len(s.Signature) != 64 {
			return fmt.Errorf("%w: signature %d (%s) is %d bytes, want 64", ErrInvalidCommit, i, s.Validator, len(s.Signature))
		}
		if i > 0 && bytes.Compare(c.Signatures[i-1].Validator[:], s.Validator[:]) >= 0 {
			return fmt.Errorf("%w: signers not in strictly ascending order at %d (%s after %s)", ErrInvalidCommit, i, s.Validator, c.Signatures[i-1].Validator)
		}
	}
	return nil
}

// Vote rebuilds the signed precommit of signature i.
func (c *Commit) Vote(i int) *consensus.Vote {
	s := c.Signatures[i]
	return &consensus.Vote{Type: consensus.Precommit, Height: c.Height, Round: c.Round, BlockID: c.BlockID, Validator: s.Validator, Signature: s.Signature}
}

// Signed reports whether validator a signed c.
func (c *Commit) Signed(a keys.Address) bool {
	i := sort.Search(len(c.Signatures), func(i int) bool { return bytes.Compare(c.Signatures[i].Validator[:], a[:]) >= 0 })
	return i < len(c.Signatures) && c.Signatures[i].Validator == a
}

// MakeCommit builds the commit of (height, round, id) from precommits (the
// consensus.Commit action's Precommits). Votes that are nil, not
// precommits, for another height, round or block, or without a 64-byte
// signature are left out, as is a second vote of the same validator.
// Signatures are not checked: the votes were verified before the Machine
// counted them (VerifyCommit checks them when a commit comes from a peer).
func MakeCommit(height uint64, round int32, id consensus.BlockID, precommits []*consensus.Vote) Commit {
	c := Commit{Height: height, Round: round, BlockID: id}
	seen := make(map[keys.Address]bool, len(precommits))
	for _, v := range precommits {
		if v == nil || v.Type != consensus.Precommit || v.Height != height || v.Round != round || v.BlockID != id || len(v.Signature) != 64 || seen[v.Validator] {
			continue
		}
		seen[v.Validator] = true
		c.Signatures = append(c.Signatures, CommitSig{Validator: v.Validator, Signature: bytes.Clone(v.Signature)})
	}
	sort.Slice(c.Signatures, func(i, j int) bool {
		return bytes.Compare(c.Signatures[i].Validator[:], c.Signatures[j].Validator[:]) < 0
	})
	return c
}

// VerifyCommit checks that c certifies blockID with vals, the validator set
// of c.Height: c is well formed and for blockID, every signer is in vals
// and counted once, every signature is a valid precommit signature for
// chainID, and the signers hold more than 2/3 of the total power
// (3*signed > 2*total, exact integers). All signatures are checked, not
// just enough of them: the ledger pays and slashes by who signed.
// The caller checks that c.Height is the height it expects.
func VerifyCommit(chainID string, vals *consensus.ValidatorSet, c Commit, blockID consensus.BlockID) error {
	return verifyCommit(chainID, vals, c, blockID, nil)
}

// verifyCommit is VerifyCommit; known(i), if set, says that signature i
// is already known to be valid (see VerifyCommitKnown).
func verifyCommit(chainID string, vals *consensus.ValidatorSet, c Commit, blockID consensus.BlockID, known func(i int) bool) error {
	if vals == nil {
		return fmt.Errorf("%w: no validator set", ErrInvalidCommit)
	}
	if err := c.ValidateBasic(); err != nil {
		return err
	}
	if c.BlockID != blockID {
		return fmt.Errorf("%w: commit for block %s at height %d, want block %s", ErrInvalidCommit, c.BlockID, c.Height, blockID)
	}
	counted := make([]bool, vals.Len())
	var signed int64
	for i := range c.Signatures {
		addr := c.Signatures[i].Validator
		idx, ok := vals.Index(addr)
		if !ok {
			return fmt.Errorf("%w: %s signed the commit of height %d", ErrUnknownSigner, addr, c.Height)
		}
		if counted[idx] {
			return fmt.Errorf("%w: %s signed the commit of height %d twice", ErrInvalidCommit, addr, c.Height)
		}
		counted[idx] = true
		val := vals.Validator(idx)
		if known != nil && known(i) {
			// the same signature over the same precommit, verified before
		} else if err := consensus.VerifySignature(chainID, val.PubKey, c.Vote(i)); err != nil {
			return fmt.Errorf("%w: precommit of %s at height %d: %v", ErrInvalidCommit, addr, c.Height, err)
		}
		signed += val.Power // total <= consensus.MaxTotalPower: no overflow
	}
	total := vals.TotalPower()
	if 3*signed <= 2*total { // 3*total fits in int64 (MaxTotalPower = MaxInt64/8)
		return fmt.Errorf("%w: height %d: signed power %d of total %d", ErrInsufficientPower, c.Height, signed, total)
	}
	return nil
}
