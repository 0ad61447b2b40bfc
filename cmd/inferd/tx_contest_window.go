package main

import (
	"context"
	"fmt"
	"time"

	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/node/api"
)

// windowPoll is how often --wait-for-window looks at the chain.
var windowPoll = time.Second

// inWindow reads the contest and checks that a tx sent now lands in the
// builders' commit or reveal window (which = "commit" or "reveal") of the
// round: the earliest block that can include it is the next one. Outside
// the window it is an error saying when the window is, unless wait, which
// waits for it: for a commit, the next round's window if this round's is
// over; a reveal belongs to its commit's round, so a closed reveal window
// is an error even with wait.
func (x *contestTxArgs) inWindow(ctx context.Context, a *txArgs, which string, wait bool) (contest.RoundInfo, error) {
	cl, err := a.client()
	if err != nil {
		return contest.RoundInfo{}, err
	}
	want := x.round // 0: the current round at the first look (a reveal's stays fixed)
	said := false
	for {
		d, err := cl.Contest(ctx, x.contest, api.Latest)
		if err != nil {
			return contest.RoundInfo{}, err
		}
		if d.Status != contest.StatusLive {
			return contest.RoundInfo{}, fmt.Errorf("contest %d is %s: it takes no commits or reveals; nothing was sent", x.contest, d.Status)
		}
		ri := d.Round
		if want == 0 && (which == "reveal" || !wait) {
			want = ri.Round
		}
		w := ri.Commit
		if which == "reveal" {
			w = ri.Reveal
		}
		next := ri.Height + 1
		target := want
		if target == 0 {
			target = ri.Round
		}
		var why string
		switch {
		case ri.Phase == contest.PhasePending:
			why = fmt.Sprintf("contest %d starts at height %d (the chain is at %d)", x.contest, ri.Commit.Start, ri.Height)
		case ri.Round < target:
			why = fmt.Sprintf("round %d of contest %d has not begun (the chain is at %d, in round %d)", target, x.contest, ri.Height, ri.Round)
		case ri.Round > target || (next > w.End && which == "reveal"):
			if which == "reveal" {
				return ri, fmt.Errorf("the reveal window of contest %d round %d is over (the chain is at %d, in round %d, phase %s): that round's commits can no longer be revealed; nothing was sent", x.contest, target, ri.Height, ri.Round, ri.Phase)
			}
			return ri, fmt.Errorf("round %d of contest %d is over (the chain is at %d, in round %d); commit to the current round (drop --round); nothing was sent", target, x.contest, ri.Height, ri.Round)
		case next > w.End:
			// A round's commit window opens as the round begins.
			why = fmt.Sprintf("the commit window of contest %d round %d was heights %d..%d; the chain is at %d (phase %s); round %d's opens at height %d",
				x.contest, ri.Round, w.Start, w.End, ri.Height, ri.Phase, ri.Round+1, ri.End+1)
		case next < w.Start:
			why = fmt.Sprintf("the %s window of contest %d round %d is heights %d..%d; the chain is at %d (phase %s)", which, x.contest, ri.Round, w.Start, w.End, ri.Height, ri.Phase)
		default:
			return ri, nil
		}
		if !wait {
			return ri, fmt.Errorf("%s; nothing was sent (add --wait-for-window to wait for it)", why)
		}
		if !said {
			fmt.Fprintf(stderr, "waiting: %s\n", why)
			said = true
		}
		select {
		case <-ctx.Done():
			return ri, ctx.Err()
		case <-time.After(windowPoll):
		}
	}
}
