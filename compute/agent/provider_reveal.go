package agent

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// The provider's half of the sealed result (ledger/compute/jobs_reveal.go):
// while reexec_ppm > 0 it commits to a job's result with a fresh salt,
// and reveals result and salt as soon as the ledger allows (the block
// after the re-execution draw, or the end of the validators' commit
// window when drawn). Salts live in memory only: a provider restarted
// between its commit and its reveal cannot reveal, and the job is missed
// (slashed job_slash_ppm, the user refunded).

// sealedResult is a committed result waiting for its reveal.
type sealedResult struct {
	result, errText string
	salt            []byte
	sent            uint64 // height the reveal was last submitted at (0: not yet)
}

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
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return fmt.Errorf("salt: %w", err)
	}
	c := ledgercompute.ResultCommitment(p.h.ChainID(), id, p.h.Account(), result, errText, salt)
	msg := ledgercompute.MsgJobResultCommit{Job: id, Commitment: c[:]}
	if _, err := p.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobResultCommit, msg)); err != nil {
		return err
	}
	p.mu.Lock()
	p.sealed[id] = &sealedResult{result: result, errText: errText, salt: salt}
	p.mu.Unlock()
	return nil
}

// stepReveals reveals the sealed results the ledger lets it reveal (a tx
// sent at height lands at height+1 or later) and does not show revealed
// yet, resubmitting at most every resubmitBlocks; it forgets the jobs no
// longer sealed (revealed, or missed at the reveal deadline).
func (p *Provider) stepReveals(ctx context.Context, height uint64) {
	p.mu.Lock()
	ids := make([]uint64, 0, len(p.sealed))
	for id := range p.sealed {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	c := p.h.Chain()
	var todo []ledgercompute.MsgJobResultReveal
	p.query(height, func(lc *ledger.Context) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, id := range ids {
			s := p.sealed[id]
			j, err := c.Compute.JobByID(lc, id)
			if err != nil || j.Status != ledgercompute.JobSealed {
				delete(p.sealed, id)
				continue
			}
			from := c.Compute.ResultRevealFrom(lc, id)
			if from == 0 || height+1 < from || (s.sent > 0 && height < s.sent+resubmitBlocks) {
				continue
			}
			s.sent = height
			todo = append(todo, ledgercompute.MsgJobResultReveal{Job: id, Result: s.result, Error: s.errText, Salt: s.salt})
		}
		return nil
	})
	for _, msg := range todo {
		if _, err := p.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobResultReveal, msg)); err != nil {
			p.log.Warn("reveal job result", "id", msg.Job, "err", err)
			continue
		}
		p.log.Info("job result revealed", "id", msg.Job, "result", msg.Result)
	}
}
