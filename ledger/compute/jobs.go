package compute

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// CheckCID accepts a CID in its canonical string form (base32 for v1,
// base58 "Qm..." for v0), so one content has one spelling on the ledger.
func CheckCID(field, s string) error {
	c, err := cid.Decode(s)
	if err != nil {
		return fmt.Errorf("%w: %s %q: %v", ErrBadCID, field, s, err)
	}
	if c.String() != s {
		return fmt.Errorf("%w: %s %q is not in canonical form; use %s", ErrBadCID, field, s, c.String())
	}
	return nil
}

func (m *Module) submitJob(ctx *ledger.Context, sender keys.Address, x MsgJobSubmit) error {
	p := m.Params(ctx)
	if err := CheckCID("workload", x.Workload); err != nil {
		return err
	}
	if err := CheckCID("input", x.Input); err != nil {
		return err
	}
	if x.InputSize > p.MaxInputBytes {
		return fmt.Errorf("%w: input is %d bytes, limit %d", ErrInputTooLarge, x.InputSize, p.MaxInputBytes)
	}
	if x.MaxPrice == 0 || x.MaxPrice > p.MaxJobPrice {
		return fmt.Errorf("%w: max price %d; use 1..%d uinf", ErrBadPrice, x.MaxPrice, p.MaxJobPrice)
	}
	if err := m.bank.SubBalance(ctx, sender, x.MaxPrice); err != nil {
		return err
	}
	if err := addTotal(ctx, keyEscrow, x.MaxPrice); err != nil {
		return err
	}
	id := ctx.GetU64(keyNextJob) + 1
	ctx.SetU64(keyNextJob, id)
	deadline := ledger.MustAdd(ctx.Height, p.JobDeadlineBlocks)
	m.putJob(ctx, Job{ID: id, User: sender, Workload: x.Workload, Input: x.Input, InputSize: x.InputSize,
		MaxPrice: x.MaxPrice, Status: JobOpen, Submitted: ctx.Height, Deadline: deadline})
	// The open queue carries max price and deadline so that assignment
	// scans it without decoding jobs.
	ctx.Set(openKey(id), append(u64(x.MaxPrice), u64(deadline)...))
	ctx.Set(dlKey(deadline, id), []byte{1})
	ctx.Emit("job_submit", "job", fmt.Sprint(id), "user", sender.String(), "max_price", fmt.Sprint(x.MaxPrice),
		"deadline", fmt.Sprint(deadline))
	return nil
}

type candidate struct {
	addr  keys.Address
	price uint64
	pr    *Provider // loaded on first use
	dirty bool      // got a job: saved at the end
}

// assignJobs gives open jobs, oldest first, to the cheapest live provider
// with free capacity whose price is at most the job's max price (ties: more
// uptime, then lower address: the order of the avail index). A job with
// fewer than job_min_run_blocks left before its deadline is not assigned.
//
// Work per block is bounded whatever the backlog: at most
// max_assign_per_block assignments, and at most max_scan_per_block open
// queue entries examined, by id from the oldest open job (jlow). When the
// scan budget runs out first, the next block resumes where it stopped
// (jcursor) and wraps to the oldest after the newest, so a backlog of jobs
// nobody is cheap enough for delays the others but never stalls them.
func (m *Module) assignJobs(ctx *ledger.Context, p Params) error {
	var cands []candidate
	ctx.Iterate([]byte(availPrefix), func(k, _ []byte) bool {
		rest := k[len(availPrefix):]
		if len(rest) == 16+keys.AddressLen {
			cands = append(cands, candidate{addr: keys.Address(rest[16:]), price: binary.BigEndian.Uint64(rest)})
		}
		return true
	})
	last := ctx.GetU64(keyNextJob)
	oldLow, oldCursor := ctx.GetU64(keyOpenLow), ctx.GetU64(keyOpenCursor)
	low := max(oldLow, 1)
	budget := p.MaxScanPerBlock
	for low <= last && budget > 0 && !ctx.Has(openKey(low)) {
		low++
		budget--
	}
	if low != oldLow && last > 0 {
		ctx.SetU64(keyOpenLow, low)
	}
	if len(cands) == 0 || low > last {
		if oldCursor != 0 {
			ctx.SetU64(keyOpenCursor, 0)
		}
		return nil
	}
	id := oldCursor
	if id < low || id > last {
		id = low
	}
	head, assigned := 0, uint64(0)
	picker := containerPicker{m: m, cands: cands}
	for ; id <= last && budget > 0 && assigned < p.MaxAssignPerBlock && head < len(cands); id++ {
		budget--
		v := ctx.Get(openKey(id))
		if len(v) == 17 { // a container job: matched on resources (containers.go)
			deadline := binary.BigEndian.Uint64(v[8:])
			if deadline <= ctx.Height || deadline-ctx.Height < p.JobMinRunBlocks {
				continue
			}
			ok, err := picker.assign(ctx, id, v[16] == openService, &budget)
			if err != nil {
				return err
			}
			if ok {
				assigned++
			}
			continue
		}
		if len(v) != 16 {
			continue // assigned or ended
		}
		maxPrice, deadline := binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
		if deadline <= ctx.Height || deadline-ctx.Height < p.JobMinRunBlocks {
			continue
		}
		// The first candidate with room is the cheapest; skip full ones.
		for head < len(cands) {
			c := &cands[head]
			if c.pr == nil {
				pr, ok := m.provider(ctx, c.addr)
				if !ok {
					return fmt.Errorf("compute: avail index names unknown provider %s", c.addr)
				}
				c.pr = &pr
			}
			if c.pr.ActiveJobs < c.pr.Capacity {
				break
			}
			head++
		}
		if head >= len(cands) {
			break
		}
		c := &cands[head]
		if c.price > maxPrice {
			continue // nobody is cheap enough: the job waits (and expires at its deadline)
		}
		j, ok := m.job(ctx, id)
		if !ok {
			return fmt.Errorf("compute: open queue names unknown job %d", id)
		}
		j.Status, j.Provider, j.Assigned, j.Price = JobAssigned, c.addr, ctx.Height, c.price
		m.putJob(ctx, j)
		ctx.Delete(openKey(id))
		ctx.Set(jprovKey(c.addr, id), []byte{1})
		c.pr.ActiveJobs++
		c.dirty = true
		assigned++
		ctx.Emit("job_assign", "job", fmt.Sprint(j.ID), "provider", c.addr.String(), "price", fmt.Sprint(c.price))
	}
	// Resume next block only when the scan budget cut this one short.
	cursor := uint64(0)
	if budget == 0 && id <= last {
		cursor = id
	}
	if cursor != oldCursor {
		ctx.SetU64(keyOpenCursor, cursor)
	}
	for _, c := range cands {
		if c.dirty {
			m.putProvider(ctx, *c.pr)
		}
	}
	return nil
}

// settle ends a job's escrow: charge is burned, the rest refunded.
func (m *Module) settle(ctx *ledger.Context, j *Job, charge uint64) error {
	subTotal(ctx, keyEscrow, j.MaxPrice)
	if charge > 0 {
		m.bank.NoteBurned(ctx, charge)
	}
	refund := j.MaxPrice - charge
	if refund > 0 {
		if err := m.bank.AddBalance(ctx, j.User, refund); err != nil {
			return err
		}
	}
	j.Charged, j.Refunded, j.Finished = charge, refund, ctx.Height
	ctx.Delete(dlKey(j.Deadline, j.ID))
	if j.Status != JobOpen && j.Status != JobExpired {
		ctx.Delete(jprovKey(j.Provider, j.ID))
	}
	return nil
}

// reportable checks that sender may report job id: a Wasm job assigned to
// it.
func (m *Module) reportable(ctx *ledger.Context, sender keys.Address, id uint64) (Job, error) {
	j, ok := m.job(ctx, id)
	if !ok {
		return Job{}, fmt.Errorf("%w: %d", ErrUnknownJob, id)
	}
	if j.Kind != KindWasm {
		return Job{}, fmt.Errorf("%w: job %d is a %s container job; report it with job/container_result (services: lease messages)", ErrNotWasm, j.ID, j.Kind)
	}
	if j.Status != JobAssigned {
		return Job{}, fmt.Errorf("%w: job %d is %s", ErrJobClosed, j.ID, j.Status)
	}
	if j.Provider != sender {
		return Job{}, fmt.Errorf("%w: job %d is assigned to %s", ErrNotAssignee, j.ID, j.Provider)
	}
	return j, nil
}

// checkOutcome checks a report's result CID or error text: exactly one.
func checkOutcome(result, errText string) error {
	switch {
	case result != "" && errText != "":
		return fmt.Errorf("%w: give a result CID or an error, not both", ledger.ErrInvalidMsg)
	case result != "":
		return CheckCID("result", result)
	case errText != "" && len(errText) <= MaxErrorBytes:
		return nil
	}
	return fmt.Errorf("%w: a result needs a result CID or an error of 1..%d bytes", ledger.ErrInvalidMsg, MaxErrorBytes)
}

// jobResult takes a result in the clear while nothing is re-executed
// (reexec_ppm 0: no validator to copy it, and the sealed flow in
// jobs_reveal.go would only add latency), and a "content unavailable"
// failure at any time: that claim is never drawn for re-execution.
func (m *Module) jobResult(ctx *ledger.Context, sender keys.Address, x MsgJobResult) error {
	j, err := m.reportable(ctx, sender, x.Job)
	if err != nil {
		return err
	}
	if m.Params(ctx).ReexecPPM > 0 && (x.Result != "" || !strings.HasPrefix(x.Error, ContentUnavailable)) {
		return fmt.Errorf("%w (job %d; only a %q failure may be reported in the clear)", ErrResultInClear, j.ID, ContentUnavailable)
	}
	if err := checkOutcome(x.Result, x.Error); err != nil {
		return err
	}
	if x.Result != "" {
		j.Status, j.Result = JobDone, x.Result
	} else {
		j.Status, j.Error = JobFailed, x.Error
	}
	// A failed job is charged like a done one: rejecting the workload was
	// the provider's work.
	if err := m.settle(ctx, &j, j.Price); err != nil {
		return err
	}
	if j.Status == JobDone {
		creditServed(ctx, sender, j.Charged) // nothing can contradict it
	}
	m.putJob(ctx, j)
	if pr, ok := m.provider(ctx, sender); ok {
		pr.ActiveJobs--
		m.putProvider(ctx, pr)
	}
	ctx.Emit("job_result", "job", fmt.Sprint(j.ID), "provider", sender.String(), "status", j.Status,
		"burned", fmt.Sprint(j.Charged), "refunded", fmt.Sprint(j.Refunded))
	return nil
}

// jobDeadlines ends every escrow whose deadline is this height: an open job
// expires, an assigned one is missed, and so is a sealed one not revealed;
// all refund the user in full. The provider of a missed job is slashed
// job_slash_ppm and counted down.
func (m *Module) jobDeadlines(ctx *ledger.Context, p Params) error {
	for _, id := range idsAt(ctx, dlPrefix, ctx.Height) {
		j, ok := m.job(ctx, id)
		if !ok {
			ctx.Delete(dlKey(ctx.Height, id))
			continue
		}
		switch j.Status {
		case JobOpen:
			ctx.Delete(openKey(id))
			j.Status = JobExpired
		case JobAssigned:
			j.Status = JobMissed
			if pr, ok := m.provider(ctx, j.Provider); ok {
				pr.ActiveJobs--
				release(&pr, &j)
				m.slash(ctx, p, &pr, p.JobSlashPPM, fmt.Sprintf("missed job %d", id))
				m.downtime(ctx, p, &pr, fmt.Sprintf("missed job %d", id))
				m.putProvider(ctx, pr)
			}
		case JobSealed:
			m.missedReveal(ctx, p, &j)
		default:
			ctx.Delete(dlKey(ctx.Height, id))
			continue
		}
		if err := m.settle(ctx, &j, 0); err != nil {
			return err
		}
		m.putJob(ctx, j)
		ctx.Emit("job_"+j.Status, "job", fmt.Sprint(id), "refunded", fmt.Sprint(j.Refunded))
	}
	return nil
}

func sortAddrs(a []keys.Address) {
	slices.SortFunc(a, func(x, y keys.Address) int { return bytes.Compare(x[:], y[:]) })
}
