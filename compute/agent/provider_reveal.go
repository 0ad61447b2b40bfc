package agent

import (
	"context"
	"strings"

	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// The provider's half of the sealed result (ledger/compute/jobs_reveal.go):
// while reexec_ppm > 0 it commits to a job's result with a fresh salt,
// and reveals result and salt as soon as the ledger allows (the block
// after the re-execution draw, or the end of the validators' commit
// window when drawn). Result and salt are written to the pending store
// (pending.go, ProviderConfig.Dir) before the commit is submitted, so a
// provider restarted between its commit and its reveal still reveals
// instead of missing the job (slashed job_slash_ppm, the user refunded).

// report sends job id's outcome: in the clear when nothing is
// re-executed or the content was unavailable (never re-executed), else
// sealed.
func (p *Provider) report(ctx context.Context, id uint64, result, errText string) error {
	var ppm ledger.PPM
	if err := p.query(p.h.LatestHeight(), func(c *ledger.Context) error {
		ppm = p.h.Chain().Compute.Params(c).ReexecPPM
		return nil
	}); err != nil {
		return err
	}
	if ppm == 0 || (result == "" && strings.HasPrefix(errText, ledgercompute.ContentUnavailable)) {
		msg := ledgercompute.MsgJobResult{Job: id, Result: result, Error: errText}
		_, err := p.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobResult, msg))
		return err
	}
	salt, err := p.sealed.salt(id, result, errText, false)
	if err != nil {
		return err
	}
	// On disk before the commit leaves: a crash after submitting must
	// still be able to reveal.
	if err := p.sealed.put(pendingReveal{Job: id, Result: result, Error: errText, Salt: salt}); err != nil {
		p.log.Error("cannot save the sealed result; committing anyway, but a restart before its reveal misses the job (slashed): check the data directory",
			"id", id, "dir", p.cfg.Dir, "err", err)
	}
	c := ledgercompute.ResultCommitment(p.h.ChainID(), id, p.h.Account(), result, errText, salt)
	msg := ledgercompute.MsgJobResultCommit{Job: id, Commitment: c[:]}
	_, err = p.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobResultCommit, msg))
	return err // a refused commit is sent again, with the same salt, when the job is retried
}

// stepReveals reveals the sealed results the ledger lets it reveal (a tx
// sent at height lands at height+1 or later) and does not show revealed
// yet, resubmitting at most every resubmitBlocks. It forgets the jobs
// that can no longer be revealed (revealed, missed at the reveal
// deadline, or no longer ours); one still assigned is kept, its commit
// may not have landed yet.
func (p *Provider) stepReveals(ctx context.Context, height uint64) {
	c := p.h.Chain()
	query := func(f func(*ledger.Context) error) error { return p.query(height, f) }
	due := p.sealed.due(height, query, func(lc *ledger.Context, s pendingReveal) revealAction {
		j, err := c.Compute.JobByID(lc, s.Job)
		if err != nil || j.Provider != p.h.Account() || (j.Status != ledgercompute.JobSealed && j.Status != ledgercompute.JobAssigned) {
			return revealForget
		}
		if from := c.Compute.ResultRevealFrom(lc, s.Job); j.Status != ledgercompute.JobSealed || from == 0 || height+1 < from {
			return revealWait
		}
		return revealNow
	})
	for _, s := range due {
		msg := ledgercompute.MsgJobResultReveal{Job: s.Job, Result: s.Result, Error: s.Error, Salt: s.Salt}
		if _, err := p.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobResultReveal, msg)); err != nil {
			p.log.Warn("reveal job result", "id", msg.Job, "err", err)
			continue
		}
		p.log.Info("job result revealed", "id", msg.Job, "result", msg.Result)
	}
}
