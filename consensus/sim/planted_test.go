package sim

import (
	"testing"

	"github.com/inferd/inferd/consensus/internal/planted"
)

// Each planted test runs the simulator with a known bug and asserts that a
// safety violation (agreement or validity; liveness failures do not count)
// is found within a documented number of seeds. The numbers are generous bounds: the first failing seed
// is printed, and is typically much lower.

func findViolation(t *testing.T, seeds int, p Params) Result {
	t.Helper()
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		r := Run(seed, p)
		if safetyOnly(r) {
			t.Logf("seed %d found: %s (%s)", seed, r.Violations[0], r.Note)
			return r
		}
	}
	t.Fatalf("no safety violation in %d seeds: the simulator missed a planted bug", seeds)
	return Result{}
}

func safetyOnly(r Result) bool {
	for _, v := range r.Violations {
		if containsAny(v, "agreement", "validity") {
			return true
		}
	}
	return false
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

const (
	plantedNoLockSeeds  = 2000
	plantedQuorumSeeds  = 2000
	plantedOverSeeds    = 500
	plantedNoWALSeeds   = 2000
	plantedControlSeeds = 300
)

func TestPlantedNoLock(t *testing.T) {
	planted.NoLock = true
	defer func() { planted.NoLock = false }()
	p := DefaultParams()
	p.Heights = 20
	p.ByzKinds = []ByzKind{Equivocate}
	p.InvalidTwins = false
	r := findViolation(t, plantedNoLockSeeds, p)
	if !safetyOnly(r) {
		t.Fatalf("expected a safety violation, got %v", r.Violations)
	}
}

func TestPlantedQuorumAtLeastTwoThirds(t *testing.T) {
	p := DefaultParams()
	p.Heights = 20
	p.Byzantine = ExactlyThird
	p.ByzKinds = []ByzKind{Equivocate}
	p.InvalidTwins = false
	// Control: with exactly 1/3 Byzantine the correct quorum stays safe.
	for seed := uint64(1); seed <= plantedControlSeeds; seed++ {
		if r := Run(seed, p); safetyOnly(r) {
			t.Fatalf("correct quorum violated safety at seed %d: %v", seed, r.Violations)
		}
	}
	planted.QuorumAtLeastTwoThirds = true
	defer func() { planted.QuorumAtLeastTwoThirds = false }()
	r := findViolation(t, plantedQuorumSeeds, p)
	if !safetyOnly(r) {
		t.Fatalf("expected a safety violation, got %v", r.Violations)
	}
}

func TestPlantedByzantineOverThird(t *testing.T) {
	p := DefaultParams()
	p.Heights = 20
	p.Byzantine = OverThird
	p.ByzKinds = []ByzKind{Equivocate}
	p.InvalidTwins = false
	r := findViolation(t, plantedOverSeeds, p)
	if !safetyOnly(r) {
		t.Fatalf("expected a safety violation, got %v", r.Violations)
	}
}

// TestPlantedRestartWithoutWAL: honest validators that restart without
// their WAL sign conflicting messages, and the simulator's double-sign check
// must see it.
func TestPlantedRestartWithoutWAL(t *testing.T) {
	plantedLoseWAL = true
	defer func() { plantedLoseWAL = false }()
	p := DefaultParams()
	p.Heights = 20
	for seed := uint64(1); seed <= plantedNoWALSeeds; seed++ {
		r := Run(seed, p)
		for _, v := range r.Violations {
			if containsAny(v, "double sign") {
				t.Logf("seed %d found: %s", seed, v)
				return
			}
		}
	}
	t.Fatalf("no double sign in %d seeds with the WAL lost on restart", plantedNoWALSeeds)
}
