package sim

import (
	"testing"
	"time"
)

// TestSilentOverThird: while honest validators holding more than 1/3 of
// stake are down, nothing is committed; once they come back, every honest
// node commits all the required heights.
func TestSilentOverThird(t *testing.T) {
	const back = 30 * time.Second
	p := DefaultParams()
	p.Heights = 10
	p.Byzantine = NoByzantine
	p.Faults, p.Partitions, p.Crashes, p.SetChanges = false, false, false, false
	p.SilentOverThirdUntil = back
	for seed := uint64(1); seed <= 50; seed++ {
		r := Run(seed, p)
		if len(r.Violations) > 0 {
			t.Fatalf("seed %d (%s): %v", seed, r.Note, r.Violations)
		}
		if r.FirstCommit < back {
			t.Fatalf("seed %d: committed at %v while more than 1/3 of stake was down until %v", seed, r.FirstCommit, back)
		}
		if r.Commits == 0 {
			t.Fatalf("seed %d: no progress after the silent validators returned", seed)
		}
	}
}
