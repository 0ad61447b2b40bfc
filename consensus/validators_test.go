package consensus_test

import (
	"errors"
	"math"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

func addr(b byte) keys.Address { return keys.Address{b} }

// TestProposerProportionalToPower: over many rounds each validator proposes
// in proportion to its power (weighted round robin), and the sequence is
// the same for every caller.
func TestProposerProportionalToPower(t *testing.T) {
	powers := []int64{1, 2, 3, 10}
	var vals []consensus.Validator
	for i, p := range powers {
		vals = append(vals, consensus.Validator{Address: addr(byte(i + 1)), Power: p})
	}
	set, err := consensus.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, len(powers))
	const rounds = 16 * 100
	for h := 0; h < rounds; h++ {
		counts[set.ProposerIndex(0)]++
		set, err = set.Advance(nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range powers {
		if want := int(p) * rounds / 16; counts[i] != want {
			t.Errorf("validator %d (power %d) proposed %d times, want %d", i, p, counts[i], want)
		}
	}
	// Round r of a height is r increments of a copy: deterministic.
	a, b := set.ProposerIndex(7), set.ProposerIndex(7)
	if a != b {
		t.Fatal("proposer not deterministic")
	}
}

func TestValidatorSetRules(t *testing.T) {
	if _, err := consensus.NewValidatorSet(nil); !errors.Is(err, consensus.ErrBadValidatorSet) {
		t.Error("empty set accepted")
	}
	if _, err := consensus.NewValidatorSet([]consensus.Validator{{Address: addr(1), Power: 0}}); err == nil {
		t.Error("zero power accepted")
	}
	if _, err := consensus.NewValidatorSet([]consensus.Validator{{Address: addr(1), Power: 1}, {Address: addr(1), Power: 2}}); err == nil {
		t.Error("duplicate accepted")
	}
	if _, err := consensus.NewValidatorSet([]consensus.Validator{{Address: addr(1), Power: math.MaxInt64 / 8}, {Address: addr(2), Power: 1}}); err == nil {
		t.Error("total above MaxTotalPower accepted")
	}
	// The maximum total works and the proposer rotation does not overflow.
	set, err := consensus.NewValidatorSet([]consensus.Validator{{Address: addr(1), Power: consensus.MaxTotalPower - 1}, {Address: addr(2), Power: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if set, err = set.Advance(nil); err != nil {
			t.Fatal(err)
		}
		_ = set.ProposerIndex(50)
	}
	// Advance: join, change, leave.
	set, _ = consensus.NewValidatorSet([]consensus.Validator{{Address: addr(1), Power: 5}, {Address: addr(2), Power: 5}})
	n, err := set.Advance([]consensus.Validator{{Address: addr(3), Power: 7}, {Address: addr(1), Power: 0}, {Address: addr(2), Power: 9}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Len() != 2 || n.TotalPower() != 16 {
		t.Fatalf("after advance: %d validators, total %d", n.Len(), n.TotalPower())
	}
	if set.TotalPower() != 10 {
		t.Fatal("Advance modified the original set")
	}
	if _, err := set.Advance([]consensus.Validator{{Address: addr(9), Power: 0}}); err == nil {
		t.Error("removing an unknown validator accepted")
	}
	if set.Hash() == n.Hash() {
		t.Error("different sets, same hash")
	}
}
