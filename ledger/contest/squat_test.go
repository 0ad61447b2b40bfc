package contest

import (
	"testing"
)

// TestCommitSquatEarnsNothing: an account that copies a builder's commit
// hash from the mempool and lands it first neither blocks the builder's
// commit nor owns the submission (before the fix the builder's commit was
// refused as a duplicate and its reveal opened the squatter's submission,
// paying the squatter).
func TestCommitSquatEarnsNothing(t *testing.T) {
	h := newHarness(t, selfBonds)
	id, S := h.create(testSpec(h.acc[4].addr))
	alice, mallory := h.acc[1], h.acc[2]
	m := modelCID("alice's model")
	h.to(S - 1)
	h.okBlock(h.tx(mallory, commitMsg(id, 1, m, salt("a"), alice.addr))) // Alice's hash, seen in the mempool
	h.okBlock(h.tx(alice, commitMsg(id, 1, m, salt("a"), alice.addr)))
	h.to(S + 5)
	h.refuse(mallory, revealMsg(id, 1, m, salt("a")), ErrNoCommit)
	h.okBlock(h.tx(alice, revealMsg(id, 1, m, salt("a"))))
	rv := h.round(id, 1)
	if len(rv.Submissions) != 2 {
		t.Fatalf("submissions: %+v", rv.Submissions)
	}
	for _, s := range rv.Submissions {
		switch s.Builder {
		case alice.addr:
			if s.Status != StatusRevealed || s.Model != m.String() {
				t.Errorf("alice's submission: %+v", s)
			}
		case mallory.addr:
			if s.Status != StatusCommitted || s.Model != "" {
				t.Errorf("mallory's submission: %+v", s)
			}
		default:
			t.Errorf("unexpected builder: %+v", s)
		}
	}
}

// TestOwnerMayEnterAgain: a model that got no quorum in round 1 can be
// entered again by its owner in round 2 and is scored, not marked a copy
// of itself; another account entering it is still a copy.
func TestOwnerMayEnterAgain(t *testing.T) {
	h := newHarness(t, selfBonds)
	spec := testSpec(h.acc[4].addr)
	spec.Reward = RewardCurve{Curve: CurveWinnerTakeAll}
	id, S := h.create(spec)
	m := modelCID("model")
	none := func(int, []Submission) []Score { return nil }
	rv := h.playRound(id, S, 1, []entry{{h.acc[1], m}}, none)
	if len(rv.Submissions) != 1 || rv.Submissions[0].AgreedScore != nil {
		t.Fatalf("round 1: %+v", rv.Submissions)
	}
	same := func(int, []Submission) []Score { return scores(900_000) }
	rv = h.playRound(id, S, 2, []entry{{h.acc[1], m}, {h.acc[2], m}}, same)
	if len(rv.Submissions) != 2 {
		t.Fatalf("round 2: %+v", rv.Submissions)
	}
	for _, s := range rv.Submissions {
		switch s.Builder {
		case h.acc[1].addr:
			if s.Status != StatusAgreed || s.AgreedScore == nil || !s.Breakthrough || s.Reward == 0 {
				t.Errorf("owner's second entry: %+v", s)
			}
		case h.acc[2].addr:
			if s.Status != StatusCopy || s.Reward != 0 {
				t.Errorf("another account's entry: %+v", s)
			}
		}
	}
}
