package contesttest

import (
	"testing"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
)

func TestNet(t *testing.T) {
	n := New(t)
	var d contest.ContestDetail
	n.C.Query(n.Height, func(ctx *ledger.Context) error { d, _ = n.C.Contest.Contest(ctx, 1); return nil })
	if d.ID != 1 || d.BestScore != ScoreA || len(d.Leaderboard) != 2 || d.Round.Round != 2 || len(d.Submissions) != 1 || d.LastRound.BuildersPaid == 0 {
		t.Fatalf("%+v", d)
	}
}
