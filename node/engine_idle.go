package node

import (
	"context"
	"time"
)

// Waiting for transactions (consensus.create_empty_blocks = false, or an
// interval set; docs/consensus.md, "Waiting for transactions").
//
// The Machine is not told that a height starts (Machine.Start for a new or
// restored Machine, NewHeight after a Commit) until there is a reason to
// make a block; until then it schedules no timeouts and signs nothing, so
// an idle validator does no consensus work at all. Every validator decides
// this on its own, from its own mempool and clock; they need not agree,
// because a validator that starts the height sends messages for it, and a
// valid message for the height wakes any validator still waiting. Safety
// does not depend on any of this: the Machine's rules are unchanged, only
// when its first input arrives is.

// startKind says how the waiting height is started.
type startKind uint8

const (
	notWaiting   startKind = iota
	startMachine           // Machine.Start: a new Machine (start-up, block sync)
	newHeight              // NewHeight after the Machine's Commit
)

// idleWait is the engine's waiting state; engine goroutine only.
type idleWait struct {
	kind   startKind
	height uint64
	timer  *time.Timer // the interval's wake-up, nil without an interval
}

type evIdleTick struct{ height uint64 }

// startOrWait starts the deciding height at once, or waits when there is
// no reason to make a block yet.
func (e *Engine) startOrWait(ctx context.Context, kind startKind) error {
	h := e.deciding()
	if e.startReason(h) != "" {
		return e.begin(ctx, kind)
	}
	e.stopWait()
	e.idle = idleWait{kind: kind, height: h}
	if iv := e.cfg.EmptyBlocksInterval; iv > 0 {
		e.idle.timer = time.AfterFunc(time.Until(e.idleBase().Add(iv)), func() { e.post(evIdleTick{h}) })
	}
	e.log.Debug("waiting for transactions before starting the height", "height", h)
	return nil
}

// waiting reports whether the deciding height is held back.
func (e *Engine) waiting() bool {
	return e.idle.kind != notWaiting && e.idle.height == e.deciding()
}

// wake starts the waiting height if there is now a reason to; force says
// there is one (a validator has started the height).
func (e *Engine) wake(ctx context.Context, force bool, why string) error {
	if !e.waiting() {
		return nil
	}
	if !force {
		why = e.startReason(e.idle.height)
		if why == "" {
			return nil
		}
	}
	e.log.Debug("starting the height after waiting", "height", e.idle.height, "reason", why)
	return e.begin(ctx, e.idle.kind)
}

// begin tells the Machine that the deciding height starts.
func (e *Engine) begin(ctx context.Context, kind startKind) error {
	e.stopWait()
	if kind == newHeight {
		return e.advance(ctx)
	}
	if err := e.do(ctx, e.machine.Start()); err != nil {
		return err
	}
	return e.replayFuture(ctx)
}

func (e *Engine) stopWait() {
	if e.idle.timer != nil {
		e.idle.timer.Stop()
	}
	e.idle = idleWait{}
}

// startReason is why height h must start now, or "" to wait. With empty
// blocks on, every height starts at once.
func (e *Engine) startReason(h uint64) string {
	switch {
	case !e.cfg.WaitForTxs:
		return "empty blocks on"
	case h == 1:
		return "first block" // puts the genesis app hash in a header
	case e.heard == h || len(e.future) > 0:
		// Its messages came during the commit delay, or while we were a
		// height behind.
		return "a validator started the height"
	case e.resumed == h:
		return "resuming a height already started before a restart"
	case e.lastTxs > 0:
		// The state after a block with txs (or evidence) is named only by
		// the app hash in the next block's header: without that block no
		// one could prove the txs' results (CometBFT's "proof block").
		return "the previous block's app hash"
	case e.cfg.Mempool.HasReady():
		return "transactions"
	case e.hasEvidenceFor(h):
		return "evidence"
	case e.cfg.EmptyBlocksInterval > 0 && !e.cfg.Now().Before(e.idleBase().Add(e.cfg.EmptyBlocksInterval)):
		return "create_empty_blocks_interval"
	}
	return ""
}

// idleBase is when the interval is counted from: the last commit, or the
// engine's start.
func (e *Engine) idleBase() time.Time {
	if e.lastCommitTime.IsZero() {
		e.lastCommitTime = e.cfg.Now()
	}
	return e.lastCommitTime
}

func (e *Engine) hasEvidenceFor(h uint64) bool {
	for _, ev := range e.evidence {
		if ev.Height() < h {
			return true
		}
	}
	return false
}
