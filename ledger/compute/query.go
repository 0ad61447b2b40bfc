package compute

import (
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/compute/challenge"
	"github.com/inferd/inferd/compute/spotcheck"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Queries: every function reads a (read-only) context; the node runs them
// through chain.Query at a committed height and serves them as JSON.

// ProviderInfo is a provider as queries show it.
type ProviderInfo struct {
	Provider
	N      int    `json:"n"`      // challenge size of its tier
	Status string `json:"status"` // active, jailed or unbonding
}

func info(p Provider) ProviderInfo {
	n, _ := challenge.TierN(int(p.Tier))
	st := "active"
	switch {
	case p.Unbonding():
		st = "unbonding"
	case p.Jailed:
		st = "jailed"
	}
	return ProviderInfo{Provider: p, N: n, Status: st}
}

// Providers lists every provider by address.
func (*Module) Providers(ctx *ledger.Context) []ProviderInfo {
	out := []ProviderInfo{}
	ctx.Iterate([]byte(provPrefix), func(_, raw []byte) bool {
		var p Provider
		if err := ledger.DecodeStored(raw, &p); err == nil {
			out = append(out, info(p))
		}
		return true
	})
	return out
}

// ProviderByAddr returns one provider, or an ErrNotFound-wrapping error.
func (m *Module) ProviderByAddr(ctx *ledger.Context, a keys.Address) (ProviderInfo, error) {
	p, ok := m.provider(ctx, a)
	if !ok {
		return ProviderInfo{}, fmt.Errorf("%w: provider %s", ledger.ErrNotFound, a)
	}
	return info(p), nil
}

// MaxJobsListed bounds a job listing (newest first).
const MaxJobsListed = 1000

// Jobs lists jobs, newest first, at most MaxJobsListed; status filters
// by status ("" for all; "reexec" for jobs awaiting re-execution).
func (m *Module) Jobs(ctx *ledger.Context, status string) []Job {
	if status == "reexec" {
		return m.ReexecPending(ctx)
	}
	var all []Job
	ctx.Iterate([]byte(jobPrefix), func(_, raw []byte) bool {
		var j Job
		if err := ledger.DecodeStored(raw, &j); err == nil {
			if status == "" || j.Status == status || (status == "reexec" && j.Reexec == ReexecPending) {
				all = append(all, j)
			}
		}
		return true
	})
	out := make([]Job, 0, min(len(all), MaxJobsListed))
	for i := len(all) - 1; i >= 0 && len(out) < MaxJobsListed; i-- {
		out = append(out, all[i])
	}
	return out
}

// AssignedJobs lists the jobs assigned to provider a and not yet
// reported, by id (the provider agent's work list).
func (m *Module) AssignedJobs(ctx *ledger.Context, a keys.Address) []Job {
	pfx := cat(jprovPrefix, a[:])
	var ids []uint64
	ctx.Iterate(pfx, func(k, _ []byte) bool {
		if len(k) == len(pfx)+8 {
			ids = append(ids, binary.BigEndian.Uint64(k[len(pfx):]))
		}
		return true
	})
	return m.jobsByID(ctx, ids)
}

// ReexecPending lists the jobs whose re-execution window is open, by the
// height it closes (the verifier agent's work list).
func (m *Module) ReexecPending(ctx *ledger.Context) []Job {
	var ids []uint64
	ctx.Iterate([]byte(rxqPrefix), func(k, _ []byte) bool {
		if len(k) == len(rxqPrefix)+16 {
			ids = append(ids, binary.BigEndian.Uint64(k[len(rxqPrefix)+8:]))
		}
		return true
	})
	return m.jobsByID(ctx, ids)
}

func (m *Module) jobsByID(ctx *ledger.Context, ids []uint64) []Job {
	out := make([]Job, 0, len(ids))
	for _, id := range ids {
		if j, ok := m.job(ctx, id); ok {
			out = append(out, j)
		}
	}
	return out
}

// JobByID returns one job, or an ErrNotFound-wrapping error.
func (m *Module) JobByID(ctx *ledger.Context, id uint64) (Job, error) {
	j, ok := m.job(ctx, id)
	if !ok {
		return Job{}, fmt.Errorf("%w: job %d", ledger.ErrNotFound, id)
	}
	return j, nil
}

// CurrentEpoch returns the epoch in progress (false before the first block).
func (m *Module) CurrentEpoch(ctx *ledger.Context) (Epoch, bool) { return m.epoch(ctx) }

// ChallengeInfo is one provider's challenge in the current epoch: what the
// provider computes and commits to, and what validators check.
type ChallengeInfo struct {
	Epoch          uint64          `json:"epoch"`
	Provider       keys.Address    `json:"provider"`
	Seed           ledger.HexBytes `json:"seed"` // challenge.ProviderSeed(block seed, provider)
	N              int             `json:"n"`
	Tier           uint8           `json:"tier"`
	K              int             `json:"rows_checked"`
	Start          uint64          `json:"start_height"`
	CommitDeadline uint64          `json:"commit_deadline"`
	AttestDeadline uint64          `json:"attest_deadline"`
	End            uint64          `json:"end_height"`
	Root           ledger.HexBytes `json:"root,omitempty"`
	CheckSeed      ledger.HexBytes `json:"check_seed,omitempty"`
	Rows           []int           `json:"rows,omitempty"` // selected once the check seed is known
}

// Committed reports whether the provider committed a root.
func (c *ChallengeInfo) Committed() bool { return len(c.Root) == 32 }

// Challenge returns the challenge to compute or check.
func (c *ChallengeInfo) Challenge() (challenge.Challenge, error) {
	if len(c.Seed) != 32 {
		return challenge.Challenge{}, fmt.Errorf("compute: challenge seed is %d bytes", len(c.Seed))
	}
	return challenge.New([32]byte(c.Seed), c.N)
}

func (m *Module) challengeInfo(e Epoch, a keys.Address, r Round) ChallengeInfo {
	seed := challenge.ProviderSeed([32]byte(e.Seed), a[:])
	ci := ChallengeInfo{Epoch: e.Number, Provider: a, Seed: seed[:], N: int(r.N), Tier: r.Tier, K: int(e.K),
		Start: e.Start, CommitDeadline: e.CommitDeadline, AttestDeadline: e.AttestDeadline, End: e.End, Root: r.Root}
	if len(e.CheckSeed) == 32 {
		ci.CheckSeed = e.CheckSeed
		ci.Rows, _ = spotcheck.Select([32]byte(e.CheckSeed), int(r.N), int(e.K))
	}
	return ci
}

// Challenge returns a's challenge in the current epoch, or an
// ErrNotFound-wrapping error when it has none (not live at the epoch start).
func (m *Module) Challenge(ctx *ledger.Context, a keys.Address) (ChallengeInfo, error) {
	e, ok := m.epoch(ctx)
	if !ok {
		return ChallengeInfo{}, fmt.Errorf("%w: no epoch yet", ledger.ErrNotFound)
	}
	var r Round
	if !ctx.GetObj(roundKey(e.Number, a), &r) {
		return ChallengeInfo{}, fmt.Errorf("%w: no challenge for %s in epoch %d", ledger.ErrNotFound, a, e.Number)
	}
	return m.challengeInfo(e, a, r), nil
}

// Challenges lists every challenge of the current epoch, by provider.
func (m *Module) Challenges(ctx *ledger.Context) []ChallengeInfo {
	e, ok := m.epoch(ctx)
	if !ok {
		return nil
	}
	var out []ChallengeInfo
	pfx := cat(roundPrefix, u64(e.Number))
	ctx.Iterate(pfx, func(k, raw []byte) bool {
		var r Round
		if len(k) == len(pfx)+keys.AddressLen && ledger.DecodeStored(raw, &r) == nil {
			out = append(out, m.challengeInfo(e, keys.Address(k[len(pfx):]), r))
		}
		return true
	})
	return out
}

// Attested reports whether validator val already attested on prov in the
// current epoch (agents use it to avoid resending).
func (m *Module) Attested(ctx *ledger.Context, prov, val keys.Address) bool {
	e, ok := m.epoch(ctx)
	return ok && ctx.Has(attKey(e.Number, prov, val))
}

// Reexecuted reports whether validator val already reported on job id.
func (*Module) Reexecuted(ctx *ledger.Context, id uint64, val keys.Address) bool {
	return ctx.Has(rxKey(id, val))
}
