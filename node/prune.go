package node

import (
	"context"
	"fmt"
)

// PruningConfig is the [pruning] section of config.toml, in the style of
// the Cosmos SDK's: which past heights the node keeps, for both the ledger
// state (query --height) and the block store (block sync, /blocks).
//
//	strategy = "default"    keep the last 100,000 heights, prune every 100
//	strategy = "nothing"    keep everything (an archive node)
//	strategy = "everything" keep the last 2 heights, prune every 10
//	strategy = "custom"     keep_recent, keep_every and interval as set
//
// keep_every (custom only) also keeps every K-th block below the window;
// ledger state below the window is not kept (Badger's versions can only be
// dropped below one watermark; state-sync snapshots are the periodic
// record of old state). See docs/operations.md, "Pruning".
type PruningConfig struct {
	Strategy   string `toml:"strategy"`
	KeepRecent uint64 `toml:"keep_recent"`
	KeepEvery  uint64 `toml:"keep_every"`
	Interval   uint64 `toml:"interval"`
}

// MinKeepRecent is the fewest heights a pruned node keeps: the latest one
// (what start-up replay and the next block need) and the one before it
// (the validator set of the next height is the ledger's after h-1).
const MinKeepRecent = 2

// Policy is a resolved pruning configuration; KeepRecent 0 means keep all.
type Policy struct {
	KeepRecent, KeepEvery, Interval uint64
}

// Resolve turns the strategy into numbers, refusing a bad combination.
func (p PruningConfig) Resolve() (Policy, error) {
	switch p.Strategy {
	case "", "default":
		return Policy{KeepRecent: 100_000, Interval: 100}, nil
	case "nothing":
		return Policy{}, nil
	case "everything":
		return Policy{KeepRecent: MinKeepRecent, Interval: 10}, nil
	case "custom":
		switch {
		case p.KeepRecent < MinKeepRecent:
			return Policy{}, fmt.Errorf("config: pruning.keep_recent is %d; a pruning node keeps at least %d heights", p.KeepRecent, MinKeepRecent)
		case p.Interval == 0:
			return Policy{}, fmt.Errorf("config: pruning.interval must be at least 1 (heights between prunes)")
		}
		return Policy{KeepRecent: p.KeepRecent, KeepEvery: p.KeepEvery, Interval: p.Interval}, nil
	}
	return Policy{}, fmt.Errorf("config: pruning.strategy %q: want default, nothing, everything or custom", p.Strategy)
}

// Validate checks the section; fields other than strategy are refused
// unless the strategy is custom, so that a setting is never silently
// ignored.
func (p PruningConfig) Validate() error {
	if p.Strategy != "custom" && (p.KeepRecent != 0 || p.KeepEvery != 0 || p.Interval != 0) {
		return fmt.Errorf("config: pruning.keep_recent, keep_every and interval apply only with strategy = \"custom\" (strategy is %q)", p.Strategy)
	}
	_, err := p.Resolve()
	return err
}

// pruneTo is the oldest height to keep after committing latest: the last
// KeepRecent heights, never above what a snapshot in progress reads.
func (p Policy) pruneTo(latest, hold uint64) (uint64, bool) {
	if p.KeepRecent == 0 || latest < p.KeepRecent || latest%p.Interval != 0 {
		return 0, false
	}
	oldest := latest - p.KeepRecent + 1
	if hold > 0 && hold < oldest {
		oldest = hold
	}
	return oldest, true
}

// pruneLoop prunes the ledger and the block store after every Interval-th
// committed height, off the engine's goroutine. The ledger's oldest height
// is the ledger's own (the block store can be one block ahead of it);
// blocks keep the same window.
func (r *Running) pruneLoop(ctx context.Context, p Policy) {
	heights, cancel := r.Engine.SubscribeCommits()
	defer cancel()
	for {
		var h uint64
		var ok bool
		select {
		case <-ctx.Done():
			return
		case h, ok = <-heights:
			if !ok {
				return
			}
		}
		oldest, due := p.pruneTo(h, r.snapshotHold())
		if !due {
			continue
		}
		if err := r.ledgerStore.Prune(oldest); err != nil {
			r.Log.Warn("pruning: ledger", "oldest", oldest, "err", err)
			continue
		}
		n, err := r.Blocks.Prune(max(oldest, 1), p.KeepEvery)
		if err != nil {
			r.Log.Warn("pruning: blocks", "base", oldest, "err", err)
			continue
		}
		r.Log.Debug("pruned", "oldest", oldest, "blocks_deleted", n)
	}
}

// snapshotHold is the height pruning must keep for a snapshot being taken.
func (r *Running) snapshotHold() uint64 { return r.snapHold.Load() }
