package agent

import (
	"context"
	"log/slog"
	"sync"

	hostapi "github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// ProbeFunc asks a lease's provider, through the lease forward protocol,
// whether the lease's health path answers. An error means no verdict
// (the node stopping); a provider that cannot be reached is ok = false.
type ProbeFunc func(ctx context.Context, lease ledgercompute.Job) (ok bool, err error)

// Prober is the validator's lease prober: once per health window of
// every running lease, it probes the lease and submits lease/attest.
type Prober struct {
	h     hostapi.Host
	probe ProbeFunc
	log   *slog.Logger

	mu   sync.Mutex
	done map[uint64]uint64 // lease -> next window to attest
	busy map[uint64]bool
	wg   sync.WaitGroup
}

// NewProber returns the prober of h's account (it acts only while the
// account operates a bonded validator).
func NewProber(h hostapi.Host, probe ProbeFunc) *Prober {
	return &Prober{h: h, probe: probe, log: h.Logger().With("agent", "lease-prober"),
		done: map[uint64]uint64{}, busy: map[uint64]bool{}}
}

// Run probes at every committed height until ctx ends.
func (p *Prober) Run(ctx context.Context) error {
	heights, stop := p.h.Committed()
	defer stop()
	defer p.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-heights:
			p.Step(ctx, p.h.LatestHeight())
		}
	}
}

// Wait waits for the probes in flight.
func (p *Prober) Wait() { p.wg.Wait() }

// Step starts the probes due at height.
func (p *Prober) Step(ctx context.Context, height uint64) {
	var leases []ledgercompute.LeaseInfo
	me := p.h.Account()
	if err := p.h.Chain().Query(height, func(c *ledger.Context) error {
		if !p.h.Chain().Staking.IsBonded(c, me) {
			return nil
		}
		for _, li := range p.h.Chain().Compute.LiveLeases(c) {
			if li.Status == ledgercompute.JobRunning && li.Lease != nil && li.Provider != me && li.User != me {
				leases = append(leases, li)
			}
		}
		return nil
	}); err != nil {
		return
	}
	live := map[uint64]bool{}
	for _, li := range leases {
		j := li.Job
		live[j.ID] = true
		if height < j.Lease.Started || li.WindowEnd == 0 {
			continue
		}
		w := li.Window
		p.mu.Lock()
		due := p.done[j.ID] <= w && !p.busy[j.ID] && height+1 <= li.WindowEnd // the attestation lands in this window
		if due {
			p.busy[j.ID] = true
		}
		p.mu.Unlock()
		if !due {
			continue
		}
		p.wg.Go(func() {
			defer func() {
				p.mu.Lock()
				delete(p.busy, j.ID)
				p.mu.Unlock()
			}()
			ok, err := p.probe(ctx, j)
			if err != nil {
				return
			}
			msg := ledgercompute.MsgLeaseAttest{Lease: j.ID, Window: w, OK: ok}
			if _, err := p.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeLeaseAttest, msg)); err != nil {
				p.log.Warn("lease attest", "lease", j.ID, "window", w, "err", err)
				return
			}
			p.mu.Lock()
			p.done[j.ID] = w + 1
			p.mu.Unlock()
			p.log.Debug("lease probed", "lease", j.ID, "window", w, "ok", ok)
		})
	}
	p.mu.Lock()
	for id := range p.done {
		if !live[id] {
			delete(p.done, id)
		}
	}
	p.mu.Unlock()
}
