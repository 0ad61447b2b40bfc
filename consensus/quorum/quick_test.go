package quorum

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"testing/quick"
)

// naive versions in math/big: obviously right, slow.
func naiveCmp(a, x, b, y uint64) int {
	l := new(big.Int).Mul(new(big.Int).SetUint64(a), new(big.Int).SetUint64(x))
	r := new(big.Int).Mul(new(big.Int).SetUint64(b), new(big.Int).SetUint64(y))
	return l.Cmp(r)
}

func naiveSuper(p, t uint64) bool { return naiveCmp(3, p, 2, t) > 0 }
func naiveThird(p, t uint64) bool { return naiveCmp(3, p, 1, t) > 0 }
func naiveGE(p, t uint64) bool    { return naiveCmp(3, p, 2, t) >= 0 }

func TestQuickAgainstNaive(t *testing.T) {
	cfg := &quick.Config{MaxCount: 20000, Rand: nil}
	for name, pair := range map[string][2]func(p, t uint64) bool{
		"super": {SuperMajority, naiveSuper},
		"third": {MoreThanOneThird, naiveThird},
		"ge":    {AtLeastTwoThirds, naiveGE},
	} {
		f, g := pair[0], pair[1]
		if err := quick.CheckEqual(f, g, cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestEdges covers the boundaries random inputs rarely hit: exact thirds,
// huge values near the top of uint64, zero.
func TestEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := []uint64{0, 1, 2, 3, 4, 5, 6, 7, 9, 100, math.MaxInt64, math.MaxUint64, math.MaxUint64 / 3, math.MaxUint64/3 + 1, math.MaxUint64 / 2}
	for i := 0; i < 200; i++ {
		vals = append(vals, r.Uint64(), r.Uint64N(1000))
	}
	for _, p := range vals {
		for _, tot := range vals {
			if SuperMajority(p, tot) != naiveSuper(p, tot) || MoreThanOneThird(p, tot) != naiveThird(p, tot) || AtLeastTwoThirds(p, tot) != naiveGE(p, tot) {
				t.Fatalf("mismatch at power=%d total=%d", p, tot)
			}
		}
	}
	// Exact thresholds.
	if SuperMajority(2, 3) || !SuperMajority(3, 4) || !AtLeastTwoThirds(2, 3) {
		t.Fatal("2/3 boundary wrong")
	}
	if MoreThanOneThird(1, 3) || !MoreThanOneThird(2, 4) {
		t.Fatal("1/3 boundary wrong")
	}
}
