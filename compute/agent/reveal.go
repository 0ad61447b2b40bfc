package agent

import (
	"context"

	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// The verifier's half of the re-execution commit-reveal
// (ledger/compute/reexec_commit.go): after a run it commits to the result
// with a fresh salt, and reveals result and salt once the job's reveal
// window opens. Result and salt are written to the pending store
// (pending.go, VerifierConfig.Dir) before the commit is submitted, so a
// verifier restarted between its commit and its reveal still reveals and
// is credited.

// commitReexec commits to result ("" for a failed run) for job id.
func (v *Verifier) commitReexec(ctx context.Context, id uint64, result string) error {
	failed := result == ""
	salt, err := v.reveals.salt(id, result, "", failed)
	if err != nil {
		return err
	}
	// On disk before the commit leaves: a crash after submitting must
	// still be able to reveal.
	if err := v.reveals.put(pendingReveal{Job: id, Result: result, Failed: failed, Salt: salt}); err != nil {
		v.log.Error("cannot save the re-execution commit; committing anyway, but a restart before its reveal loses its credit: check the data directory",
			"job", id, "dir", v.cfg.Dir, "err", err)
	}
	c := ledgercompute.ReexecCommitment(v.h.Chain().ChainID(), id, v.h.Account(), result, failed, salt)
	msg := ledgercompute.MsgJobReexecCommit{Job: id, Commitment: c[:]}
	_, err = v.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobReexecCommit, msg))
	return err
}

// StepReveal reveals the committed re-executions whose reveal window is
// open (a tx sent at height lands at height+1 or later) and that the
// ledger does not show revealed yet, resubmitting at most every
// resubmitBlocks; it forgets those whose window has closed or that the
// ledger shows revealed.
func (v *Verifier) StepReveal(ctx context.Context, height uint64) {
	c := v.h.Chain()
	query := func(f func(*ledger.Context) error) error { return c.Query(height, f) }
	due := v.reveals.due(height, query, func(lc *ledger.Context, r pendingReveal) revealAction {
		j, err := c.Compute.JobByID(lc, r.Job)
		if err != nil || j.Reexec != ledgercompute.ReexecPending || height+1 >= j.ReexecEnd ||
			c.Compute.Reexecuted(lc, r.Job, v.h.Account()) {
			return revealForget
		}
		if height+1 < c.Compute.ReexecCommitEnd(lc, r.Job) {
			return revealWait
		}
		return revealNow
	})
	for _, r := range due {
		msg := ledgercompute.MsgJobReexecReveal{Job: r.Job, Result: r.Result, Failed: r.Failed, Salt: r.Salt}
		if _, err := v.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobReexecReveal, msg)); err != nil {
			v.log.Warn("reveal re-execution", "job", msg.Job, "err", err)
		}
	}
}
