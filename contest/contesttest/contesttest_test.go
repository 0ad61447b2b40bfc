package contesttest

import (
	"testing"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
)

// TestNet: contest 1 has closed round 1 (two agreed submissions) and one
// commit in round 2; the detail lists the closed round's submissions
// before the current round's.
func TestNet(t *testing.T) {
	n := New(t)
	var d contest.ContestDetail
	n.C.Query(n.Height, func(ctx *ledger.Context) error { d, _ = n.C.Contest.Contest(ctx, 1); return nil })
	if d.ID != 1 || d.BestScore != ScoreA || len(d.Leaderboard) != 2 || d.Round.Round != 2 || len(d.Submissions) != 3 || d.LastRound.BuildersPaid == 0 {
		t.Fatalf("%+v", d)
	}
}
