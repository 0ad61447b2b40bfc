package contest

import (
	"testing"
)

func TestWeightedMedian(t *testing.T) {
	cases := []struct {
		votes []vote
		want  int64
	}{
		{[]vote{{value: 5, stake: 1}}, 5},
		{[]vote{{value: 1, stake: 1}, {value: 9, stake: 1}}, 1},                        // lower median on a tie of halves
		{[]vote{{value: 1, stake: 1}, {value: 9, stake: 3}}, 9},                        // stake decides
		{[]vote{{value: 9, stake: 10}, {value: 1, stake: 3}, {value: 5, stake: 6}}, 9}, // 1 and 5 carry 9 of 19: less than half
		{[]vote{{value: 9, stake: 9}, {value: 1, stake: 3}, {value: 5, stake: 6}}, 5},  // 9 of 18: exactly half
	}
	for i, c := range cases {
		var total uint64
		for _, v := range c.votes {
			total += v.stake
		}
		if got := weightedMedian(c.votes, total); got != c.want {
			t.Errorf("case %d: median %d, want %d", i, got, c.want)
		}
	}
}

func TestWithinTolerance(t *testing.T) {
	tol := Tolerance{PPM: 1_000, Absolute: 5}
	for _, c := range []struct {
		v, med int64
		want   bool
	}{
		{1_000_000, 1_000_000, true}, {1_001_000, 1_000_000, true}, {1_001_001, 1_000_000, false},
		{-1_001_000, -1_000_000, true}, {3, 0, true}, {6, 0, false}, {-MaxScore, MaxScore, false},
	} {
		if got := withinTolerance(tol, c.v, c.med); got != c.want {
			t.Errorf("%d vs %d: %v", c.v, c.med, got)
		}
	}
}

func TestRoundTimeline(t *testing.T) {
	sc := Schedule{RoundLengthBlocks: 10, CommitBlocks: 2, RevealBlocks: 2, AttestCommitBlocks: 2, AttestRevealBlocks: 3}
	want := []string{PhaseCommit, PhaseCommit, PhaseReveal, PhaseReveal, PhaseAttestCommit, PhaseAttestCommit,
		PhaseAttestReveal, PhaseAttestReveal, PhaseAttestReveal, PhaseSettle}
	if RoundOf(5, sc, 4).Phase != PhasePending {
		t.Error("before start")
	}
	for h := uint64(5); h < 35; h++ {
		ri := RoundOf(5, sc, h)
		if ri.Round != (h-5)/10+1 || ri.Phase != want[(h-5)%10] || ri.End != 5+ri.Round*10-1 {
			t.Errorf("height %d: %+v", h, ri)
		}
	}
	ri := RoundAt(5, sc, 2)
	if ri.Commit != (Window{15, 16}) || ri.Reveal != (Window{17, 18}) || ri.AttestCommit != (Window{19, 20}) || ri.AttestReveal != (Window{21, 23}) {
		t.Errorf("%+v", ri)
	}
}

func TestCurveWeights(t *testing.T) {
	spec := Spec{Direction: DirectionMaximize, Reward: RewardCurve{Curve: CurveTopKGeometric, K: 2, RatioPPM: 250_000}}
	sc := func(v int64) *int64 { return &v }
	subs := []Submission{{AgreedScore: sc(10)}, {AgreedScore: sc(30)}, {AgreedScore: sc(20)}}
	ranked := []int{1, 2, 0}
	w := curveWeights(&spec, 0, subs, ranked)
	if w[0] != 1_000_000_000_000 || w[1] != 250_000_000_000 || w[2] != 0 {
		t.Errorf("geometric %v", w)
	}
	spec.Reward = RewardCurve{Curve: CurveProportional}
	if w := curveWeights(&spec, 0, subs, ranked); w[0] != 30 || w[1] != 20 || w[2] != 10 {
		t.Errorf("proportional %v", w)
	}
	spec.Reward = RewardCurve{Curve: CurveWinnerTakeAll}
	if w := curveWeights(&spec, 0, subs, ranked); w[0] != 1 || w[1] != 0 {
		t.Errorf("winner %v", w)
	}
}
