package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/api"
)

// Report is the outcome of a run.
type Report struct {
	Manifest  string
	Nodes     int
	Heights   uint64 // heights 1..Heights were compared on every node
	Faults    []*faultResult
	Limit     time.Duration
	Sent      int // transactions signed and submitted
	Accepted  int // an API answered 202
	Committed int // of the accepted, found committed on every node
	Rejected  int // an API answered 4xx
	Unknown   int // no API gave a definite answer
	UnknownIn int // of those, committed anyway
	Lost      []string
	Skipped   int64 // load ticks with every sender busy
	// ProxyBytes is what the latency proxy forwarded (0 without it): every
	// p2p byte goes through it when the schedule has latency.
	ProxyBytes int64
	Failures   []string
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

func (r *Report) fail(f string, a ...any) { r.Failures = append(r.Failures, fmt.Sprintf(f, a...)) }

// Longest is the perturbation with the longest recovery.
func (r *Report) Longest() *faultResult {
	var l *faultResult
	for _, f := range r.Faults {
		if l == nil || f.Recovery > l.Recovery {
			l = f
		}
	}
	return l
}

// Print writes the summary.
func (r *Report) Print(w io.Writer) {
	survived := 0
	for _, f := range r.Faults {
		if f.Err == nil && f.Done && f.Recovery <= r.Limit {
			survived++
		}
	}
	fmt.Fprintf(w, "chaos %s: %d nodes, heights 1..%d agree on every node (block and app hash)\n", r.Manifest, r.Nodes, r.Heights)
	fmt.Fprintf(w, "perturbations: %d of %d survived (recovery limit %v)\n", survived, len(r.Faults), r.Limit)
	for i, f := range r.Faults {
		state := fmt.Sprintf("recovered in %v", f.Recovery.Round(100*time.Millisecond))
		if !f.Done {
			state = fmt.Sprintf("NOT recovered after %v", f.Recovery.Round(time.Second))
		}
		if f.Dropped > 0 {
			state += fmt.Sprintf(", %d packets dropped", f.Dropped)
		}
		if f.Err != nil {
			state += fmt.Sprintf(" (error: %v)", f.Err)
		}
		fmt.Fprintf(w, "  #%d %-44s heights %d..%d while on, %s\n", i, f.P, f.Applied, f.Tip, state)
	}
	fmt.Fprintf(w, "txs: sent %d, accepted %d, committed %d, rejected %d, no answer %d (%d of them committed), lost %d; %d load ticks skipped (every sender busy)\n",
		r.Sent, r.Accepted, r.Committed, r.Rejected, r.Unknown, r.UnknownIn, len(r.Lost), r.Skipped)
	if r.ProxyBytes > 0 {
		fmt.Fprintf(w, "latency proxy: carried %.1f MiB of p2p traffic\n", float64(r.ProxyBytes)/(1<<20))
	}
	if l := r.Longest(); l != nil {
		fmt.Fprintf(w, "longest recovery: %v (%s)\n", l.Recovery.Round(100*time.Millisecond), l.P)
	}
	if r.OK() {
		fmt.Fprintln(w, "PASS")
		return
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAIL: %s\n", f)
	}
}

// check waits for every node to reach a common height and checks: no
// fork and one app hash at every height; every accepted transaction
// committed (on every node); every perturbation recovered in time.
func (r *runner) check(ctx context.Context) *Report {
	rep := &Report{Manifest: r.m.Name, Nodes: len(r.c.names), Faults: r.faults, Limit: r.m.RecoveryLimit.Duration, Skipped: r.t.skipped.Load()}
	for _, f := range r.faults {
		switch {
		case f.Err != nil:
			rep.fail("%s: %v", f.P, f.Err)
		case !f.Done:
			rep.fail("%s: the chain did not move on within %v of undoing it", f.P, f.Recovery.Round(time.Second))
		case f.Recovery > rep.Limit:
			rep.fail("%s: recovery took %v, limit %v", f.P, f.Recovery.Round(100*time.Millisecond), rep.Limit)
		}
	}
	if r.c.proxy != nil {
		rep.ProxyBytes = r.c.proxy.bytes.Load()
		if rep.ProxyBytes == 0 {
			rep.fail("the latency proxy carried nothing: the p2p links bypassed it")
		}
	}
	h, err := r.commonHeight(ctx, 60*time.Second)
	if err != nil {
		rep.fail("%v", err)
	}
	rep.Heights = h
	if err := r.checkChains(ctx, h); err != nil {
		rep.fail("%v", err)
	}
	r.checkTxs(ctx, rep)
	return rep
}

// commonHeight waits until every node has reached the highest height any
// node had when it was called.
func (r *runner) commonHeight(ctx context.Context, d time.Duration) (uint64, error) {
	target := r.tip(ctx)
	deadline := time.Now().Add(d)
	for {
		low, lagging := ^uint64(0), ""
		for i, cl := range r.c.clients {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := cl.Status(sctx)
			cancel()
			if err != nil || st.Height < target {
				low, lagging = min(low, st.Height), r.c.names[i]
			}
		}
		if lagging == "" {
			return target, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return low, fmt.Errorf("%s did not reach height %d within %v of the end (at %d)", lagging, target, d, low)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkChains compares the block hash and app hash of heights 1..h on
// every node with node 0's.
func (r *runner) checkChains(ctx context.Context, h uint64) error {
	for height := uint64(1); height <= h; height++ {
		var ref api.BlockView
		for i, cl := range r.c.clients {
			b, err := blockRetry(ctx, cl, height)
			if err != nil {
				return fmt.Errorf("%s: block %d: %v", r.c.names[i], height, err)
			}
			if i == 0 {
				ref = b
				continue
			}
			if !bytes.Equal(b.Hash, ref.Hash) {
				return fmt.Errorf("FORK at height %d: %s has block %x, %s has %x", height, r.c.names[i], b.Hash, r.c.names[0], ref.Hash)
			}
			if !bytes.Equal(b.AppHash, ref.AppHash) {
				return fmt.Errorf("app hash differs at height %d: %s has %x, %s has %x", height, r.c.names[i], b.AppHash, r.c.names[0], ref.AppHash)
			}
		}
	}
	return nil
}

func blockRetry(ctx context.Context, cl *api.Client, h uint64) (api.BlockView, error) {
	var err error
	for try := 0; try < 3; try++ {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		var b api.BlockView
		b, err = cl.Block(sctx, h)
		cancel()
		if err == nil {
			return b, nil
		}
	}
	return api.BlockView{}, err
}

// checkTxs asks every node's /txs/{hash} for every transaction the load
// sent. An accepted transaction must be committed, at the same height, on
// every node; one missing everywhere is lost.
func (r *runner) checkTxs(ctx context.Context, rep *Report) {
	t := r.t
	t.mu.Lock()
	rep.Sent, rep.Accepted, rep.Rejected, rep.Unknown = t.sent, len(t.accepted), len(t.rejected), len(t.unknown)
	type item struct {
		h        ledger.TxHash
		accepted bool
		by       string
	}
	var items []item
	for h, by := range t.accepted {
		items = append(items, item{h, true, by})
	}
	for h := range t.unknown {
		items = append(items, item{h: h})
	}
	t.mu.Unlock()
	sort.Slice(items, func(i, j int) bool { return bytes.Compare(items[i].h[:], items[j].h[:]) < 0 })

	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan item)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				heights, err := r.txHeights(ctx, it.h)
				mu.Lock()
				switch {
				case err != nil:
					rep.fail("tx %x: %v", it.h[:8], err)
				case it.accepted && len(heights) == 0:
					rep.Lost = append(rep.Lost, fmt.Sprintf("%x (accepted by %s)", it.h[:], it.by))
				case len(heights) == 0:
				case len(heights) < len(r.c.clients):
					rep.fail("tx %x is committed on %d of %d nodes", it.h[:8], len(heights), len(r.c.clients))
				case !sameHeights(heights):
					rep.fail("tx %x is committed at different heights: %v", it.h[:8], heights)
				case it.accepted:
					rep.Committed++
				default:
					rep.UnknownIn++
				}
				mu.Unlock()
			}
		}()
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	if len(rep.Lost) > 0 {
		sort.Strings(rep.Lost)
		show := rep.Lost
		if len(show) > 5 {
			show = show[:5]
		}
		rep.fail("%d accepted transactions were never committed (silent loss), first: %s", len(rep.Lost), strings.Join(show, ", "))
	}
}

// txHeights returns the heights at which the nodes that know h committed
// it (404 means a node does not know it).
func (r *runner) txHeights(ctx context.Context, h ledger.TxHash) ([]uint64, error) {
	var heights []uint64
	for i, cl := range r.c.clients {
		var err error
		for try := 0; try < 3; try++ {
			sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			var tv api.TxView
			tv, err = cl.Tx(sctx, h)
			cancel()
			var ae *api.Error
			if err == nil {
				heights = append(heights, tv.Height)
				break
			}
			if errors.As(err, &ae) && ae.Code == 404 {
				err = nil
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", r.c.names[i], err)
		}
	}
	return heights, nil
}

func sameHeights(hs []uint64) bool {
	for _, h := range hs {
		if h != hs[0] {
			return false
		}
	}
	return true
}
