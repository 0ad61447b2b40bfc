package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/node/blocks"
)

// maxPendingBlocks bounds the blocks held for one height (a proposer may
// propose one per round; more is a peer flooding us).
const maxPendingBlocks = 64

// Evidence limits: per block, and the age after which the pool drops it
// (the ledger's default max_evidence_age_blocks).
const (
	maxBlockEvidence = 64
	evidenceMaxAge   = 100_000
)

// propose builds the block this validator proposes at height.
func (e *Engine) propose(height uint64) (consensus.BlockID, error) {
	txs := e.cfg.Mempool.Reap(MaxBlockBytes, MaxBlockTxs)
	var evs [][]byte
	for _, k := range slices.Sorted(maps.Keys(e.evidence)) {
		ev := e.evidence[k]
		if ev.Height() < height && len(evs) < maxBlockEvidence {
			evs = append(evs, ev.Encode())
		}
	}
	t := e.cfg.Now().UnixNano()
	if t <= e.lastTime {
		t = e.lastTime + int64(time.Millisecond)
	}
	var lastCommit blocks.Commit
	if height > 1 {
		c, err := e.cfg.Blocks.SeenCommit(height - 1)
		if err != nil {
			return consensus.BlockID{}, fmt.Errorf("no commit for height %d: %w", height-1, err)
		}
		lastCommit = c
	}
	proof, err := e.beaconProof(height)
	if err != nil {
		return consensus.BlockID{}, err
	}
	b := blocks.NewBlock(blocks.Header{
		ChainID:        e.cfg.ChainID,
		Height:         height,
		Time:           t,
		LastBlockHash:  e.lastHash,
		AppHash:        e.cfg.Chain.AppHash(),
		Proposer:       e.self,
		ValidatorsHash: blocks.ValidatorsHash(e.vals),
		BeaconProof:    proof,
	}, txs, evs, lastCommit)
	id := b.Hash()
	e.pending[id] = b
	return id, nil
}

// validate checks a proposed block for the current height against our
// state: the header chains on our last block and state, the previous
// commit is valid, and every transaction and piece of evidence decodes.
func (e *Engine) validate(b *blocks.Block) error {
	h := &b.Header
	if err := b.ValidateBasic(); err != nil {
		return err
	}
	switch {
	case h.ChainID != e.cfg.ChainID:
		return fmt.Errorf("block for chain %q", h.ChainID)
	case h.Height != e.deciding():
		return fmt.Errorf("block height %d, deciding %d", h.Height, e.deciding())
	case h.LastBlockHash != e.lastHash:
		return fmt.Errorf("block does not extend our last block")
	case h.AppHash != e.cfg.Chain.AppHash():
		return fmt.Errorf("block app hash %x differs from ours %x", h.AppHash[:4], e.cfg.Chain.AppHash())
	case h.ValidatorsHash != blocks.ValidatorsHash(e.vals):
		return fmt.Errorf("block validators hash differs from ours")
	case h.Time <= e.lastTime:
		return fmt.Errorf("block time does not advance")
	case h.Time > e.cfg.Now().Add(MaxClockDrift).UnixNano():
		return fmt.Errorf("block time is more than %v in the future", MaxClockDrift)
	case len(b.Txs) > MaxBlockTxs:
		return fmt.Errorf("block has %d txs, limit %d", len(b.Txs), MaxBlockTxs)
	}
	if err := e.checkBeacon(b, e.vals); err != nil {
		return err
	}
	if h.Height > 1 {
		// Signatures repeated from our own commit of that height (built from
		// verified precommits, or verified when synced) are not checked twice.
		if err := blocks.VerifyCommitKnown(e.cfg.ChainID, e.prevVals, b.LastCommit, e.lastHash, e.lastSeen); err != nil {
			return fmt.Errorf("last commit: %w", err)
		}
	}
	for i, raw := range b.Txs {
		if _, err := ledger.DecodeTx(raw); err != nil {
			return fmt.Errorf("tx %d: %w", i, err)
		}
	}
	for i, raw := range b.Evidence {
		if _, err := consensus.DecodeDuplicateVoteEvidence(raw); err != nil {
			return fmt.Errorf("evidence %d: %w", i, err)
		}
	}
	return nil
}

// commit applies a decided block: ledger, block store, mempool, next set.
func (e *Engine) commit(ctx context.Context, c consensus.Commit) error {
	b, ok := e.pending[c.BlockID]
	if !ok {
		return fmt.Errorf("consensus committed block %s at height %d, which this node does not hold", c.BlockID, c.Height)
	}
	seen := blocks.MakeCommit(c.Height, c.Round, c.BlockID, c.Precommits)
	if err := e.apply(b, seen); err != nil {
		return err
	}
	e.log.Debug("committed", "height", c.Height, "round", c.Round, "txs", len(b.Txs), "hash", c.BlockID)
	e.cfg.Metrics.ObserveCommit(c.Height, c.Round, len(b.Txs), time.Since(e.lastCommitTime))
	e.lastCommitTime = time.Now()
	if e.cfg.CommitDelay > 0 {
		h := c.Height + 1
		time.AfterFunc(e.cfg.CommitDelay, func() { e.post(evNewHeight{h}) })
		return nil
	}
	return e.startOrWait(ctx, newHeight)
}

// apply executes b on the ledger and stores it; shared by consensus commits
// and block sync. On return the ledger and block store are at b's height.
func (e *Engine) apply(b *blocks.Block, seen blocks.Commit) error {
	lb, err := blocks.ToLedger(b, e.prevVals)
	if err != nil {
		return err
	}
	// Execute, store the block with its results and the set that decided
	// it (the one fsync of the block), then commit the ledger (no fsync): a
	// crash leaves the block store ahead, and start-up replays what the
	// ledger lacks (see replay).
	pb, err := e.cfg.Chain.Execute(lb)
	if err != nil {
		return fmt.Errorf("execute block %d: %w", b.Header.Height, err)
	}
	if err := e.cfg.Blocks.SaveDecided(b, seen, pb.Result.Txs, e.vals); err != nil {
		return fmt.Errorf("store block %d: %w", b.Header.Height, err)
	}
	if e.afterStore != nil {
		e.afterStore(b.Header.Height)
	}
	if _, err := e.cfg.Chain.Commit(pb); err != nil {
		return fmt.Errorf("commit block %d: %w", b.Header.Height, err)
	}
	next, err := e.nextValset(b.Header.Height)
	if err != nil {
		return err
	}
	// The block store holds the set of every block (SaveDecided), and
	// start-up rebuilds the next one from it (loadValsets): the file is a
	// cache, refreshed now and then instead of once per block (a write and
	// a rename per block cost as much as the store's commit).
	if b.Header.Height%valsetFileEvery == 0 {
		if err := e.saveValset(b.Header.Height+1, next, e.vals); err != nil {
			return err
		}
	}
	// One view of the new state for every sender the block touched (and for
	// the mempool's recheck, which runs inside Update).
	err = e.cfg.Chain.Query(b.Header.Height, func(ctx *ledger.Context) error {
		e.cfg.Mempool.Update(b.Txs, func(a keys.Address) uint64 { return ledger.AccountNonce(ctx, a) })
		return nil
	})
	if err != nil {
		return fmt.Errorf("update the mempool after block %d: %w", b.Header.Height, err)
	}
	included := map[string]bool{}
	for _, raw := range b.Evidence {
		included[string(raw)] = true
	}
	for k, ev := range e.evidence {
		// Evidence older than the ledger accepts is useless; included
		// evidence is done.
		if included[k] || ev.Height()+evidenceMaxAge < b.Header.Height {
			delete(e.evidence, k)
		}
	}
	e.prevVals, e.vals = e.vals, next
	e.lastTime, e.lastHash = b.Header.Time, b.Hash()
	e.lastTxs = len(b.Txs) + len(b.Evidence)
	e.lastSeen = seen
	e.pending = map[consensus.BlockID]*blocks.Block{}
	e.awaiting = map[consensus.BlockID]bool{}
	e.mine = nil
	e.publishStatus()
	e.notify(b.Header.Height)
	return nil
}

// advance moves the Machine to the next height.
func (e *Engine) advance(ctx context.Context) error {
	acts, err := e.machine.Step(consensus.NewHeight{Height: e.cfg.Blocks.Height() + 1, Validators: e.vals})
	if err != nil {
		return fmt.Errorf("start height %d: %w", e.cfg.Blocks.Height()+1, err)
	}
	e.publishStatus()
	if err := e.do(ctx, acts); err != nil {
		return err
	}
	return e.replayFuture(ctx)
}

// applySynced applies a block fetched from a peer after checking that more
// than 2/3 of the height's validators committed it.
func (e *Engine) applySynced(ctx context.Context, b *blocks.Block, c blocks.Commit) error {
	want := e.cfg.Blocks.Height() + 1
	if b.Header.Height != want {
		return fmt.Errorf("synced block has height %d, want %d", b.Header.Height, want)
	}
	if err := b.ValidateBasic(); err != nil {
		return err
	}
	if b.Header.ChainID != e.cfg.ChainID || b.Header.LastBlockHash != e.lastHash {
		return fmt.Errorf("synced block %d does not extend our chain", want)
	}
	if b.Header.AppHash != e.cfg.Chain.AppHash() {
		return fmt.Errorf("synced block %d expects app hash %x, ours is %x: our state diverged", want, b.Header.AppHash[:6], e.cfg.Chain.AppHash())
	}
	if err := blocks.VerifyCommit(e.cfg.ChainID, e.vals, c, b.Hash()); err != nil {
		return fmt.Errorf("synced block %d: %w", want, err)
	}
	if err := e.checkBeacon(b, e.vals); err != nil {
		return fmt.Errorf("synced block %d: %w", want, err)
	}
	if err := e.apply(b, c); err != nil {
		return err
	}
	// The height was decided elsewhere: restart the Machine at the next one.
	m, err := consensus.NewMachine(consensus.Config{Self: e.self, Timeouts: e.cfg.Timeouts}, want+1, e.vals, nil)
	if err != nil {
		return err
	}
	e.machine = m
	e.publishStatus()
	return e.startOrWait(ctx, startMachine)
}

// ledgerSet is the consensus set the ledger reports after block h.
func (e *Engine) ledgerSet(h uint64) ([]consensus.Validator, error) {
	set, err := e.cfg.Chain.ConsensusSet(h)
	if err != nil {
		return nil, err
	}
	return toConsensus(set), nil
}

func toConsensus(set []staking.ValidatorPower) []consensus.Validator {
	out := make([]consensus.Validator, 0, len(set))
	for _, v := range set {
		out = append(out, consensus.Validator{Address: keys.AddressOf(v.ConsPubKey), PubKey: keys.PubKey(v.ConsPubKey), Power: int64(v.Power)})
	}
	return out
}

// nextValset is the set for height h+1 after committing h: the ledger's
// set after block h-1, reached from the current set by Advance so that
// proposer priorities carry over.
func (e *Engine) nextValset(h uint64) (*consensus.ValidatorSet, error) {
	var target []consensus.Validator
	var err error
	if h >= 1 {
		target, err = e.ledgerSet(h - 1)
	}
	if err != nil {
		return nil, err
	}
	return e.vals.Advance(diffSets(e.vals, target))
}

// diffSets lists the changes that turn cur into target (power 0 removes).
func diffSets(cur *consensus.ValidatorSet, target []consensus.Validator) []consensus.Validator {
	var changes []consensus.Validator
	in := map[keys.Address]bool{}
	for _, t := range target {
		in[t.Address] = true
		if i, ok := cur.Index(t.Address); !ok || cur.Validator(i).Power != t.Power {
			changes = append(changes, t)
		}
	}
	for i := 0; i < cur.Len(); i++ {
		if v := cur.Validator(i); !in[v.Address] {
			changes = append(changes, consensus.Validator{Address: v.Address, Power: 0})
		}
	}
	return changes
}

// The validator sets of the next height and of the last committed height
// are kept in a small file written atomically after each block. After a
// crash between storing a block and writing the file, the next set is
// recomputed one step from what the file holds.
type valsetFile struct {
	_      struct{} `cbor:",toarray"`
	Height uint64   // the height Next decides
	Next   []byte
	Prev   []byte // the set that decided Height-1; empty at height 1
}

func (e *Engine) saveValset(height uint64, next, prev *consensus.ValidatorSet) error {
	f := valsetFile{Height: height, Next: next.Encode()}
	if prev != nil {
		f.Prev = prev.Encode()
	}
	return writeFileNoSync(e.cfg.ValsetPath, codec.MustMarshal(f), 0o600)
}

// valsetFileEvery: blocks between refreshes of the validator-set file.
const valsetFileEvery = 1000

// writeFileNoSync replaces path with data through a rename, without fsync:
// the validator-set file is a cache of what the block store holds
// (fsynced, SaveDecided), so after a machine crash an old, empty or torn
// file is rebuilt from the store (loadValsets), and a block costs no
// fsync for it.
func writeFileNoSync(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func (e *Engine) readValset() (valsetFile, error) {
	var f valsetFile
	raw, err := os.ReadFile(e.cfg.ValsetPath)
	if err != nil {
		return f, err
	}
	if err := codec.Unmarshal(raw, &f); err != nil {
		return f, fmt.Errorf("%s is corrupt: %v", e.cfg.ValsetPath, err)
	}
	return f, nil
}

// loadValsets sets e.vals (deciding height) and e.prevVals (decided
// height-1) from the file, or from genesis at height 1.
func (e *Engine) loadValsets(height uint64) error {
	f, err := e.readValset()
	if height > 1 && (err != nil || f.Height+1 < height) {
		// Missing, torn or old (not fsynced): the store has the set that
		// decided the last block; the next one is one step from it.
		if vs, verr := e.cfg.Blocks.Validators(height - 1); verr == nil {
			if err == nil {
				e.log.Debug("validator-set file is older than the block store; rebuilt from the store", "file_height", f.Height, "height", height)
			} else {
				e.log.Info("validator-set file unreadable; rebuilt from the block store", "err", err)
			}
			f, err = valsetFile{Height: height - 1, Next: vs.Encode()}, nil
			if h := height - 2; h >= 1 {
				if pv, perr := e.cfg.Blocks.Validators(h); perr == nil {
					f.Prev = pv.Encode()
				}
			}
		}
	}
	switch {
	case errors.Is(err, os.ErrNotExist) && height == 1:
		set, err := e.ledgerSet(0)
		if err != nil {
			return err
		}
		vs, err := consensus.NewValidatorSet(set)
		if err != nil {
			return fmt.Errorf("genesis validator set: %w", err)
		}
		e.vals = vs
		return e.saveValset(1, vs, nil)
	case err != nil:
		return fmt.Errorf("read the validator set of height %d: %w", height, err)
	case f.Height != height && f.Height+1 != height:
		return fmt.Errorf("%s holds the set of height %d, but the block store is at %d", e.cfg.ValsetPath, f.Height, height-1)
	}
	next, err := consensus.DecodeValidatorSet(f.Next)
	if err != nil {
		return err
	}
	var prev *consensus.ValidatorSet
	if len(f.Prev) > 0 {
		if prev, err = consensus.DecodeValidatorSet(f.Prev); err != nil {
			return err
		}
	}
	if f.Height == height {
		e.vals, e.prevVals = next, prev
		return nil
	}
	// Crashed after storing block f.Height but before saving the next set.
	e.vals = next
	n, err := e.nextValset(f.Height)
	if err != nil {
		return err
	}
	e.prevVals, e.vals = next, n
	return e.saveValset(height, n, next)
}
