package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// runner carries out one manifest: it starts the cluster, runs the load
// and the schedule of faults side by side, waits for the accepted
// transactions to drain, and checks the outcome (check.go).
type runner struct {
	m      *Manifest
	c      *cluster
	t      *tracker
	logf   func(string, ...any)
	avoid  []atomic.Int32 // >0: the load and the watcher keep off the node
	faults []*faultResult
	start  time.Time
}

// faultResult is what happened to one perturbation.
type faultResult struct {
	P        *Perturbation
	Err      error         // applying or undoing it failed
	Recovery time.Duration // from undoing it to the chain and its nodes moving on
	Applied  uint64        // highest height at the moment it was applied
	Tip      uint64        // highest height at the moment it was undone
	Done     bool          // recovered (within the limit or not)
	Dropped  int64         // packets the iptables rules dropped (disconnect, loss)
}

func newRunner(m *Manifest, bin, dir string, logf func(string, ...any)) (*runner, error) {
	c, err := newCluster(m, bin, dir, logf)
	if err != nil {
		return nil, err
	}
	r := &runner{m: m, c: c, t: newTracker(), logf: logf, avoid: make([]atomic.Int32, len(c.names))}
	for _, p := range m.Perturbation {
		r.faults = append(r.faults, &faultResult{P: p})
	}
	return r, nil
}

func (r *runner) avoiding(i int) bool { return r.avoid[i].Load() > 0 }

// startNodes starts every node and waits until each has committed height 2.
func (r *runner) startNodes(ctx context.Context) error {
	for i := range r.c.names {
		if err := r.c.start(i); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(120 * time.Second)
	for i, cl := range r.c.clients {
		for {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := cl.Status(sctx)
			cancel()
			if err == nil && st.Height >= 2 {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not reach height 2 within 120s (last error: %v)\n%s", r.c.names[i], err, r.c.tailLogs(20))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	r.logf("all %d nodes are at height 2 or more", len(r.c.names))
	return nil
}

// runLoad runs the load and the schedule and returns when both are over
// and every perturbation has recovered or timed out.
func (r *runner) runLoad(ctx context.Context) {
	r.start = time.Now()
	g := &loadGen{c: r.c, t: r.t, avoid: r.avoiding}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.run(ctx, r.m.Load.Rate, r.m.Load.Duration.Duration) }()
	for _, f := range r.faults {
		wg.Add(1)
		go func() { defer wg.Done(); r.perturb(ctx, f) }()
	}
	wg.Wait()
	r.logf("load over after %v; %d senders stalled on a transaction that did not commit", time.Since(r.start).Round(time.Second), g.stalled.Load())
}

// drain waits for the accepted transactions to commit, up to the
// manifest's drain time.
func (r *runner) drain(ctx context.Context) {
	deadline := time.Now().Add(r.m.Drain.Duration)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.t.pending() == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.logf("drain: %d accepted transactions still not seen in a block after %v", r.t.pending(), r.m.Drain.Duration)
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Until(t)):
		return true
	}
}

// perturb applies one fault at its time, undoes it at its end, and
// measures the recovery.
func (r *runner) perturb(ctx context.Context, f *faultResult) {
	p := f.P
	sc := r.scopeOf(p)
	// The load keeps off the nodes from a second before the fault until
	// they have recovered: a transaction accepted by a node in the instant
	// before it is killed may never have left it, and that is the
	// mempool's documented limit (it is not persistent), not a loss.
	if !sleepUntil(ctx, r.start.Add(p.At.Duration-time.Second)) {
		return
	}
	for _, i := range sc.avoid {
		r.avoid[i].Add(1)
	}
	defer func() {
		for _, i := range sc.avoid {
			r.avoid[i].Add(-1)
		}
	}()
	if !sleepUntil(ctx, r.start.Add(p.At.Duration)) {
		return
	}
	f.Applied = r.tip(ctx)
	r.logf("t=%v apply %s (tip %d)", time.Since(r.start).Round(100*time.Millisecond), p, f.Applied)
	for _, i := range sc.apply {
		if err := r.apply(p, i, true); err != nil {
			f.Err = err
			r.logf("apply %s: %v", p, err)
		}
	}
	// What the fault cuts off from a quorum must stand still (scopeOf):
	// otherwise the fault did not bite, or something committed without a
	// quorum. Checked from 2 s in, for faults of 4 s or more.
	var during []uint64
	if sc.stands() && p.Duration.Duration >= 4*time.Second && sleepUntil(ctx, r.start.Add(p.At.Duration+2*time.Second)) {
		during = r.heights(ctx, sc)
	}
	if !sleepUntil(ctx, r.start.Add(p.End())) {
		return
	}
	if during != nil {
		if after := r.heights(ctx, sc); !equalHeights(during, after) && f.Err == nil {
			f.Err = fmt.Errorf("committed during the fault (heights %v two seconds in, %v at its end): it did not take effect, or the chain went on without a quorum", during, after)
		}
	}
	if p.Op == OpDisconnect || p.Op == OpLoss || p.Op == OpPartition {
		for _, i := range sc.apply {
			n, err := r.c.ns.dropped(i)
			if err != nil && f.Err == nil {
				f.Err = err
			}
			f.Dropped += n
		}
		if f.Dropped == 0 && f.Err == nil {
			f.Err = errors.New("the fault's iptables rules dropped no packet")
		}
	}
	for _, i := range sc.apply {
		if err := r.apply(p, i, false); err != nil && f.Err == nil {
			f.Err = err
			r.logf("undo %s: %v", p, err)
		}
	}
	undone := time.Now()
	f.Tip = r.tip(ctx)
	r.logf("t=%v undo %s (tip %d)", time.Since(r.start).Round(100*time.Millisecond), p, f.Tip)
	limit := undone.Add(r.m.RecoveryLimit.Duration + 10*time.Second)
	for time.Now().Before(limit) && ctx.Err() == nil {
		if r.tip(ctx) > f.Tip && r.lowest(ctx, sc.apply) > f.Tip {
			f.Recovery, f.Done = time.Since(undone), true
			r.logf("%s: recovered in %v", p, f.Recovery.Round(100*time.Millisecond))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.Recovery = time.Since(undone)
	r.logf("%s: no recovery within %v", p, f.Recovery.Round(time.Second))
}

// tip is the highest committed height among the nodes, asked in parallel
// with a short timeout (a paused node does not answer).
func (r *runner) tip(ctx context.Context) uint64 {
	var mu sync.Mutex
	var best uint64
	var wg sync.WaitGroup
	for i := range r.c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			if st, err := r.c.clients[i].Status(sctx); err == nil {
				mu.Lock()
				best = max(best, st.Height)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return best
}

// lowest is the lowest height among the given nodes (0 if one does not
// answer): every perturbed node must move on.
func (r *runner) lowest(ctx context.Context, nodes []int) uint64 {
	low := ^uint64(0)
	for _, i := range nodes {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := r.c.clients[i].Status(sctx)
		cancel()
		if err != nil {
			return 0
		}
		low = min(low, st.Height)
	}
	return low
}

func (r *runner) indexes(names []string) []int {
	var idx []int
	for _, n := range names {
		for i, m := range r.c.names {
			if m == n {
				idx = append(idx, i)
			}
		}
	}
	return idx
}
