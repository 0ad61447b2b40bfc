package consensus

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// MaxTotalPower bounds the total voting power of a set: MaxInt64/8. With it,
// any sum of powers fits in an int64, 3*total does not overflow, and proposer
// priorities (kept within a window of 2*total around zero, plus one total per
// increment) stay far from the int64 limits. Same bound as CometBFT's.
const MaxTotalPower = math.MaxInt64 / 8

// MaxValidators bounds the size of a set (a commit carries one signature
// per validator, and blocks accept at most 10,000 of them).
const MaxValidators = 10_000

// ErrBadValidatorSet is returned for an invalid validator set or update.
var ErrBadValidatorSet = errors.New("consensus: invalid validator set")

// Validator is one member of a set. ProposerPriority is maintained by the set.
type Validator struct {
	Address          keys.Address
	PubKey           keys.PubKey
	Power            int64
	ProposerPriority int64
}

// ValidatorSet is the stake-weighted set of one height. It is immutable once
// built (safe to share between goroutines and Machines): every method that
// "changes" it returns a new set.
//
// Proposer selection is CometBFT's weighted round robin: at each increment
// every validator's priority grows by its power, the one with the highest
// priority (ties: lowest address) proposes and loses the total power. The
// proposer of round 0 is the one chosen by the set's last increment; round r
// takes r more increments of a copy. Over time each validator proposes in
// proportion to its power.
type ValidatorSet struct {
	vals     []Validator // sorted by address
	index    map[keys.Address]int
	total    int64
	proposer int // index chosen at the last increment
}

// NewValidatorSet builds a set from vals (any order; priorities are reset to
// zero) and performs the first increment, which chooses the proposer of
// round 0. Powers must be positive, addresses unique, the total at most
// MaxTotalPower; when a PubKey is given its address must match.
func NewValidatorSet(vals []Validator) (*ValidatorSet, error) {
	vs := &ValidatorSet{vals: slices.Clone(vals)}
	for i := range vs.vals {
		vs.vals[i].ProposerPriority = 0
	}
	if err := vs.finish(); err != nil {
		return nil, err
	}
	vs.increment(1)
	return vs, nil
}

// finish sorts, checks and totals the set, then rescales priorities.
func (vs *ValidatorSet) finish() error {
	if len(vs.vals) == 0 {
		return fmt.Errorf("%w: empty", ErrBadValidatorSet)
	}
	if len(vs.vals) > MaxValidators {
		return fmt.Errorf("%w: %d validators, limit %d", ErrBadValidatorSet, len(vs.vals), MaxValidators)
	}
	slices.SortFunc(vs.vals, func(a, b Validator) int { return bytes.Compare(a.Address[:], b.Address[:]) })
	var total int64
	for i, v := range vs.vals {
		if i > 0 && v.Address == vs.vals[i-1].Address {
			return fmt.Errorf("%w: duplicate %s", ErrBadValidatorSet, v.Address)
		}
		if v.Power <= 0 || v.Power > MaxTotalPower {
			return fmt.Errorf("%w: power %d of %s", ErrBadValidatorSet, v.Power, v.Address)
		}
		if v.PubKey != nil && keys.AddressOf(v.PubKey) != v.Address {
			return fmt.Errorf("%w: key of %s does not match its address", ErrBadValidatorSet, v.Address)
		}
		total += v.Power // cannot overflow: each term <= MaxInt64/8 and we stop above the bound
		if total > MaxTotalPower {
			return fmt.Errorf("%w: total power above %d", ErrBadValidatorSet, int64(MaxTotalPower))
		}
	}
	vs.total = total
	vs.index = make(map[keys.Address]int, len(vs.vals))
	for i, v := range vs.vals {
		vs.index[v.Address] = i
	}
	return nil
}

// Len is the number of validators.
func (vs *ValidatorSet) Len() int { return len(vs.vals) }

// TotalPower is the sum of powers.
func (vs *ValidatorSet) TotalPower() int64 { return vs.total }

// Validator returns the i-th validator (address order).
func (vs *ValidatorSet) Validator(i int) Validator { return vs.vals[i] }

// Index finds a validator by address.
func (vs *ValidatorSet) Index(a keys.Address) (int, bool) {
	i, ok := vs.index[a]
	return i, ok
}

// search is the insertion point of a in the sorted validators.
func (vs *ValidatorSet) search(a keys.Address) (int, bool) {
	return slices.BinarySearchFunc(vs.vals, a, func(v Validator, a keys.Address) int {
		return bytes.Compare(v.Address[:], a[:])
	})
}

// ProposerIndex is the index of the proposer of round r at this height. It
// costs r increments of a copy (O(r*Len())); the Machine caches it per round.
func (vs *ValidatorSet) ProposerIndex(r int32) int {
	if r <= 0 {
		return vs.proposer
	}
	c := vs.copy()
	c.increment(int(r))
	return c.proposer
}

func (vs *ValidatorSet) copy() *ValidatorSet {
	return &ValidatorSet{vals: slices.Clone(vs.vals), index: vs.index, total: vs.total, proposer: vs.proposer}
}

// Hash commits to the addresses, keys and powers (not priorities) of the set.
func (vs *ValidatorSet) Hash() [32]byte {
	type entry struct {
		_       struct{} `cbor:",toarray"`
		Address keys.Address
		PubKey  []byte
		Power   int64
	}
	es := make([]entry, len(vs.vals))
	for i, v := range vs.vals {
		es[i] = entry{Address: v.Address, PubKey: v.PubKey, Power: v.Power}
	}
	return sha256.Sum256(codec.MustMarshal(es))
}

// Advance returns the set of the next height: changes applied (a change with
// Power 0 removes that validator; a new address joins with the priority
// -1.125*total so that joining and leaving cannot be used to jump the queue),
// then one increment. changes may be empty.
func (vs *ValidatorSet) Advance(changes []Validator) (*ValidatorSet, error) {
	n := vs.copy()
	for _, c := range changes {
		i, found := n.search(c.Address)
		switch {
		case c.Power < 0:
			return nil, fmt.Errorf("%w: negative power for %s", ErrBadValidatorSet, c.Address)
		case c.Power == 0 && !found:
			return nil, fmt.Errorf("%w: removing unknown %s", ErrBadValidatorSet, c.Address)
		case c.Power == 0:
			n.vals = slices.Delete(n.vals, i, i+1)
		case found:
			n.vals[i].Power = c.Power
			if c.PubKey != nil {
				n.vals[i].PubKey = c.PubKey
			}
		default:
			c.ProposerPriority = math.MinInt64 // marks "new"; set below
			n.vals = slices.Insert(n.vals, i, c)
		}
	}
	if err := n.finish(); err != nil {
		return nil, err
	}
	for i := range n.vals {
		if n.vals[i].ProposerPriority == math.MinInt64 {
			n.vals[i].ProposerPriority = -(n.total + n.total>>3)
		}
	}
	n.increment(1)
	return n, nil
}

// increment performs times rounds of the weighted round robin.
func (vs *ValidatorSet) increment(times int) {
	vs.rescale()
	for ; times > 0; times-- {
		best := 0
		for i := range vs.vals {
			vs.vals[i].ProposerPriority += vs.vals[i].Power
			if vs.vals[i].ProposerPriority > vs.vals[best].ProposerPriority {
				best = i // ties keep the lower index, i.e. the lower address
			}
		}
		vs.vals[best].ProposerPriority -= vs.total
		vs.proposer = best
	}
}

// rescale keeps priorities within a window of 2*total and centres them on
// zero, which bounds them by about 3*total in absolute value.
func (vs *ValidatorSet) rescale() {
	lo, hi := vs.vals[0].ProposerPriority, vs.vals[0].ProposerPriority
	for _, v := range vs.vals {
		lo, hi = min(lo, v.ProposerPriority), max(hi, v.ProposerPriority)
	}
	window := 2 * vs.total
	if diff := hi - lo; diff > window { // hi-lo cannot overflow: both within +-4*MaxTotalPower
		ratio := (diff + window - 1) / window
		for i := range vs.vals {
			vs.vals[i].ProposerPriority /= ratio
		}
	}
	// Average without overflow: sum of quotients plus the average remainder.
	n := int64(len(vs.vals))
	var q, r int64
	for _, v := range vs.vals {
		q += v.ProposerPriority / n
		r += v.ProposerPriority % n
	}
	avg := q + r/n
	for i := range vs.vals {
		vs.vals[i].ProposerPriority -= avg
	}
}
