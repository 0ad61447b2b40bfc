package blocks

import (
	"errors"
	"fmt"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/staking"
)

// Why CheckEvidence refuses evidence that verifies (or whose validator is
// unknown). None of these is the sender's fault for sure (it may be late,
// or know a validator we do not yet), so gossip ignores rather than
// rejects them; consensus.ErrBadEvidence is always the sender's fault.
var (
	ErrUnknownValidator = errors.New("evidence names no known validator")
	ErrAlreadyPunished  = errors.New("the validator is already tombstoned for double signing")
	ErrEvidenceHeight   = errors.New("evidence height outside what the ledger accepts")
)

// CheckEvidence decodes raw and checks it as the ledger will when a block
// carrying it is applied at height next, reading the state in ctx (the
// state before next): the validator exists, both votes verify against its
// consensus key, the height is below next and within the staking module's
// max_evidence_age_blocks, and the validator is not tombstoned yet. The
// signature is checked before the punishable conditions, so that forged
// evidence is always ErrBadEvidence, whatever the state of its validator.
func CheckEvidence(ctx *ledger.Context, st *staking.Module, raw []byte, next uint64) (*consensus.DuplicateVoteEvidence, error) {
	ev, err := consensus.DecodeDuplicateVoteEvidence(raw)
	if err != nil {
		return nil, fmt.Errorf("%w (want the canonical CBOR of a consensus.DuplicateVoteEvidence)", err)
	}
	if enc := ev.Encode(); string(enc) != string(raw) {
		return nil, fmt.Errorf("%w: not the canonical encoding (the vote with the smaller block ID comes first)", consensus.ErrBadEvidence)
	}
	v, ok := st.ValidatorByConsAddr(ctx, ev.Validator())
	if !ok {
		return nil, fmt.Errorf("%w: %s has never been a validator of this chain", ErrUnknownValidator, ev.Validator())
	}
	if err := ev.Verify(ctx.ChainID, v.ConsPubKey); err != nil {
		return nil, fmt.Errorf("%w (checked against the consensus key of %s on chain %s; both votes must be exactly as that validator signed them)", err, ev.Validator(), ctx.ChainID)
	}
	p := st.Params(ctx)
	switch {
	case ev.Height() >= next:
		return nil, fmt.Errorf("%w: votes at height %d, not below the next block %d", ErrEvidenceHeight, ev.Height(), next)
	case next-ev.Height() > p.MaxEvidenceAgeBlocks:
		return nil, fmt.Errorf("%w: votes at height %d are more than max_evidence_age_blocks (%d) before the next block %d", ErrEvidenceHeight, ev.Height(), p.MaxEvidenceAgeBlocks, next)
	case v.Tombstoned:
		return nil, fmt.Errorf("%w: %s (operator %s)", ErrAlreadyPunished, ev.Validator(), v.Operator)
	}
	return ev, nil
}
