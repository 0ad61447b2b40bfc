package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
)

// ErrRevealMissed is returned by Build when a commit landed but its reveal
// window closed before the reveal did.
var ErrRevealMissed = errors.New("the reveal window closed before the reveal landed")

// Build is a demo builder: it commits model to contest id from
// host.Account() in the first commit window it can still reach (a commit
// sent at height h lands at h+1 at the earliest), waits for the commit to
// be on chain, and reveals it in that round's reveal window. It returns
// the round once the reveal is on chain. A commit that does not land in
// its window is retried in the next round with a new salt; a transaction
// not on chain after 3 blocks is sent again.
func Build(ctx context.Context, host agent.Host, id uint64, model cid.Cid) (uint64, error) {
	reader := contest.Reader(host.Chain().Bank)
	me := host.Account()
	ch, unsub := host.Committed()
	defer unsub()
	var (
		round, sentAt uint64
		salt, hash    []byte
		revealing     bool
	)
	for {
		h := host.LatestHeight()
		var ri contest.RoundInfo
		var mine *contest.Submission
		var status string
		err := host.Chain().Query(h, func(ctx *ledger.Context) error {
			d, err := reader.Contest(ctx, id)
			if err != nil {
				return err
			}
			status, ri = d.Status, d.Round
			if round != 0 {
				subs, err := reader.Submissions(ctx, id, round)
				if err != nil {
					return err
				}
				for i := range subs {
					if subs[i].Builder == me && bytes.Equal(subs[i].CommitHash, hash) {
						mine = &subs[i]
					}
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		if status != contest.StatusLive {
			return 0, fmt.Errorf("%w: contest %d is %s", contest.ErrNotLive, id, status)
		}
		if mine != nil && mine.Status == contest.StatusUnrevealed {
			return round, ErrRevealMissed
		}
		if mine != nil && mine.Status != contest.StatusCommitted {
			return round, nil // revealed
		}
		if mine != nil {
			reveal := roundWindows(ri, round).Reveal
			if h > reveal.End {
				return round, ErrRevealMissed
			}
			if h+1 >= reveal.Start && (!revealing || h >= sentAt+3) {
				msg := ledger.NewMsg(contest.MsgTypeReveal, contest.MsgReveal{Contest: id, Round: round, Model: model.String(), Salt: salt})
				if _, err := host.Submit(ctx, msg); err != nil {
					host.Logger().Warn("demo builder: reveal not accepted", "contest", id, "round", round, "err", err)
				} else {
					revealing, sentAt = true, h
				}
			}
		} else {
			if round != 0 && h > roundWindows(ri, round).Commit.End {
				round = 0 // the commit never landed: start over
			}
			if round == 0 && ri.Phase == contest.PhaseCommit && h+1 <= ri.Commit.End {
				salt = make([]byte, 32)
				if _, err := rand.Read(salt); err != nil {
					return 0, err
				}
				round, hash = ri.Round, contest.CommitHash(model, salt, me)
				sentAt = 0
			}
			if round != 0 && (sentAt == 0 || h >= sentAt+3) {
				msg := ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: id, Round: round, Hash: hash})
				if _, err := host.Submit(ctx, msg); err != nil {
					host.Logger().Warn("demo builder: commit not accepted", "contest", id, "round", round, "err", err)
				} else {
					sentAt = h
				}
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case _, ok := <-ch:
			if !ok {
				return 0, fmt.Errorf("demo builder: the node stopped")
			}
		}
	}
}

// roundWindows is the timeline of round r given the timeline of the
// current round cur (same contest, so the same length and windows).
func roundWindows(cur contest.RoundInfo, r uint64) contest.RoundInfo {
	length := cur.End - cur.Start + 1
	shift := func(w contest.Window) contest.Window {
		d := (cur.Round - r) * length // r <= cur.Round
		return contest.Window{Start: w.Start - d, End: w.End - d}
	}
	out := cur
	out.Round = r
	out.Commit, out.Reveal = shift(cur.Commit), shift(cur.Reveal)
	out.AttestCommit, out.AttestReveal = shift(cur.AttestCommit), shift(cur.AttestReveal)
	return out
}
