package compute

import (
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Cloud queries (docs/cloud.md): leases for their owners, providers and
// the validators that probe them.

func leaseInfo(j Job, height uint64) LeaseInfo {
	li := LeaseInfo{Job: j}
	if l := j.Lease; l != nil && j.Status == JobRunning && height >= l.Started && height <= l.End {
		li.Window = l.windowAt(height)
		li.WindowStart, li.WindowEnd = l.windowBounds(li.Window)
	}
	return li
}

// LeaseByID returns a service job as a lease, or an error wrapping
// ledger.ErrNotFound (no such job) or ErrNotLease (not a service).
func (m *Module) LeaseByID(ctx *ledger.Context, id uint64) (LeaseInfo, error) {
	j, ok := m.job(ctx, id)
	if !ok {
		return LeaseInfo{}, fmt.Errorf("%w: lease %d", ledger.ErrNotFound, id)
	}
	if j.Kind != KindService || j.Lease == nil {
		return LeaseInfo{}, fmt.Errorf("%w: job %d is kind %q", ErrNotLease, id, j.Kind)
	}
	return leaseInfo(j, ctx.Height), nil
}

// Leases lists service jobs newest first (at most MaxJobsListed), status
// filtering like Jobs ("running" for live leases).
func (m *Module) Leases(ctx *ledger.Context, status string) []LeaseInfo {
	out := []LeaseInfo{}
	for _, j := range m.Jobs(ctx, status) {
		if j.Kind == KindService && j.Lease != nil {
			out = append(out, leaseInfo(j, ctx.Height))
		}
	}
	return out
}

// LiveLeases lists the running leases by the height their current window
// is decided (the probers' work list; one index entry per running lease).
func (m *Module) LiveLeases(ctx *ledger.Context) []LeaseInfo {
	var ids []uint64
	ctx.Iterate([]byte(lwinPrefix), func(k, _ []byte) bool {
		if len(k) == len(lwinPrefix)+16 {
			ids = append(ids, binary.BigEndian.Uint64(k[len(lwinPrefix)+8:]))
		}
		return true
	})
	out := make([]LeaseInfo, 0, len(ids))
	for _, j := range m.jobsByID(ctx, ids) {
		out = append(out, leaseInfo(j, ctx.Height))
	}
	return out
}

// LeaseAllows reports whether key a may connect to lease id now: the
// lease is running and a is its owner or one of its allowed keys.
func (m *Module) LeaseAllows(ctx *ledger.Context, id uint64, a keys.Address) (bool, error) {
	li, err := m.LeaseByID(ctx, id)
	if err != nil {
		return false, err
	}
	if li.Status != JobRunning {
		return false, nil
	}
	if a == li.User {
		return true, nil
	}
	for _, x := range li.Lease.Allowed {
		if x == a {
			return true, nil
		}
	}
	return false, nil
}

// LeaseAttested reports whether validator val already attested on window
// w of lease id.
func (*Module) LeaseAttested(ctx *ledger.Context, id, w uint64, val keys.Address) bool {
	return ctx.Has(latKey(id, w, val))
}

// ServedThisEpoch is the fees burned for a's served work so far this
// epoch (its weight in the served share at the close).
func (*Module) ServedThisEpoch(ctx *ledger.Context, a keys.Address) uint64 {
	return ctx.GetU64(srvKey(a))
}
