package compute

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Sealed results (docs/compute.md, "Sealed results"). While reexec_ppm > 0
// a Wasm job's provider does not report its result CID in the clear: it
// sends job/result_commit with ResultCommitment(result or error, a salt,
// its address), and job/result_reveal with the result and the salt once
// the re-execution draw is past, and, if the job was drawn, once the
// validators' commit window has closed. So a validator drawn to re-execute
// the job cannot copy the provider's result: every re-execution commitment
// is on the ledger before the result is. The job settles (fee burned, rest
// refunded, result shown to the user) on the reveal; a sealed job not
// revealed by its reveal deadline is missed (provider slashed
// job_slash_ppm, user refunded in full).

// Message types of the sealed result.
const (
	MsgTypeJobResultCommit = "job/result_commit"
	MsgTypeJobResultReveal = "job/result_reveal"
)

// ContentUnavailable prefixes the error a provider reports, in the clear,
// for a job whose workload or input it could not fetch: such a claim is
// never re-executed (the content may appear later, published by the user
// to get the provider slashed), so there is nothing to seal.
const ContentUnavailable = "content unavailable"

// JobSealed is a job whose provider committed to its result and has not
// revealed it yet ("result pending reveal"). Its Deadline is the reveal
// deadline.
const JobSealed = "sealed"

// Errors of the sealed result.
var (
	ErrResultInClear   = errors.New("a Wasm job's result in the clear (job/result) is refused while reexec_ppm > 0: send job/result_commit, then job/result_reveal after the re-execution draw")
	ErrNotSealed       = errors.New("job has no sealed result")
	ErrResultReveal    = errors.New("not yet time to reveal the job's result")
	ErrResultMismatch  = errors.New("the result reveal does not match the commitment")
	errSealedStoreSize = errors.New("compute: sealed result record is not 40 bytes")
)

// MsgJobResultCommit seals an assigned Wasm job's result.
type MsgJobResultCommit struct {
	_          struct{} `cbor:",toarray"`
	Job        uint64
	Commitment []byte // ResultCommitment, 32 bytes
}

// MsgJobResultReveal opens a sealed result: the result CID, or the error
// text of a workload that cannot run, and the salt.
type MsgJobResultReveal struct {
	_      struct{} `cbor:",toarray"`
	Job    uint64
	Result string
	Error  string
	Salt   []byte
}

// ResultCommitment is SHA-256 over the chain id, the job, the provider,
// the result CID, the error text and the salt (each length-prefixed).
func ResultCommitment(chainID string, job uint64, provider keys.Address, result, errText string, salt []byte) [32]byte {
	return commitHash("inferd/compute/v1/result-commit", []byte(chainID), u64(job), provider[:], []byte(result), []byte(errText), salt)
}

// JobInFlight reports whether a job with this status may still change
// result: open, assigned, sealed or running (a waiting client goes on).
func JobInFlight(status string) bool {
	return status == JobOpen || status == JobAssigned || status == JobSealed || status == JobRunning
}

const rsealPrefix = "compute/rseal/" // <id>: commitment (32) || u64be(commit height)

func rsealKey(id uint64) []byte { return cat(rsealPrefix, u64(id)) }

// plantEarlyResult is a planted weakening for the copying-re-executor
// attack test only (jobs_reveal_attack_test.go): when true a sealed result
// may be revealed while validators still commit, i.e. readable early. No
// production code sets it.
var plantEarlyResult bool

func (m *Module) resultCommit(ctx *ledger.Context, sender keys.Address, x MsgJobResultCommit) error {
	j, err := m.reportable(ctx, sender, x.Job)
	if err != nil {
		return err
	}
	if len(x.Commitment) != 32 {
		return fmt.Errorf("%w: commitment is %d bytes, want 32 (compute.ResultCommitment)", ledger.ErrInvalidMsg, len(x.Commitment))
	}
	p := m.Params(ctx)
	ctx.Set(rsealKey(j.ID), append(bytes.Clone(x.Commitment), u64(ctx.Height)...))
	// The reveal deadline is the end of a re-execution window opened by
	// the draw in the next block, drawn or not (one rule for both).
	ctx.Delete(dlKey(j.Deadline, j.ID))
	j.Status, j.Deadline = JobSealed, ledger.MustAdd(ctx.Height, 1+p.ReexecWindowBlocks)
	ctx.Set(dlKey(j.Deadline, j.ID), []byte{1})
	ctx.Set(drawKey(ctx.Height+1, j.ID), []byte{1})
	m.putJob(ctx, j)
	if pr, ok := m.provider(ctx, sender); ok {
		pr.ActiveJobs-- // its work is done: the slot is free
		m.putProvider(ctx, pr)
	}
	ctx.Emit("job_result_commit", "job", fmt.Sprint(j.ID), "provider", sender.String(), "reveal_by", fmt.Sprint(j.Deadline))
	return nil
}

// ResultRevealFrom is the first height at which job id's sealed result may
// be revealed (0 when it has none): the draw block if it was not drawn,
// the end of the validators' commit window if it was. Read before the
// draw (at the commit's height) it is the later of the two, as if drawn.
func (m *Module) ResultRevealFrom(ctx *ledger.Context, id uint64) uint64 {
	v := ctx.Get(rsealKey(id))
	j, ok := m.job(ctx, id)
	if len(v) != 40 || !ok {
		return 0
	}
	draw := binary.BigEndian.Uint64(v[32:]) + 1 // BeginBlock draws before the block's txs
	switch {
	case plantEarlyResult:
		return draw
	case ctx.Has(drawKey(draw, id)):
		return draw + reexecCommitBlocks(j.Deadline-draw)
	case j.Reexec == ReexecPending:
		return max(draw, m.ReexecCommitEnd(ctx, id))
	}
	return draw
}

func (m *Module) resultReveal(ctx *ledger.Context, sender keys.Address, x MsgJobResultReveal) error {
	j, ok := m.job(ctx, x.Job)
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownJob, x.Job)
	}
	if j.Status != JobSealed {
		return fmt.Errorf("%w: job %d is %s", ErrNotSealed, j.ID, j.Status)
	}
	if j.Provider != sender {
		return fmt.Errorf("%w: job %d is assigned to %s", ErrNotAssignee, j.ID, j.Provider)
	}
	v := ctx.Get(rsealKey(j.ID))
	if len(v) != 40 {
		return errSealedStoreSize
	}
	if from := m.ResultRevealFrom(ctx, j.ID); ctx.Height < from {
		return fmt.Errorf("%w: job %d reveals from height %d (now %d; until %d): revealed earlier, re-executing validators could copy it", ErrResultReveal, j.ID, from, ctx.Height, j.Deadline)
	}
	if err := checkOutcome(x.Result, x.Error); err != nil {
		return err
	}
	if err := checkSalt(x.Salt); err != nil {
		return err
	}
	if want := ResultCommitment(ctx.ChainID, j.ID, sender, x.Result, x.Error, x.Salt); !bytes.Equal(v[:32], want[:]) {
		return fmt.Errorf("%w: job %d (result, error and salt must be those committed)", ErrResultMismatch, j.ID)
	}
	ctx.Delete(rsealKey(j.ID))
	if x.Result != "" {
		j.Status, j.Result = JobDone, x.Result
	} else {
		j.Status, j.Error = JobFailed, x.Error
	}
	if err := m.settle(ctx, &j, j.Price); err != nil {
		return err
	}
	if j.Reexec == ReexecNone && j.Status == JobDone {
		creditServed(ctx, sender, j.Charged) // not drawn: nothing will contradict it
	}
	m.putJob(ctx, j)
	ctx.Emit("job_result", "job", fmt.Sprint(j.ID), "provider", sender.String(), "status", j.Status,
		"burned", fmt.Sprint(j.Charged), "refunded", fmt.Sprint(j.Refunded))
	return nil
}

// missedReveal ends a sealed job at its reveal deadline: missed, like a job
// never reported (the provider's slot was freed at the commit).
func (m *Module) missedReveal(ctx *ledger.Context, p Params, j *Job) {
	ctx.Delete(rsealKey(j.ID))
	j.Status = JobMissed
	if pr, ok := m.provider(ctx, j.Provider); ok {
		why := fmt.Sprintf("job %d result never revealed", j.ID)
		m.slash(ctx, p, &pr, p.JobSlashPPM, why)
		m.downtime(ctx, p, &pr, why)
		m.putProvider(ctx, pr)
	}
}
