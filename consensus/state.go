package consensus

import (
	"errors"
	"fmt"
	"time"

	"github.com/inferd/inferd/codec"
)

// ErrDoubleSign is returned by the signing guard for a message that conflicts
// with, or goes back behind, the last signed one.
var ErrDoubleSign = errors.New("consensus: refusing to sign: conflicts with the last signed message")

// SignedRecord identifies the last message a validator signed: enough for the
// guard to refuse anything that could conflict with it.
type SignedRecord struct {
	_        struct{} `cbor:",toarray"`
	Height   uint64
	Round    int32
	Step     Step
	BlockID  BlockID
	POLRound int32
}

// RecordOf is the record of m.
func RecordOf(m Message) SignedRecord {
	h, r, s := m.HRS()
	rec := SignedRecord{Height: h, Round: r, Step: s, POLRound: -1}
	switch m := m.(type) {
	case *Proposal:
		rec.BlockID, rec.POLRound = m.BlockID, m.POLRound
	case *Vote:
		rec.BlockID = m.BlockID
	}
	return rec
}

// Allows is the signing guard: a validator may sign m only if m's (height,
// round, step) is after the record's, or equal with identical content (a
// re-send after a restart). The zero record allows everything.
func (s SignedRecord) Allows(m Message) error {
	if s.Height == 0 {
		return nil
	}
	h, r, st := m.HRS()
	switch {
	case h != s.Height:
		if h < s.Height {
			return fmt.Errorf("%w: height %d < %d", ErrDoubleSign, h, s.Height)
		}
		return nil
	case r != s.Round:
		if r < s.Round {
			return fmt.Errorf("%w: round %d < %d at height %d", ErrDoubleSign, r, s.Round, h)
		}
		return nil
	case st != s.Step:
		if st < s.Step {
			return fmt.Errorf("%w: step %s after %s at %d/%d", ErrDoubleSign, st, s.Step, h, r)
		}
		return nil
	}
	if RecordOf(m) != s {
		return fmt.Errorf("%w: different content at %d/%d/%s", ErrDoubleSign, h, r, st)
	}
	return nil
}

// State is what a validator persists (fsync) before a message it signed
// leaves the process: where it is, its lock and valid value, and the last
// message it signed. Restoring it with NewMachine resumes the validator
// without it ever signing a conflicting message.
type State struct {
	_           struct{} `cbor:",toarray"`
	Height      uint64
	Round       int32
	Step        Step
	LockedRound int32
	LockedBlock BlockID
	ValidRound  int32
	ValidBlock  BlockID
	LastSigned  SignedRecord
	// ValidPOL are the signed prevotes of ValidRound for ValidBlock (the
	// proof-of-lock). Restored with the State, they let this validator
	// re-propose its valid value, and its peers accept it, after a restart:
	// without them a lock held by more than 1/3 of stake could never be
	// released again (Tendermint's WAL replays received messages for this).
	ValidPOL []Vote
}

// ValidateBasic checks what a State read back from disk must satisfy
// before a Machine resumes from it: a height, a round within MaxRound, a
// step of a round, lock and valid rounds of -1 or a round not after the
// current one, at most MaxValidators proof-of-lock prevotes, and a last
// signed record that is either empty or as sane. A Machine never persists
// anything else, so a State that fails is damage (a negative round made
// Start index out of range; one near 2^31 would have spent billions of
// proposer increments).
func (s *State) ValidateBasic() error {
	switch {
	case s.Height == 0:
		return fmt.Errorf("%w: state for height 0", ErrMalformed)
	case s.Round < 0 || s.Round > MaxRound:
		return fmt.Errorf("%w: state round %d not in 0..%d", ErrMalformed, s.Round, MaxRound)
	case s.Step < StepPropose || s.Step > StepPrecommit:
		return fmt.Errorf("%w: state step %d", ErrMalformed, s.Step)
	case s.LockedRound < -1 || s.LockedRound > s.Round:
		return fmt.Errorf("%w: locked round %d with round %d", ErrMalformed, s.LockedRound, s.Round)
	case s.ValidRound < -1 || s.ValidRound > s.Round:
		return fmt.Errorf("%w: valid round %d with round %d", ErrMalformed, s.ValidRound, s.Round)
	case len(s.ValidPOL) > MaxValidators:
		return fmt.Errorf("%w: %d proof-of-lock prevotes, limit %d", ErrMalformed, len(s.ValidPOL), MaxValidators)
	}
	if ls := s.LastSigned; ls.Height != 0 {
		switch {
		case ls.Round < 0 || ls.Round > MaxRound:
			return fmt.Errorf("%w: last signed round %d not in 0..%d", ErrMalformed, ls.Round, MaxRound)
		case ls.Step < StepPropose || ls.Step > StepPrecommit:
			return fmt.Errorf("%w: last signed step %d", ErrMalformed, ls.Step)
		case ls.POLRound < -1 || ls.POLRound >= ls.Round && ls.POLRound != -1:
			return fmt.Errorf("%w: last signed POL round %d with round %d", ErrMalformed, ls.POLRound, ls.Round)
		}
	}
	return nil
}

// Encode is the canonical encoding (used by the WAL).
func (s State) Encode() []byte { return codec.MustMarshal(s) }

// DecodeState is the inverse of Encode.
func DecodeState(b []byte) (State, error) {
	var s State
	err := codec.Unmarshal(b, &s)
	return s, err
}

// Timeouts are the logical durations of the three timeouts; round r waits
// Base + r*Delta. Zero values are invalid.
type Timeouts struct {
	Propose, ProposeDelta     time.Duration
	Prevote, PrevoteDelta     time.Duration
	Precommit, PrecommitDelta time.Duration
}

// DefaultTimeouts are CometBFT's defaults: 3s+0.5s/round to propose,
// 1s+0.5s/round for the vote steps.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Propose: 3 * time.Second, ProposeDelta: 500 * time.Millisecond,
		Prevote: time.Second, PrevoteDelta: 500 * time.Millisecond,
		Precommit: time.Second, PrecommitDelta: 500 * time.Millisecond,
	}
}

func (t Timeouts) validate() error {
	if t.Propose <= 0 || t.Prevote <= 0 || t.Precommit <= 0 || t.ProposeDelta < 0 || t.PrevoteDelta < 0 || t.PrecommitDelta < 0 {
		return fmt.Errorf("consensus: invalid timeouts %+v", t)
	}
	return nil
}

// For is the duration of step's timeout in round r.
func (t Timeouts) For(s Step, r int32) time.Duration {
	switch s {
	case StepPropose:
		return t.Propose + time.Duration(r)*t.ProposeDelta
	case StepPrevote:
		return t.Prevote + time.Duration(r)*t.PrevoteDelta
	}
	return t.Precommit + time.Duration(r)*t.PrecommitDelta
}
