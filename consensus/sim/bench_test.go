package sim

import (
	"fmt"
	"testing"
)

// BenchmarkSimHeights measures simulated heights per second (all nodes of
// the network committing one height) on a fault-free network, and with the
// default faults (partitions, drops, crashes, Byzantine validators).
func BenchmarkSimHeights(b *testing.B) {
	for _, tc := range []struct {
		n       int
		heights int
		faults  bool
	}{{4, 50, false}, {100, 5, false}, {4, 50, true}, {10, 50, true}} {
		b.Run(fmt.Sprintf("validators=%d/faults=%v", tc.n, tc.faults), func(b *testing.B) {
			p := DefaultParams()
			p.MinN, p.MaxN, p.Heights = tc.n, tc.n, tc.heights
			if !tc.faults {
				p.Byzantine = NoByzantine
				p.Faults, p.Partitions, p.Crashes, p.SetChanges = false, false, false, false
			}
			heights := 0
			seed := uint64(1)
			for b.Loop() {
				r := Run(seed, p)
				if len(r.Violations) > 0 {
					b.Fatalf("seed %d: %v", seed, r.Violations)
				}
				heights += tc.heights
				seed++
			}
			b.ReportMetric(float64(heights)/b.Elapsed().Seconds(), "heights/s")
		})
	}
}
