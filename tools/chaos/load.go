package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node/api"
)

// tracker remembers every transaction the load sent and what became of
// it. A transaction is "accepted" once a node's API answered 202 (or 409:
// a retry of the same bytes found it pooled); "rejected" when an API
// answered 4xx; "unknown" when no API gave a definite answer (timeouts
// while the node was paused, say). Commits come from the block watcher.
type tracker struct {
	mu        sync.Mutex
	accepted  map[ledger.TxHash]string // hash -> node that accepted it
	rejected  map[ledger.TxHash]string // hash -> reason
	unknown   map[ledger.TxHash]bool
	committed map[ledger.TxHash]uint64 // hash -> height
	waiters   map[ledger.TxHash]chan struct{}
	sent      int
	skipped   atomic.Int64 // ticks with every sender busy
}

func newTracker() *tracker {
	return &tracker{accepted: map[ledger.TxHash]string{}, rejected: map[ledger.TxHash]string{}, unknown: map[ledger.TxHash]bool{},
		committed: map[ledger.TxHash]uint64{}, waiters: map[ledger.TxHash]chan struct{}{}}
}

// accept records that node accepted h. The test plants hashes with it.
func (t *tracker) accept(h ledger.TxHash, node string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.accepted[h] = node
	delete(t.unknown, h)
}

func (t *tracker) commit(h ledger.TxHash, height uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.committed[h]; ok {
		return
	}
	t.committed[h] = height
	if w, ok := t.waiters[h]; ok {
		close(w)
		delete(t.waiters, h)
	}
}

// waitCommit returns a channel closed when h is seen in a block.
func (t *tracker) waitCommit(h ledger.TxHash) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := make(chan struct{})
	if _, ok := t.committed[h]; ok {
		close(w)
		return w
	}
	if old, ok := t.waiters[h]; ok {
		return old
	}
	t.waiters[h] = w
	return w
}

// pending counts accepted transactions not seen committed yet.
func (t *tracker) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for h := range t.accepted {
		if _, ok := t.committed[h]; !ok {
			n++
		}
	}
	return n
}

// loadGen sends signed transfers at the manifest's rate. Each sender has
// one transaction in flight: it retries the same bytes on other nodes
// until an API answers, then waits for the commit before it signs its
// next nonce, so a transaction that is lost stalls only its own sender.
type loadGen struct {
	c       *cluster
	t       *tracker
	avoid   func(i int) bool // nodes the runner is about to perturb or is perturbing
	next    atomic.Uint64
	stalled atomic.Int64
}

func (g *loadGen) run(ctx context.Context, rate int, d time.Duration) {
	tokens := make(chan struct{}, len(g.c.senders))
	var wg sync.WaitGroup
	loadCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for s := range g.c.senders {
		wg.Add(1)
		go func() { defer wg.Done(); g.sender(loadCtx, ctx, s, tokens) }()
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
loop:
	for {
		select {
		case <-loadCtx.Done():
			break loop
		case <-tick.C:
			select {
			case tokens <- struct{}{}:
			default:
				g.t.skipped.Add(1)
			}
		}
	}
	close(tokens)
	wg.Wait()
}

// sender signs transfers of 1 uinf from sender s to sender s+1. loadCtx
// ends the sending; ctx (the whole run) ends the waiting.
func (g *loadGen) sender(loadCtx, ctx context.Context, s int, tokens <-chan struct{}) {
	priv := g.c.senders[s]
	to := keys.AddressOf(g.c.senders[(s+1)%len(g.c.senders)].Public().(keys.PubKey))
	var nonce uint64
	for range tokens {
		if loadCtx.Err() != nil {
			return
		}
		_, raw := ledger.SignTx(g.c.info.ChainID, priv, nonce, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: 1}))
		h := ledger.HashTx(raw)
		g.t.mu.Lock()
		g.t.sent++
		g.t.unknown[h] = true
		g.t.mu.Unlock()
		switch g.submit(ctx, loadCtx, h, raw) {
		case outcomeAccepted:
			select {
			case <-g.t.waitCommit(h):
				nonce++
			case <-time.After(g.c.m.RecoveryLimit.Duration + 10*time.Second):
				g.stalled.Add(1) // counted as lost at the end unless it commits by then
				return
			case <-ctx.Done():
				return
			}
		case outcomeRejected:
			// A wrong nonce means our view is off: reread it.
			if n, ok := g.accountNonce(ctx, priv); ok {
				nonce = n
			}
		case outcomeUnknown:
			return // the load ended while no node answered; the nonce may be taken
		}
	}
}

type outcome int

const (
	outcomeAccepted outcome = iota
	outcomeRejected
	outcomeUnknown
)

// submit tries nodes in turn (skipping those the runner avoids) until one
// gives a definite answer or the load ends (stop); a try under way when
// it ends is finished (under ctx, the whole run).
func (g *loadGen) submit(ctx, stop context.Context, h ledger.TxHash, raw []byte) outcome {
	n := len(g.c.clients)
	tried := false // an earlier try got no definite answer: it may have got in
	for attempt := 0; ctx.Err() == nil && (attempt == 0 || stop.Err() == nil); attempt++ {
		i := int(g.next.Add(1) % uint64(n))
		if g.avoid(i) {
			if attempt > 4*n {
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := g.c.clients[i].SubmitTx(sctx, raw)
		cancel()
		var ae *api.Error
		switch {
		case err == nil:
			g.t.accept(h, g.c.names[i])
			return outcomeAccepted
		case errors.As(err, &ae) && ae.Code == 409:
			g.t.accept(h, g.c.names[i]) // a retry: an earlier try of these bytes got in
			return outcomeAccepted
		case errors.As(err, &ae) && ae.Code >= 400 && ae.Code < 500 && !(tried && strings.Contains(ae.Message, "nonce")):
			g.t.mu.Lock()
			delete(g.t.unknown, h)
			g.t.rejected[h] = g.c.names[i] + ": " + ae.Message
			g.t.mu.Unlock()
			return outcomeRejected
		case errors.As(err, &ae) && ae.Code >= 400 && ae.Code < 500:
			// A wrong nonce on a retry: an earlier try got in and has
			// committed (or will be seen to); wait for the watcher.
			select {
			case <-g.t.waitCommit(h):
				g.t.accept(h, "(a node that did not answer)")
				return outcomeAccepted
			case <-time.After(5 * time.Second):
			case <-ctx.Done():
			}
		default:
			tried = true
			time.Sleep(100 * time.Millisecond) // 5xx or unreachable: another node
		}
	}
	return outcomeUnknown
}

func (g *loadGen) accountNonce(ctx context.Context, priv keys.PrivKey) (uint64, bool) {
	a := keys.AddressOf(priv.Public().(keys.PubKey))
	for i, cl := range g.c.clients {
		if g.avoid(i) {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		acc, err := cl.Account(qctx, a, api.Latest)
		cancel()
		if err == nil {
			return acc.Nonce, true
		}
	}
	return 0, false
}

// watch follows the chain block by block from whichever node answers and
// reports committed transactions to the tracker, until ctx ends.
func watch(ctx context.Context, c *cluster, t *tracker, avoid func(int) bool) {
	h := uint64(1)
	for ctx.Err() == nil {
		got := false
		for i, cl := range c.clients {
			if avoid(i) {
				continue
			}
			bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			b, err := cl.Block(bctx, h)
			cancel()
			if err != nil {
				continue
			}
			for _, tx := range b.Txs {
				var th ledger.TxHash
				copy(th[:], tx)
				t.commit(th, b.Height)
			}
			got = true
			break
		}
		if got {
			h++
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(150 * time.Millisecond):
		}
	}
}
