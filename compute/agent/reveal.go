package agent

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// The verifier's half of the re-execution commit-reveal
// (ledger/compute/reexec_commit.go): after a run it commits to the result
// with a fresh salt, and reveals result and salt once the job's reveal
// window opens. Salts live in memory only: a verifier restarted between
// its commit and its reveal cannot reveal, and that job counts as not
// re-executed by it (no credit, no harm to the verdict beyond its absence).

// reveal is a committed re-execution waiting for its reveal window.
type reveal struct {
	result string
	salt   []byte
	sent   uint64 // height the reveal was last submitted at (0: not yet)
}

// commitReexec commits to result ("" for a failed run) for job id.
func (v *Verifier) commitReexec(ctx context.Context, id uint64, result string) error {
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return fmt.Errorf("salt: %w", err)
	}
	c := ledgercompute.ReexecCommitment(v.h.Chain().ChainID(), id, v.h.Account(), result, result == "", salt)
	msg := ledgercompute.MsgJobReexecCommit{Job: id, Commitment: c[:]}
	if _, err := v.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobReexecCommit, msg)); err != nil {
		return err
	}
	v.mu.Lock()
	v.reveals[id] = &reveal{result: result, salt: salt}
	v.mu.Unlock()
	return nil
}

// StepReveal reveals the committed re-executions whose reveal window is
// open (a tx sent at height lands at height+1 or later) and that the
// ledger does not show revealed yet, resubmitting at most every
// resubmitBlocks; it forgets those whose window has closed.
func (v *Verifier) StepReveal(ctx context.Context, height uint64) {
	v.mu.Lock()
	ids := make([]uint64, 0, len(v.reveals))
	for id := range v.reveals {
		ids = append(ids, id)
	}
	v.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	c := v.h.Chain()
	type due struct {
		id uint64
		r  reveal
	}
	var todo []due
	c.Query(height, func(lc *ledger.Context) error {
		v.mu.Lock()
		defer v.mu.Unlock()
		for _, id := range ids {
			r := v.reveals[id]
			j, err := c.Compute.JobByID(lc, id)
			if err != nil || j.Reexec != ledgercompute.ReexecPending || height+1 >= j.ReexecEnd ||
				c.Compute.Reexecuted(lc, id, v.h.Account()) {
				delete(v.reveals, id)
				continue
			}
			if height+1 < c.Compute.ReexecCommitEnd(lc, id) || (r.sent > 0 && height < r.sent+resubmitBlocks) {
				continue
			}
			r.sent = height
			todo = append(todo, due{id, *r})
		}
		return nil
	})
	for _, d := range todo {
		msg := ledgercompute.MsgJobReexecReveal{Job: d.id, Result: d.r.result, Failed: d.r.result == "", Salt: d.r.salt}
		if _, err := v.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobReexecReveal, msg)); err != nil {
			v.log.Warn("reveal re-execution", "job", d.id, "err", err)
		}
	}
}
