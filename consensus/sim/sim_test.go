package sim

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

var (
	flagSeeds     = flag.Int("seeds", 500, "number of seeds TestSimSeeds runs")
	flagSeedStart = flag.Uint64("seed-start", 1, "first seed of TestSimSeeds")
	flagHeights   = flag.Int("heights", 50, "heights every honest node must commit in each run")
)

// runSeeds runs seeds [start, start+count) on all CPUs and returns the
// failing results (in seed order) and the totals.
func runSeeds(start uint64, count int, p Params) (fails []Result, events, commits int) {
	workers := runtime.GOMAXPROCS(0)
	results := make([]Result, count)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = Run(start+uint64(i), p)
			}
		}()
	}
	for i := 0; i < count; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, r := range results {
		events += r.Events
		commits += r.Commits
		if len(r.Violations) > 0 {
			fails = append(fails, r)
		}
	}
	return fails, events, commits
}

func report(t *testing.T, r Result) {
	t.Helper()
	t.Errorf("seed %d (%s): %v\n  reproduce: go test -run TestSimSeeds ./consensus/sim/ -seed-start %d -seeds 1 -v", r.Seed, r.Note, r.Violations, r.Seed)
}

// TestSimSeeds runs -seeds seeds of the default family and fails on any
// violation, printing the seed.
func TestSimSeeds(t *testing.T) {
	p := DefaultParams()
	p.Heights = *flagHeights
	start := time.Now()
	fails, events, commits := runSeeds(*flagSeedStart, *flagSeeds, p)
	for i, r := range fails {
		if i == 5 {
			break
		}
		report(t, r)
	}
	t.Logf("seeds %d..%d, %d heights each, %d events, %d honest commits, %v", *flagSeedStart, *flagSeedStart+uint64(*flagSeeds)-1, p.Heights, events, commits, time.Since(start).Round(time.Millisecond))
	fmt.Printf("%d seeds, %d violations\n", *flagSeeds, len(fails))
}

// TestSimDeterministic: one seed fixes a run, event for event.
func TestSimDeterministic(t *testing.T) {
	p := DefaultParams()
	p.Heights = 20
	for seed := uint64(1); seed <= 20; seed++ {
		a, b := Run(seed, p), Run(seed, p)
		if a.Events != b.Events || a.Commits != b.Commits || a.VirtualTime != b.VirtualTime || a.Evidence != b.Evidence {
			t.Fatalf("seed %d: two runs differ: %+v vs %+v", seed, a, b)
		}
	}
}

// TestSimExercisesFaults: the default family really contains Byzantine
// validators of every kind, evidence, and crashes (a guard against a
// simulator that silently stopped injecting faults).
func TestSimExercisesFaults(t *testing.T) {
	p := DefaultParams()
	p.Heights = 10
	kinds := map[ByzKind]int{}
	evidence := 0
	for seed := uint64(1); seed <= 100; seed++ {
		r := Run(seed, p)
		for _, k := range r.Kinds {
			kinds[k]++
		}
		evidence += r.Evidence
	}
	if kinds[Silent] == 0 || kinds[Equivocate] == 0 || kinds[Amnesia] == 0 || evidence == 0 {
		t.Fatalf("faults not exercised: kinds %v, evidence %d", kinds, evidence)
	}
}
