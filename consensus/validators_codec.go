package consensus

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// A node persists the validator set of its next height, priorities
// included, so that after a restart it chooses the same proposers as every
// other node (priorities depend on the whole history of the set).

type encodedValidator struct {
	_        struct{} `cbor:",toarray"`
	Address  keys.Address
	PubKey   []byte
	Power    int64
	Priority int64
}

type encodedSet struct {
	_        struct{} `cbor:",toarray"`
	Vals     []encodedValidator
	Proposer int64
}

// Encode is the canonical encoding of the set with its proposer priorities.
func (vs *ValidatorSet) Encode() []byte {
	e := encodedSet{Proposer: int64(vs.proposer)}
	for _, v := range vs.vals {
		e.Vals = append(e.Vals, encodedValidator{Address: v.Address, PubKey: v.PubKey, Power: v.Power, Priority: v.ProposerPriority})
	}
	return codec.MustMarshal(e)
}

// DecodeValidatorSet restores a set written by Encode, priorities and
// round-0 proposer included.
func DecodeValidatorSet(b []byte) (*ValidatorSet, error) {
	var e encodedSet
	if err := codec.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadValidatorSet, err)
	}
	if len(e.Vals) > MaxValidators {
		return nil, fmt.Errorf("%w: %d validators, limit %d", ErrBadValidatorSet, len(e.Vals), MaxValidators)
	}
	vs := &ValidatorSet{}
	for i, v := range e.Vals {
		// Encode writes addresses ascending; in any other order the
		// proposer index would name another validator than it did.
		if i > 0 && bytes.Compare(e.Vals[i-1].Address[:], v.Address[:]) >= 0 {
			return nil, fmt.Errorf("%w: validator %d (%s) not after %s: addresses must ascend", ErrBadValidatorSet, i, v.Address, e.Vals[i-1].Address)
		}
		if v.PubKey != nil && len(v.PubKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: public key of %s is %d bytes, want %d", ErrBadValidatorSet, v.Address, len(v.PubKey), ed25519.PublicKeySize)
		}
		// Real priorities stay within a few total powers of zero; anything
		// beyond 4*MaxTotalPower could overflow the rotation arithmetic.
		if v.Priority > 4*MaxTotalPower || v.Priority < -4*MaxTotalPower {
			return nil, fmt.Errorf("%w: priority %d of %s out of range", ErrBadValidatorSet, v.Priority, v.Address)
		}
		vs.vals = append(vs.vals, Validator{Address: v.Address, PubKey: v.PubKey, Power: v.Power, ProposerPriority: v.Priority})
	}
	if err := vs.finish(); err != nil {
		return nil, err
	}
	if e.Proposer < 0 || e.Proposer >= int64(len(vs.vals)) {
		return nil, fmt.Errorf("%w: proposer index %d of %d", ErrBadValidatorSet, e.Proposer, len(vs.vals))
	}
	vs.proposer = int(e.Proposer)
	return vs, nil
}
