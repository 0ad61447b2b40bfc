package blocks

import (
	"fmt"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// EvidenceKindDuplicateVote is the ledger.Evidence kind of a
// consensus.DuplicateVoteEvidence.
const EvidenceKindDuplicateVote = "duplicate_vote"

// ValidatorsHash is the header's ValidatorsHash of a set: the set's Hash
// (addresses, keys and powers, not proposer priorities). A nil set hashes
// to zero.
func ValidatorsHash(vals *consensus.ValidatorSet) [32]byte {
	if vals == nil {
		return [32]byte{}
	}
	return vals.Hash()
}

// ToLedger reduces b to what the ledger applies. lastVals is the validator
// set that signed b.LastCommit (the set of height b.Height-1; nil at height
// 1): LastCommit lists every member of it, in the set's order, with whether
// it signed. Evidence becomes ledger.Evidence of kind "duplicate_vote";
// its Time is b's time (consensus evidence carries no clock), Raw the
// encoded consensus evidence. b must have passed ValidateBasic and its
// last commit VerifyCommit with lastVals, and its beacon proof
// VerifyBeacon: ToLedger checks only that every signer belongs to lastVals,
// and takes the VRF output from the proof without verifying it again.
func ToLedger(b *Block, lastVals *consensus.ValidatorSet) (*ledger.Block, error) {
	h := &b.Header
	out, err := beaconOutput(h)
	if err != nil {
		return nil, err
	}
	lb := &ledger.Block{Height: h.Height, Time: h.Time, Proposer: h.Proposer, Txs: b.Txs, BeaconOutput: out}
	if h.Height > 1 {
		lb.LastBlockHash = append([]byte(nil), h.LastBlockHash[:]...)
	}
	if !b.LastCommit.IsZero() {
		if lastVals == nil {
			return nil, fmt.Errorf("%w: block %d has a last commit but no validator set was given", ErrUnknownSigner, h.Height)
		}
		for _, s := range b.LastCommit.Signatures {
			if _, ok := lastVals.Index(s.Validator); !ok {
				return nil, fmt.Errorf("%w: %s signed the last commit of block %d", ErrUnknownSigner, s.Validator, h.Height)
			}
		}
		lb.LastCommit = make([]ledger.VoteInfo, lastVals.Len())
		for i := range lb.LastCommit {
			a := lastVals.Validator(i).Address
			lb.LastCommit[i] = ledger.VoteInfo{Validator: a, Signed: b.LastCommit.Signed(a)}
		}
	}
	for i, raw := range b.Evidence {
		ev, err := consensus.DecodeDuplicateVoteEvidence(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: block %d: evidence %d: %v", ErrMalformed, h.Height, i, err)
		}
		lb.Evidence = append(lb.Evidence, ledger.Evidence{
			Kind: EvidenceKindDuplicateVote, Validator: ev.Validator(), Height: ev.Height(), Time: h.Time, Raw: raw,
		})
	}
	return lb, nil
}

// EvidenceVerifier is the ledger.EvidenceVerifier backed by consensus: it
// decodes Raw as consensus.DuplicateVoteEvidence, checks that it names the
// same validator and height as the ledger.Evidence around it, and verifies
// both votes against pub for chainID. Stateless and deterministic.
type EvidenceVerifier struct{}

var _ ledger.EvidenceVerifier = EvidenceVerifier{}

// VerifyEvidence implements ledger.EvidenceVerifier.
func (EvidenceVerifier) VerifyEvidence(chainID string, ev ledger.Evidence, pub keys.PubKey) error {
	if ev.Kind != EvidenceKindDuplicateVote {
		return fmt.Errorf("%w: unknown evidence kind %q", consensus.ErrBadEvidence, ev.Kind)
	}
	dv, err := consensus.DecodeDuplicateVoteEvidence(ev.Raw)
	if err != nil {
		return err
	}
	switch {
	case dv.Validator() != ev.Validator:
		return fmt.Errorf("%w: evidence names %s, votes are by %s", consensus.ErrBadEvidence, ev.Validator, dv.Validator())
	case dv.Height() != ev.Height:
		return fmt.Errorf("%w: evidence says height %d, votes are at %d", consensus.ErrBadEvidence, ev.Height, dv.Height())
	}
	return dv.Verify(chainID, pub)
}
