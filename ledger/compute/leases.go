package compute

import (
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Store prefixes of leases and served work (see the package docs).
const (
	lwinPrefix  = "compute/lwin/"  // <height><id>: a running lease's window decided at height
	latPrefix   = "compute/lat/"   // <id><window><validator>: health verdict (1 ok, 0 not)
	lgonePrefix = "compute/lgone/" // <addr>: a jailed provider whose leases end next end-block
	srvPrefix   = "compute/srv/"   // <addr>: fees burned for its served work this epoch
)

func lwinKey(height, id uint64) []byte { return cat(lwinPrefix, u64(height), u64(id)) }
func latKey(id, window uint64, v keys.Address) []byte {
	return cat(latPrefix, u64(id), u64(window), v[:])
}
func srvKey(a keys.Address) []byte { return cat(srvPrefix, a[:]) }

// windowBounds is window w's first and last height.
func (l *Lease) windowBounds(w uint64) (start, end uint64) {
	start = l.Started + w*l.ProbeBlocks
	return start, min(start+l.ProbeBlocks-1, l.End)
}

// windowAt is the window that height h (Started..End) falls in.
func (l *Lease) windowAt(h uint64) uint64 { return (h - l.Started) / l.ProbeBlocks }

// creditServed adds fees burned for a's served work to this epoch's tally.
func creditServed(ctx *ledger.Context, a keys.Address, fees uint64) {
	if fees == 0 {
		return
	}
	ctx.SetU64(srvKey(a), satAdd(ctx.GetU64(srvKey(a)), fees))
}

// leaseJob loads a service job for a lease message.
func (m *Module) leaseJob(ctx *ledger.Context, id uint64) (Job, error) {
	j, ok := m.job(ctx, id)
	if !ok {
		return j, fmt.Errorf("%w: lease %d", ErrUnknownJob, id)
	}
	if j.Kind != KindService || j.Lease == nil {
		return j, fmt.Errorf("%w: job %d is kind %q", ErrNotLease, id, j.Kind)
	}
	return j, nil
}

func (m *Module) leaseStart(ctx *ledger.Context, sender keys.Address, x MsgLeaseStart) error {
	j, err := m.leaseJob(ctx, x.Lease)
	if err != nil {
		return err
	}
	if j.Status != JobAssigned {
		return fmt.Errorf("%w: lease %d is %s; only an assigned lease starts", ErrLeaseState, j.ID, j.Status)
	}
	if j.Provider != sender {
		return fmt.Errorf("%w: lease %d is assigned to %s", ErrNotAssignee, j.ID, j.Provider)
	}
	p := m.Params(ctx)
	l := j.Lease
	l.Started, l.ProbeBlocks = ctx.Height, p.LeaseProbeBlocks
	l.End = ledger.MustAdd(ctx.Height, l.DurationBlocks-1)
	j.Status = JobRunning
	ctx.Delete(dlKey(j.Deadline, j.ID)) // the lease's own end replaces the start deadline
	_, we := l.windowBounds(0)
	ctx.Set(lwinKey(we, j.ID), []byte{1})
	m.putJob(ctx, j)
	ctx.Emit("lease_start", "lease", fmt.Sprint(j.ID), "provider", sender.String(), "price_per_block", fmt.Sprint(l.PricePerBlock),
		"end", fmt.Sprint(l.End))
	return nil
}

func (m *Module) ownLease(ctx *ledger.Context, sender keys.Address, id uint64) (Job, error) {
	j, err := m.leaseJob(ctx, id)
	if err != nil {
		return j, err
	}
	if j.User != sender {
		return j, fmt.Errorf("%w: lease %d belongs to %s", ErrNotOwner, j.ID, j.User)
	}
	if j.Status != JobOpen && j.Status != JobAssigned && j.Status != JobRunning {
		return j, fmt.Errorf("%w: lease %d has ended (%s)", ErrLeaseState, j.ID, j.Status)
	}
	return j, nil
}

func (m *Module) leaseAllow(ctx *ledger.Context, sender keys.Address, x MsgLeaseAllow) error {
	j, err := m.ownLease(ctx, sender, x.Lease)
	if err != nil {
		return err
	}
	if err := checkAllowed(sender, x.Allowed); err != nil {
		return err
	}
	j.Lease.Allowed = x.Allowed
	m.putJob(ctx, j)
	ctx.Emit("lease_allow", "lease", fmt.Sprint(j.ID), "allowed", fmt.Sprint(len(x.Allowed)))
	return nil
}

// leaseClose ends the owner's lease now. The current window's blocks
// before this height are decided from the attestations so far (the same
// rule as a full window); the rest of the escrow is refunded.
func (m *Module) leaseClose(ctx *ledger.Context, sender keys.Address, x MsgLeaseClose) error {
	j, err := m.ownLease(ctx, sender, x.Lease)
	if err != nil {
		return err
	}
	if j.Status == JobOpen {
		ctx.Delete(openKey(j.ID))
		j.Status = JobExpired
		j.Lease.Ended, j.Lease.EndReason = ctx.Height, LeaseEndClosed
		if err := m.settle(ctx, &j, 0); err != nil {
			return err
		}
		m.putJob(ctx, j)
		ctx.Emit("lease_end", "lease", fmt.Sprint(j.ID), "reason", LeaseEndClosed, "refunded", fmt.Sprint(j.Refunded))
		return nil
	}
	pr, ok := m.provider(ctx, j.Provider)
	if !ok {
		return fmt.Errorf("compute: lease %d names unknown provider %s", j.ID, j.Provider)
	}
	if j.Status == JobRunning {
		l := j.Lease
		w := l.windowAt(ctx.Height)
		ws, we := l.windowBounds(w)
		ctx.Delete(lwinKey(we, j.ID)) // decided here, not at its end
		m.decideWindow(ctx, &j, &pr, w, ctx.Height-ws, nil)
	}
	if err := m.endLease(ctx, &j, &pr, LeaseEndClosed); err != nil {
		return err
	}
	m.putProvider(ctx, pr)
	return nil
}

func (m *Module) leaseAttest(ctx *ledger.Context, sender keys.Address, x MsgLeaseAttest) error {
	j, err := m.leaseJob(ctx, x.Lease)
	if err != nil {
		return err
	}
	if j.Status != JobRunning {
		return fmt.Errorf("%w: lease %d is %s; only running leases are probed", ErrLeaseState, j.ID, j.Status)
	}
	if w := j.Lease.windowAt(ctx.Height); w != x.Window {
		return fmt.Errorf("%w: window %d, lease %d is in window %d now", ErrWrongWindow, x.Window, j.ID, w)
	}
	if !m.staking.IsBonded(ctx, sender) {
		return fmt.Errorf("%w: %s", ErrNotValidator, sender)
	}
	if sender == j.Provider || sender == j.User {
		return fmt.Errorf("%w: %s is a party to lease %d", ErrSelfAttest, sender, j.ID)
	}
	k := latKey(j.ID, x.Window, sender)
	if ctx.Has(k) {
		return fmt.Errorf("%w: %s on lease %d window %d", ErrAlreadyAttested, sender, j.ID, x.Window)
	}
	v := byte(0)
	if x.OK {
		v = 1
	}
	ctx.Set(k, []byte{v})
	ctx.Emit("lease_attest", "lease", fmt.Sprint(j.ID), "window", fmt.Sprint(x.Window), "validator", sender.String(), "ok", fmt.Sprint(x.OK))
	return nil
}

// powers is the bonded validators' stake by operator, loaded once per
// end-block on first use.
type powers struct {
	m *Module
	p map[keys.Address]uint64
}

func (pw *powers) of(ctx *ledger.Context, a keys.Address) uint64 {
	if pw.p == nil {
		pw.p = map[keys.Address]uint64{}
		for _, v := range pw.m.staking.BondedValidators(ctx) {
			pw.p[v.Operator] = v.Tokens
		}
	}
	return pw.p[a]
}

// decideWindow decides window w of a running lease over its first blocks
// blocks and deletes its attestations. Healthy (attesters with more than
// half of the attesting stake say ok): the blocks are charged (burned)
// and credited to the provider as served work. Unhealthy: free to the
// user, nothing to the provider, one more window down. Unattested:
// charged, not credited (nobody vouched for it). The caller saves j and pr.
func (m *Module) decideWindow(ctx *ledger.Context, j *Job, pr *Provider, w, blocks uint64, pw *powers) {
	if pw == nil {
		pw = &powers{m: m}
	}
	pw.of(ctx, pr.Address) // load the stakes before iterating (no nested iteration)
	pfx := cat(latPrefix, u64(j.ID), u64(w))
	var ok, all uint64
	var seen [][]byte
	ctx.Iterate(pfx, func(k, v []byte) bool {
		if len(k) == len(pfx)+keys.AddressLen && len(v) == 1 {
			s := pw.of(ctx, keys.Address(k[len(pfx):]))
			all = satAdd(all, s)
			if v[0] == 1 {
				ok = satAdd(ok, s)
			}
		}
		seen = append(seen, append([]byte(nil), k...))
		return true
	})
	for _, k := range seen {
		ctx.Delete(k)
	}
	l := j.Lease
	health := HealthUnattested
	switch {
	case all > 0 && ledger.CompareProducts(2, ok, 1, all) > 0:
		health = HealthOK
	case all > 0:
		health = HealthBad
	}
	l.Window, l.LastHealth = w+1, health
	if blocks == 0 {
		return
	}
	if health == HealthBad {
		l.FreeBlocks += blocks
		l.DownWindows++
	} else {
		charge := l.PricePerBlock * blocks // <= MaxPerBlock x DurationBlocks = MaxPrice: no overflow
		subTotal(ctx, keyEscrow, charge)
		m.bank.NoteBurned(ctx, charge)
		j.Charged += charge
		l.ChargedBlocks += blocks
		if health == HealthOK {
			l.HealthyBlocks += blocks
			l.DownWindows = 0
			creditServed(ctx, pr.Address, charge)
		}
	}
	ctx.Emit("lease_window", "lease", fmt.Sprint(j.ID), "window", fmt.Sprint(w), "health", health,
		"blocks", fmt.Sprint(blocks), "ok_stake", fmt.Sprint(ok), "attesting_stake", fmt.Sprint(all))
}

// endLease refunds what is left of the lease's escrow and frees the
// provider's slot and resources. The caller saves pr.
func (m *Module) endLease(ctx *ledger.Context, j *Job, pr *Provider, reason string) error {
	l := j.Lease
	switch j.Status {
	case JobAssigned:
		ctx.Delete(dlKey(j.Deadline, j.ID))
	case JobRunning:
		if l.Window*l.ProbeBlocks < l.DurationBlocks {
			_, we := l.windowBounds(l.Window)
			ctx.Delete(lwinKey(we, j.ID))
		}
		// Attestations of a window not yet decided (none when the close
		// decided the current one).
		pfx := cat(latPrefix, u64(j.ID))
		var stale [][]byte
		ctx.Iterate(pfx, func(k, _ []byte) bool { stale = append(stale, append([]byte(nil), k...)); return true })
		for _, k := range stale {
			ctx.Delete(k)
		}
	}
	refund := j.MaxPrice - j.Charged
	subTotal(ctx, keyEscrow, refund)
	if refund > 0 {
		if err := m.bank.AddBalance(ctx, j.User, refund); err != nil {
			return err
		}
	}
	j.Refunded, j.Finished, j.Status = refund, ctx.Height, JobDone
	l.Ended, l.EndReason = ctx.Height, reason
	ctx.Delete(jprovKey(j.Provider, j.ID))
	pr.ActiveJobs--
	release(pr, j)
	m.putJob(ctx, *j)
	ctx.Emit("lease_end", "lease", fmt.Sprint(j.ID), "provider", j.Provider.String(), "reason", reason,
		"charged_blocks", fmt.Sprint(l.ChargedBlocks), "burned", fmt.Sprint(j.Charged), "refunded", fmt.Sprint(refund))
	return nil
}

// leaseWindows decides every lease window that ends at this height (one
// index entry per running lease, at its current window's last height), and
// ends the leases whose duration is over or that were down
// lease_down_windows windows in a row.
func (m *Module) leaseWindows(ctx *ledger.Context, p Params) error {
	ids := idsAt(ctx, lwinPrefix, ctx.Height)
	pw := &powers{m: m}
	for _, id := range ids {
		ctx.Delete(lwinKey(ctx.Height, id))
		j, ok := m.job(ctx, id)
		if !ok || j.Status != JobRunning || j.Lease == nil {
			continue
		}
		pr, ok := m.provider(ctx, j.Provider)
		if !ok {
			return fmt.Errorf("compute: lease %d names unknown provider %s", id, j.Provider)
		}
		l := j.Lease
		w := l.Window
		ws, we := l.windowBounds(w)
		m.decideWindow(ctx, &j, &pr, w, we-ws+1, pw)
		switch {
		case ctx.Height >= l.End:
			if err := m.endLease(ctx, &j, &pr, LeaseEndDuration); err != nil {
				return err
			}
		case l.DownWindows >= p.LeaseDownWindows:
			m.downtime(ctx, p, &pr, fmt.Sprintf("lease %d unhealthy", id))
			if err := m.endLease(ctx, &j, &pr, LeaseEndUnhealthy); err != nil {
				return err
			}
		default:
			_, next := l.windowBounds(l.Window)
			ctx.Set(lwinKey(next, id), []byte{1})
			m.putJob(ctx, j)
		}
		m.putProvider(ctx, pr)
	}
	return nil
}

// providerLeases are the provider's service jobs still assigned or running.
func (m *Module) providerLeases(ctx *ledger.Context, a keys.Address) (leases []Job, others int) {
	pfx := cat(jprovPrefix, a[:])
	var ids []uint64
	ctx.Iterate(pfx, func(k, _ []byte) bool {
		if len(k) == len(pfx)+8 {
			ids = append(ids, binary.BigEndian.Uint64(k[len(pfx):]))
		}
		return true
	})
	for _, j := range m.jobsByID(ctx, ids) {
		switch {
		case j.Kind == KindService:
			leases = append(leases, j)
		case j.Status != JobSealed: // a sealed job is revealed or missed before the unbonding matures
			others++
		}
	}
	return leases, others
}

// endProviderLeases ends every lease of a provider that went away, with
// the rest refunded, and counts it down once. The caller saves pr.
func (m *Module) endProviderLeases(ctx *ledger.Context, p Params, pr *Provider, leases []Job) error {
	for i := range leases {
		if err := m.endLease(ctx, &leases[i], pr, LeaseEndProviderGone); err != nil {
			return err
		}
	}
	if len(leases) > 0 {
		m.downtime(ctx, p, pr, fmt.Sprintf("%d leases ended: provider gone", len(leases)))
	}
	return nil
}

// goneLeases ends the leases of providers jailed since the last end-block
// (jail queues them: it runs inside other bookkeeping that holds the
// provider record).
func (m *Module) goneLeases(ctx *ledger.Context, p Params) error {
	var addrs []keys.Address
	ctx.Iterate([]byte(lgonePrefix), func(k, _ []byte) bool {
		if len(k) == len(lgonePrefix)+keys.AddressLen {
			addrs = append(addrs, keys.Address(k[len(lgonePrefix):]))
		}
		return true
	})
	for _, a := range addrs {
		ctx.Delete(cat(lgonePrefix, a[:]))
		pr, ok := m.provider(ctx, a)
		if !ok || pr.Live() {
			continue // deleted, or unjailed already
		}
		leases, _ := m.providerLeases(ctx, a)
		if len(leases) == 0 {
			continue
		}
		if err := m.endProviderLeases(ctx, p, &pr, leases); err != nil {
			return err
		}
		m.putProvider(ctx, pr)
	}
	return nil
}
