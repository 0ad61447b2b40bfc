package compute

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Open-queue entries of container jobs carry a third field after max
// price and deadline: this kind byte (Wasm entries are 16 bytes).
const (
	openBatch   = 'b'
	openService = 's'
)

func checkAllowed(owner keys.Address, allowed []keys.Address) error {
	if len(allowed) > MaxLeaseAllowed {
		return fmt.Errorf("%w: %d keys; at most %d besides the owner", ErrTooManyAllowed, len(allowed), MaxLeaseAllowed)
	}
	for i, a := range allowed {
		if a == owner {
			return fmt.Errorf("%w: allowed[%d] is the owner, who is always allowed; drop it", ledger.ErrInvalidMsg, i)
		}
		if slices.Contains(allowed[:i], a) {
			return fmt.Errorf("%w: allowed[%d] %s is listed twice", ledger.ErrInvalidMsg, i, a)
		}
	}
	return nil
}

func (m *Module) submitContainer(ctx *ledger.Context, sender keys.Address, x MsgJobSubmitContainer) error {
	p := m.Params(ctx)
	if uint64(len(x.Spec)) > p.MaxSpecBytes {
		return fmt.Errorf("%w: %d bytes, limit %d; move large data into inputs (by CID)", ErrSpecTooLarge, len(x.Spec), p.MaxSpecBytes)
	}
	s, err := jobspec.Decode(x.Spec)
	if err != nil {
		return fmt.Errorf("%w: %v (check it with `inferd job validate`)", ErrBadSpec, err)
	}
	image := s.Image.Ref
	if s.Image.CID != "" {
		if err := CheckCID("image.cid", s.Image.CID); err != nil {
			return err
		}
		image = s.Image.CID
	}
	var escrow uint64
	var lease *Lease
	switch s.Kind {
	case jobspec.KindBatch:
		if len(x.Allowed) > 0 {
			return fmt.Errorf("%w: a batch job has no allowed keys (only services accept connections)", ledger.ErrInvalidMsg)
		}
		escrow = s.MaxPrice
	case jobspec.KindService:
		if err := checkAllowed(sender, x.Allowed); err != nil {
			return err
		}
		d := s.Service.DurationBlocks
		if d > p.MaxLeaseBlocks {
			return fmt.Errorf("%w: service.duration_blocks %d; at most max_lease_blocks %d", ErrBadSpec, d, p.MaxLeaseBlocks)
		}
		if escrow, err = ledger.MulDiv(s.Service.PricePerBlock, d, 1); err != nil {
			return fmt.Errorf("%w: price_per_block x duration_blocks overflows", ErrBadPrice)
		}
		lease = &Lease{MaxPerBlock: s.Service.PricePerBlock, DurationBlocks: d, Allowed: x.Allowed}
	}
	if escrow == 0 || escrow > p.MaxJobPrice {
		return fmt.Errorf("%w: escrow %d; a job may cost 1..%d uinf (max_job_price)", ErrBadPrice, escrow, p.MaxJobPrice)
	}
	if err := m.bank.SubBalance(ctx, sender, escrow); err != nil {
		return err
	}
	if err := addTotal(ctx, keyEscrow, escrow); err != nil {
		return err
	}
	id := ctx.GetU64(keyNextJob) + 1
	ctx.SetU64(keyNextJob, id)
	deadline := ledger.MustAdd(ctx.Height, p.ContainerDeadlineBlocks)
	m.putJob(ctx, Job{ID: id, User: sender, Workload: image, MaxPrice: escrow, Status: JobOpen, Submitted: ctx.Height,
		Deadline: deadline, Kind: s.Kind, Spec: x.Spec, MilliCPU: s.Resources.MilliCPU, MemoryBytes: s.Resources.MemoryBytes,
		Lease: lease})
	kind := byte(openBatch)
	if s.Kind == jobspec.KindService {
		kind = openService
	}
	ctx.Set(openKey(id), append(append(u64(escrow), u64(deadline)...), kind))
	ctx.Set(dlKey(deadline, id), []byte{1})
	var gpus uint64
	if s.Resources.GPU != nil {
		gpus = s.Resources.GPU.Count
	}
	ctx.Emit("job_submit", "job", fmt.Sprint(id), "user", sender.String(), "kind", s.Kind, "image", image,
		"max_price", fmt.Sprint(escrow), "gpus", fmt.Sprint(gpus), "deadline", fmt.Sprint(deadline))
	return nil
}

// containerPicker finds, for container jobs, the cheapest fitting
// provider among the block's candidates: by batch price (the avail
// order) or by lease price (sorted once, on first use), ties by uptime
// then address like the avail index.
type containerPicker struct {
	m       *Module
	cands   []candidate
	loaded  bool
	byLease []int
}

func (cp *containerPicker) load(ctx *ledger.Context) error {
	if cp.loaded {
		return nil
	}
	for i := range cp.cands {
		c := &cp.cands[i]
		if c.pr == nil {
			pr, ok := cp.m.provider(ctx, c.addr)
			if !ok {
				return fmt.Errorf("compute: avail index names unknown provider %s", c.addr)
			}
			c.pr = &pr
		}
	}
	cp.byLease = make([]int, len(cp.cands))
	for i := range cp.byLease {
		cp.byLease[i] = i
	}
	slices.SortStableFunc(cp.byLease, func(a, b int) int {
		x, y := cp.cands[a].pr, cp.cands[b].pr
		switch {
		case x.Resources.LeasePrice != y.Resources.LeasePrice:
			return cmpU64(x.Resources.LeasePrice, y.Resources.LeasePrice)
		case x.Uptime != y.Uptime:
			return cmpU64(y.Uptime, x.Uptime)
		}
		return bytes.Compare(x.Address[:], y.Address[:])
	})
	cp.loaded = true
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// assign tries to place container job id; each candidate examined costs
// one unit of the scan budget. It reports whether the job was assigned.
func (cp *containerPicker) assign(ctx *ledger.Context, id uint64, service bool, budget *uint64) (bool, error) {
	if err := cp.load(ctx); err != nil {
		return false, err
	}
	j, ok := cp.m.job(ctx, id)
	if !ok {
		return false, fmt.Errorf("compute: open queue names unknown job %d", id)
	}
	s, err := jobspec.Decode(j.Spec)
	if err != nil {
		return false, fmt.Errorf("compute: stored spec of job %d: %w", id, err) // validated at submit
	}
	n := needOf(s)
	for k := range cp.cands {
		if *budget == 0 {
			return false, nil
		}
		*budget--
		i := k
		if service {
			i = cp.byLease[k]
		}
		c := &cp.cands[i]
		alloc, price, ok := fit(c.pr, n)
		if !ok {
			continue
		}
		j.Status, j.Provider, j.Assigned, j.Price = JobAssigned, c.addr, ctx.Height, price
		if gpusInUse(Usage{GPUs: alloc}) {
			j.GPUAlloc = alloc
		}
		if j.Lease != nil {
			j.Lease.PricePerBlock = price
		}
		hold(c.pr, &j)
		c.pr.ActiveJobs++
		c.dirty = true
		cp.m.putJob(ctx, j)
		ctx.Delete(openKey(id))
		ctx.Set(jprovKey(c.addr, id), []byte{1})
		ctx.Emit("job_assign", "job", fmt.Sprint(id), "provider", c.addr.String(), "price", fmt.Sprint(price), "kind", j.Kind)
		return true, nil
	}
	return false, nil // nobody fits now: it waits (and expires at its deadline with a full refund)
}

// containerResult reports a container batch job. Who pays: see the Fail*
// classes; the provider is never slashed for a reported failure.
func (m *Module) containerResult(ctx *ledger.Context, sender keys.Address, x MsgJobContainerResult) error {
	j, ok := m.job(ctx, x.Job)
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownJob, x.Job)
	}
	if j.Kind != KindBatch {
		return fmt.Errorf("%w: job %d is kind %q; Wasm jobs report with job/result, services end with lease/close", ErrNotContainer, j.ID, j.Kind)
	}
	if j.Status != JobAssigned {
		return fmt.Errorf("%w: job %d is %s", ErrJobClosed, j.ID, j.Status)
	}
	if j.Provider != sender {
		return fmt.Errorf("%w: job %d is assigned to %s", ErrNotAssignee, j.ID, j.Provider)
	}
	switch x.Failure {
	case FailNone:
		if x.Outputs == "" {
			return fmt.Errorf("%w: a successful job needs the outputs CID", ledger.ErrInvalidMsg)
		}
		if x.ExitCode != 0 {
			return fmt.Errorf("%w: exit code %d with failure %q; report %q", ledger.ErrInvalidMsg, x.ExitCode, FailNone, FailExitNonzero)
		}
	case FailExitNonzero:
		if x.ExitCode == 0 {
			return fmt.Errorf("%w: failure %q with exit code 0", ledger.ErrInvalidMsg, FailExitNonzero)
		}
	case FailImageInvalid, FailOOM, FailTimeLimit, FailOutputLimit, FailProviderError:
	default:
		return fmt.Errorf("%w: %q; use %s, %s, %s, %s, %s, %s or %s", ErrBadFailure, x.Failure, FailNone, FailImageInvalid,
			FailExitNonzero, FailOOM, FailTimeLimit, FailOutputLimit, FailProviderError)
	}
	if x.Outputs != "" {
		if err := CheckCID("outputs", x.Outputs); err != nil {
			return err
		}
	}
	if x.Logs != "" {
		if err := CheckCID("logs", x.Logs); err != nil {
			return err
		}
	}
	j.Outputs, j.Logs, j.ExitCode, j.Failure = x.Outputs, x.Logs, x.ExitCode, x.Failure
	charge := j.Price
	j.Status = JobDone
	if x.Failure != FailNone {
		j.Status, j.Error = JobFailed, x.Failure
	}
	if x.Failure == FailProviderError {
		charge = 0
	}
	if err := m.settle(ctx, &j, charge); err != nil {
		return err
	}
	m.putJob(ctx, j)
	if pr, ok := m.provider(ctx, sender); ok {
		pr.ActiveJobs--
		release(&pr, &j)
		m.putProvider(ctx, pr)
	}
	// Not re-executable (a container is not deterministic): a done job
	// counts as served work at once.
	if j.Status == JobDone {
		creditServed(ctx, sender, charge)
	}
	ctx.Emit("job_result", "job", fmt.Sprint(j.ID), "provider", sender.String(), "status", j.Status,
		"failure", x.Failure, "exit_code", fmt.Sprint(x.ExitCode), "outputs", x.Outputs, "logs", x.Logs,
		"burned", fmt.Sprint(j.Charged), "refunded", fmt.Sprint(j.Refunded))
	return nil
}
