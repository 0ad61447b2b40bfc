package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/consensus/wal"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/node/blocks"
	"github.com/inferd/inferd/node/blockstore"
	"github.com/inferd/inferd/node/mempool"
)

// Gossip kinds the engine sends through its Transport.
const (
	KindConsensus = "consensus"
	KindBlock     = "blocks"
	KindTx        = "tx"
	KindEvidence  = "evidence"
)

// Transport carries the engine's gossip. The p2p host implements it in a
// running node; tests use an in-process network.
type Transport interface {
	Broadcast(kind string, data []byte) error
}

// Limits the engine applies to the blocks it proposes and accepts.
const (
	MaxBlockTxs   = 10_000
	MaxBlockBytes = 3 << 20
	// MaxClockDrift bounds how far in the future a proposed block's time may be.
	MaxClockDrift = 30 * time.Second
	// rebroadcastEvery re-sends this validator's latest messages while a
	// height is undecided: gossip does not replay old messages to a peer
	// that was away, so the authors repeat them.
	rebroadcastEvery = time.Second
)

// EngineConfig wires an Engine.
type EngineConfig struct {
	ChainID      string
	Chain        *chain.Chain
	Blocks       *blockstore.Store
	Mempool      *mempool.Mempool
	Transport    Transport
	ValidatorKey keys.PrivKey // nil for a full node that does not sign
	WAL          *wal.WAL     // required with ValidatorKey
	ValsetPath   string       // file holding the next height's validator set
	Timeouts     consensus.Timeouts
	CommitDelay  time.Duration
	// WaitForTxs holds each height back until there is something to
	// commit (engine_idle.go); EmptyBlocksInterval, if positive, starts
	// one anyway that long after the last commit.
	WaitForTxs          bool
	EmptyBlocksInterval time.Duration
	Now                 func() time.Time
	Log                 *slog.Logger
	Metrics             EngineMetrics
}

// EngineMetrics receives the engine's measurements (the API's Prometheus
// metrics implement it); nil methods are fine.
type EngineMetrics interface {
	ObserveCommit(height uint64, round int32, txs int, interval time.Duration)
	SetRound(round int32)
}

type noMetrics struct{}

func (noMetrics) ObserveCommit(uint64, int32, int, time.Duration) {}
func (noMetrics) SetRound(int32)                                  {}

// Engine drives consensus for one node. Run's goroutine is the only one that
// touches the Machine, the ledger's write path and the block store's write
// path; everything else reaches it through its inbox.
type Engine struct {
	cfg     EngineConfig
	log     *slog.Logger
	self    keys.Address
	signer  *wal.Signer
	machine *consensus.Machine

	vals           *consensus.ValidatorSet // set of the height being decided
	prevVals       *consensus.ValidatorSet // set of the last committed height
	pending        map[consensus.BlockID]*blocks.Block
	awaiting       map[consensus.BlockID]bool
	lastTime       int64 // time of the last committed block
	lastHash       consensus.BlockID
	lastCommitTime time.Time
	evidence       map[string]*consensus.DuplicateVoteEvidence
	mine           []consensus.Message // this validator's messages at the current height, for rebroadcast
	future         []event             // messages and blocks for the next height, replayed after advancing
	idle           idleWait            // the height held back while waiting for txs
	lastTxs        int                 // txs and evidence in the last committed block
	resumed        uint64              // the height the WAL shows this validator had started, if any
	heard          uint64              // the last height a verified message from a peer was for
	verified       verifiedMessages    // peers' messages the gossip validator verified (verified.go)
	lastSeen       blocks.Commit       // our commit of the last height, verified (empty after a restart)
	afterStore     func(height uint64) // test hook: between storing a block and committing the ledger

	inbox  chan event
	status atomic.Pointer[EngineStatus]
	subsMu sync.Mutex
	subs   map[int]chan uint64
	nextID int
}

// EngineStatus is a snapshot for the API.
type EngineStatus struct {
	Height    uint64 // last committed
	Round     int32
	BlockHash consensus.BlockID
	AppHash   [32]byte
	BlockTime int64
	Vals      *consensus.ValidatorSet // the set deciding Height+1
}

type event interface{}

type evMessage struct{ msg consensus.Message }
type evBlock struct{ blk *blocks.Block }
type evTimeout struct{ t consensus.Timeout }
type evSynced struct {
	blk    *blocks.Block
	commit blocks.Commit
	done   chan error
}
type evEvidence struct {
	ev *consensus.DuplicateVoteEvidence
}
type evNewHeight struct{ height uint64 }

// NewEngine builds the engine at the height after the last committed block.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	e := &Engine{cfg: cfg, log: cfg.Log, pending: map[consensus.BlockID]*blocks.Block{}, awaiting: map[consensus.BlockID]bool{},
		evidence: map[string]*consensus.DuplicateVoteEvidence{}, inbox: make(chan event, 4096), subs: map[int]chan uint64{}}
	if cfg.ValidatorKey != nil {
		e.self = keys.AddressOf(cfg.ValidatorKey.Public().(keys.PubKey))
		e.signer = wal.NewSigner(cfg.WAL, cfg.ValidatorKey, cfg.ChainID)
	}
	committed := e.cfg.Blocks.Height()
	if err := e.replay(committed); err != nil {
		return nil, err
	}
	if err := e.loadValsets(committed + 1); err != nil {
		return nil, err
	}
	vals := e.vals
	var err error
	if committed > 0 {
		blk, err := e.cfg.Blocks.Block(committed)
		if err != nil {
			return nil, fmt.Errorf("load block %d: %w", committed, err)
		}
		e.lastTime, e.lastHash = blk.Header.Time, blk.Hash()
		e.lastTxs = len(blk.Txs) + len(blk.Evidence)
	} else {
		e.lastTime = e.genesisTime()
	}
	var restored *consensus.State
	if cfg.WAL != nil {
		if st, ok := cfg.WAL.State(); ok && st.Height == committed+1 {
			restored = &st
			e.resumed = st.Height
		}
	}
	e.machine, err = consensus.NewMachine(consensus.Config{Self: e.self, Timeouts: cfg.Timeouts}, committed+1, vals, restored)
	if err != nil {
		return nil, err
	}
	e.publishStatus()
	return e, nil
}

func (e *Engine) genesisTime() int64 {
	var t int64
	e.cfg.Chain.Query(0, func(ctx *ledger.Context) error { t = ctx.Time; return nil })
	return t
}

// Status returns the latest snapshot (safe from any goroutine).
func (e *Engine) Status() EngineStatus { return *e.status.Load() }

// Validators returns the set deciding the next height (safe from any goroutine).
func (e *Engine) Validators() *consensus.ValidatorSet { return e.status.Load().Vals }

// deciding is the height being decided: the last committed one plus one.
// (The Machine moves to it at Commit already, then waits for its set.)
func (e *Engine) deciding() uint64 { return e.cfg.Blocks.Height() + 1 }

func (e *Engine) publishStatus() {
	h := e.cfg.Blocks.Height()
	st := &EngineStatus{Height: h, Round: e.machine.Round(), BlockHash: e.lastHash, AppHash: e.cfg.Chain.AppHash(), BlockTime: e.lastTime, Vals: e.vals}
	e.status.Store(st)
}

// SubscribeCommits returns a channel of committed heights and a cancel func.
func (e *Engine) SubscribeCommits() (<-chan uint64, func()) {
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	id := e.nextID
	e.nextID++
	ch := make(chan uint64, 64)
	e.subs[id] = ch
	return ch, func() {
		e.subsMu.Lock()
		defer e.subsMu.Unlock()
		if c, ok := e.subs[id]; ok {
			delete(e.subs, id)
			close(c)
		}
	}
}

func (e *Engine) notify(h uint64) {
	e.subsMu.Lock()
	defer e.subsMu.Unlock()
	for _, ch := range e.subs {
		select {
		case ch <- h:
		default: // a slow subscriber misses heights rather than stalling consensus
		}
	}
}

// Deliver hands the engine a verified consensus message from a peer.
func (e *Engine) Deliver(m consensus.Message) { e.post(evMessage{m}) }

// DeliverBlock hands the engine a block gossiped for the current height.
func (e *Engine) DeliverBlock(b *blocks.Block) { e.post(evBlock{b}) }

// DeliverEvidence hands the engine evidence from a peer (already verified).
func (e *Engine) DeliverEvidence(ev *consensus.DuplicateVoteEvidence) { e.post(evEvidence{ev}) }

// ApplySynced asks the engine to apply a block fetched by block sync, with
// the commit that finalised it, and waits for the outcome.
func (e *Engine) ApplySynced(ctx context.Context, b *blocks.Block, c blocks.Commit) error {
	done := make(chan error, 1)
	select {
	case e.inbox <- evSynced{blk: b, commit: c, done: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// post queues an event, dropping it when the inbox is full: gossip is
// repeated, and a full inbox means the loop is far behind anyway.
func (e *Engine) post(ev event) {
	select {
	case e.inbox <- ev:
	default:
		e.log.Warn("engine inbox full; dropping an event", "type", fmt.Sprintf("%T", ev))
	}
}

// Run drives consensus until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	if e.cfg.WAL != nil {
		if m := e.cfg.WAL.LastSigned(); m != nil {
			h, _, _ := m.HRS()
			if h == e.deciding() {
				e.mine = append(e.mine, m)
				e.broadcast(KindConsensus, consensus.EncodeMessage(m))
			}
		}
	}
	if err := e.startOrWait(ctx, startMachine); err != nil {
		return err
	}
	defer e.stopWait()
	tick := time.NewTicker(rebroadcastEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			e.rebroadcast()
		case <-e.cfg.Mempool.TxsAvailable():
			if err := e.wake(ctx, false, ""); err != nil {
				return err
			}
		case ev := <-e.inbox:
			if err := e.handle(ctx, ev); err != nil {
				return err
			}
		}
	}
}

func (e *Engine) handle(ctx context.Context, ev event) error {
	switch ev := ev.(type) {
	case evMessage:
		h, _, _ := ev.msg.HRS()
		switch {
		case h == e.deciding():
			if !e.verified.take(ev.msg, e.vals) {
				if err := consensus.Verify(e.cfg.ChainID, e.vals, ev.msg); err != nil {
					e.log.Debug("dropping an invalid consensus message", "err", err)
					return nil
				}
			}
			e.heard = h
			if err := e.wake(ctx, true, "a validator started the height"); err != nil {
				return err
			}
			return e.step(ctx, ev.msg)
		case h == e.deciding()+1:
			e.keepForNextHeight(ev)
		}
	case evTimeout:
		return e.step(ctx, ev.t)
	case evBlock:
		return e.onBlock(ctx, ev.blk)
	case evEvidence:
		e.addEvidence(ev.ev)
		return e.wake(ctx, false, "")
	case evIdleTick:
		if ev.height == e.deciding() {
			return e.wake(ctx, false, "")
		}
	case evSynced:
		err := e.applySynced(ctx, ev.blk, ev.commit)
		ev.done <- err
	case evNewHeight:
		if ev.height == e.deciding() {
			return e.startOrWait(ctx, newHeight)
		}
	}
	return nil
}

func (e *Engine) step(ctx context.Context, in consensus.Input) error {
	acts, err := e.machine.Step(in)
	if err != nil {
		// Inputs are verified before they get here; what remains (a stale
		// height, a full buffer) is expected under gossip.
		e.log.Debug("consensus input refused", "err", err)
		return nil
	}
	return e.do(ctx, acts)
}

// do carries out actions in order, as the Machine's contract requires.
func (e *Engine) do(ctx context.Context, acts []consensus.Action) error {
	for _, a := range acts {
		switch a := a.(type) {
		case consensus.SignAndSend:
			if e.signer == nil {
				continue
			}
			msg, err := e.signer.Sign(a)
			if errors.Is(err, consensus.ErrDoubleSign) {
				e.log.Warn("signing guard refused a message", "msg", consensus.MessageString(a.Msg))
				continue
			}
			if err != nil {
				return fmt.Errorf("persist before signing: %w", err)
			}
			e.mine = append(e.mine, msg)
			e.broadcast(KindConsensus, consensus.EncodeMessage(msg))
			if p, ok := msg.(*consensus.Proposal); ok {
				if b := e.pending[p.BlockID]; b != nil {
					e.broadcast(KindBlock, blocks.Encode(b))
				}
			}
			if err := e.step(ctx, msg); err != nil {
				return err
			}
		case consensus.ScheduleTimeout:
			t := a.Timeout
			time.AfterFunc(a.Duration, func() { e.post(evTimeout{t}) })
		case consensus.RequestProposal:
			id, err := e.propose(a.Height)
			if err != nil {
				e.log.Error("cannot build a proposal", "height", a.Height, "err", err)
				continue
			}
			if err := e.step(ctx, consensus.ProposalBlock{Height: a.Height, Round: a.Round, BlockID: id}); err != nil {
				return err
			}
		case consensus.ValidateBlock:
			if b, ok := e.pending[a.BlockID]; ok {
				if err := e.step(ctx, consensus.BlockValidated{Height: a.Height, BlockID: a.BlockID, Valid: e.checkBlock(b)}); err != nil {
					return err
				}
			} else {
				e.awaiting[a.BlockID] = true
			}
		case consensus.Commit:
			if err := e.commit(ctx, a); err != nil {
				return err
			}
		case consensus.ReportEvidence:
			e.addEvidence(a.Evidence)
			e.broadcast(KindEvidence, a.Evidence.Encode())
		}
	}
	e.cfg.Metrics.SetRound(e.machine.Round())
	return nil
}

func (e *Engine) broadcast(kind string, data []byte) {
	if err := e.cfg.Transport.Broadcast(kind, data); err != nil {
		e.log.Debug("broadcast failed", "kind", kind, "err", err)
	}
}

func (e *Engine) rebroadcast() {
	for _, m := range e.mine {
		e.broadcast(KindConsensus, consensus.EncodeMessage(m))
		if p, ok := m.(*consensus.Proposal); ok {
			if b := e.pending[p.BlockID]; b != nil {
				e.broadcast(KindBlock, blocks.Encode(b))
			}
		}
	}
}

// maxEvidencePool bounds the pool; one piece per validator is enough (the
// first tombstones it), so a validator that signed many conflicting votes
// cannot fill it.
const maxEvidencePool = 1024

func (e *Engine) addEvidence(ev *consensus.DuplicateVoteEvidence) {
	if len(e.evidence) >= maxEvidencePool {
		return
	}
	for _, have := range e.evidence {
		if have.Validator() == ev.Validator() {
			return
		}
	}
	e.evidence[string(ev.Encode())] = ev
}

// maxFuture bounds what is kept for the next height.
const maxFuture = 4096

func (e *Engine) keepForNextHeight(ev event) {
	if len(e.future) < maxFuture {
		e.future = append(e.future, ev)
	}
}

// replayFuture steps in what arrived early for the height now current.
func (e *Engine) replayFuture(ctx context.Context) error {
	fut := e.future
	e.future = nil
	for _, ev := range fut {
		if err := e.handle(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) onBlock(ctx context.Context, b *blocks.Block) error {
	switch b.Header.Height {
	case e.deciding():
	case e.deciding() + 1:
		e.keepForNextHeight(evBlock{b})
		return nil
	default:
		return nil
	}
	id := b.Hash()
	if _, ok := e.pending[id]; ok || len(e.pending) >= maxPendingBlocks {
		return nil
	}
	e.pending[id] = b
	if e.awaiting[id] {
		delete(e.awaiting, id)
		return e.step(ctx, consensus.BlockValidated{Height: b.Header.Height, BlockID: id, Valid: e.checkBlock(b)})
	}
	return nil
}

// replay brings the ledger level with the block store after a crash. The
// block store is the only store fsynced per block (it holds every block
// with the set that decided it, SaveDecided); the ledger commits without
// fsync, so a crash of the machine can leave it any number of blocks
// behind, and a crash of the process one block behind (between storing a
// block and committing it). Each missing block is applied again, in order.
func (e *Engine) replay(committed uint64) error {
	lh, _ := e.cfg.Chain.Height()
	switch {
	case lh == committed:
		return nil
	case lh > committed:
		return fmt.Errorf("the ledger is at height %d but the block store only at %d; the data directory is inconsistent (restore it from a backup or resync)", lh, committed)
	}
	if base := e.cfg.Blocks.Base(); base > lh+1 {
		return fmt.Errorf("the ledger is at height %d, the block store keeps blocks from %d on: blocks %d..%d are pruned and cannot be replayed (state sync or resync the node)", lh, base, lh+1, base-1)
	}
	for h := lh + 1; h <= committed; h++ {
		prev, err := e.replaySet(h, committed)
		if err != nil {
			return fmt.Errorf("replay block %d: %w", h, err)
		}
		b, err := e.cfg.Blocks.Block(h)
		if err != nil {
			return fmt.Errorf("replay block %d: %w", h, err)
		}
		lb, err := blocks.ToLedger(b, prev)
		if err != nil {
			return fmt.Errorf("replay block %d: %w", h, err)
		}
		if _, err := e.cfg.Chain.ApplyBlock(lb); err != nil {
			return fmt.Errorf("replay block %d: %w", h, err)
		}
	}
	e.log.Info("replayed stored blocks into the ledger", "from", lh+1, "to", committed)
	return nil
}

// replaySet is the set that signed block h's last commit (the set that
// decided h-1): from the block store, or, for a block stored before the
// store kept sets (only the last block can be missing then), the
// validator-set file.
func (e *Engine) replaySet(h, committed uint64) (*consensus.ValidatorSet, error) {
	if h == 1 {
		return nil, nil
	}
	vs, err := e.cfg.Blocks.Validators(h - 1)
	if err == nil {
		return vs, nil
	}
	if !errors.Is(err, blockstore.ErrNotFound) || h != committed {
		return nil, fmt.Errorf("the set that decided height %d: %w", h-1, err)
	}
	f, ferr := e.readValset()
	if ferr != nil {
		return nil, ferr
	}
	if len(f.Prev) == 0 {
		return nil, nil
	}
	return consensus.DecodeValidatorSet(f.Prev)
}

// checkBlock validates b and logs why when it is refused.
func (e *Engine) checkBlock(b *blocks.Block) bool {
	if err := e.validate(b); err != nil {
		e.log.Warn("refusing a proposed block", "height", b.Header.Height, "proposer", b.Header.Proposer, "err", err)
		return false
	}
	return true
}
