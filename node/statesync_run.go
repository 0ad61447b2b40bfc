package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/store/badgerstore"
	"github.com/inferd/inferd/node/blocks"
	"github.com/inferd/inferd/node/statesync"
	"github.com/inferd/inferd/p2p"
)

// Snapshot and restore directories under the home.
const (
	SnapshotsDir    = "data/snapshots"
	StateRestoreDir = "data/state.restore"
	stateOldDir     = "data/state.old"
)

// StateSyncConfig is the [statesync] section of config.toml.
type StateSyncConfig struct {
	// Enable: a node with no blocks yet restores a peer's snapshot instead
	// of replaying the chain, then block-syncs the rest.
	Enable bool `toml:"enable"`
	// TrustHeight and TrustHash (hex): with both set, only the snapshot of
	// height TrustHeight-1 is restored and the header of TrustHeight must
	// have that hash. Without them, the node trusts the genesis validator
	// set (a devnet, or a chain whose set has not changed).
	TrustHeight uint64 `toml:"trust_height"`
	TrustHash   string `toml:"trust_hash"`
	// SnapshotInterval: take a snapshot every N heights (0: none) and serve
	// it to peers; SnapshotKeepRecent snapshots are kept.
	SnapshotInterval   uint64 `toml:"snapshot_interval"`
	SnapshotKeepRecent int    `toml:"snapshot_keep_recent"`
}

// Validate checks the section.
func (c StateSyncConfig) Validate() error {
	if (c.TrustHeight == 0) != (c.TrustHash == "") {
		return errors.New("config: statesync.trust_height and statesync.trust_hash go together (set both or neither)")
	}
	if c.TrustHash != "" {
		if b, err := hex.DecodeString(c.TrustHash); err != nil || len(b) != 32 {
			return fmt.Errorf("config: statesync.trust_hash %q: want the 64 hex digits of a block hash", c.TrustHash)
		}
	}
	if c.TrustHeight == 1 {
		return errors.New("config: statesync.trust_height must be at least 2 (the header after a snapshot height)")
	}
	if c.SnapshotInterval > 0 && c.SnapshotKeepRecent < 1 {
		return errors.New("config: statesync.snapshot_keep_recent must be at least 1 when snapshot_interval is set")
	}
	return nil
}

// snapshotSource serves the node's snapshots over p2p.
type snapshotSource struct{ s *statesync.Store }

func (p snapshotSource) ListSnapshots() ([]byte, error) {
	list, err := p.s.List()
	if err != nil {
		return nil, err
	}
	if len(list) > 16 {
		list = list[:16]
	}
	return codec.Marshal(list)
}

func (p snapshotSource) LoadSnapshotChunk(h uint64, f, i uint32) ([]byte, error) {
	return p.s.LoadChunk(h, f, i)
}

// p2pPeer is a statesync.Peer over the snapshots protocol.
type p2pPeer struct {
	h  *p2p.Host
	id peer.ID
}

func (p p2pPeer) ID() string { return p.id.String() }

func (p p2pPeer) ListSnapshots(ctx context.Context) ([]statesync.Metadata, error) {
	raw, err := p.h.ListSnapshots(ctx, p.id)
	if err != nil {
		return nil, err
	}
	var list []statesync.Metadata
	if err := codec.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("snapshot list from %s: %w", p.id, err)
	}
	return list, nil
}

func (p p2pPeer) LoadChunk(ctx context.Context, h uint64, f, i uint32) ([]byte, error) {
	return p.h.LoadSnapshotChunk(ctx, p.id, h, f, i)
}

// snapshotLoop takes a snapshot every interval heights, off the engine's
// goroutine, holding pruning below the height it reads.
func (r *Running) snapshotLoop(ctx context.Context, snaps *statesync.Store, c StateSyncConfig) {
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
		if h%c.SnapshotInterval != 0 {
			continue
		}
		r.snapHold.Store(h)
		start := time.Now()
		m, err := r.takeSnapshot(snaps, h)
		r.snapHold.Store(0)
		if err != nil {
			r.Log.Warn("snapshot", "height", h, "err", err)
			continue
		}
		if err := snaps.Prune(c.SnapshotKeepRecent); err != nil {
			r.Log.Warn("snapshot prune", "err", err)
		}
		r.Log.Info("snapshot taken", "height", h, "chunks", len(m.Chunks), "bytes", m.Size, "keys", m.Keys, "took", time.Since(start).Round(time.Millisecond))
	}
}

func (r *Running) takeSnapshot(snaps *statesync.Store, h uint64) (statesync.Metadata, error) {
	if o, pruned := r.ledgerStore.Oldest(); pruned && o > h {
		return statesync.Metadata{}, fmt.Errorf("height %d was pruned before the snapshot began (oldest %d); raise pruning.keep_recent", h, o)
	}
	app, err := r.Chain.AppHashAt(h)
	if err != nil {
		return statesync.Metadata{}, err
	}
	rd, err := r.ledgerStore.At(h)
	if err != nil {
		return statesync.Metadata{}, err
	}
	return snaps.Create(h, rd, app)
}

// stateSync restores a snapshot from peers into a node that has no blocks
// yet: discover, verify the header after the snapshot against the trusted
// validator set, fetch and check the chunks, restore into a fresh
// directory, swap it in, and start the block store at the snapshot height.
func (r *Running) stateSync(ctx context.Context) error {
	// A ledger ahead of an empty block store is a restore interrupted
	// between installing the state and starting the block store: redo it.
	if r.Blocks.Height() > 0 {
		r.Log.Info("state sync: the node already has state; skipping", "height", r.Blocks.Height())
		return nil
	}
	if h, _ := r.Chain.Height(); h > 0 {
		r.Log.Warn("state sync: a restore was interrupted before the block store started; starting over", "ledger_height", h)
		if err := r.resetToGenesis(); err != nil {
			return err
		}
	}
	c := r.Config.StateSync
	var trustHash []byte
	if c.TrustHash != "" {
		trustHash, _ = hex.DecodeString(c.TrustHash) // validated
	}
	gset, err := r.Chain.ConsensusSet(0)
	if err != nil {
		return err
	}
	genesisVals, err := consensus.NewValidatorSet(toConsensus(gset))
	if err != nil {
		return fmt.Errorf("state sync: genesis validator set: %w", err)
	}
	start := time.Now()
	for attempt := 1; ctx.Err() == nil; attempt++ {
		var peers []statesync.Peer
		for _, id := range r.Host.Peers() {
			peers = append(peers, p2pPeer{r.Host, id})
		}
		offers := statesync.Discover(ctx, peers, 1)
		for _, o := range offers {
			if c.TrustHeight > 0 && o.Meta.Height+1 != c.TrustHeight {
				continue
			}
			err := r.restore(ctx, o, genesisVals, trustHash)
			if err == nil {
				r.Log.Info("state sync: restored", "height", o.Meta.Height, "chunks", len(o.Meta.Chunks), "took", time.Since(start).Round(time.Millisecond))
				return nil
			}
			r.Log.Warn("state sync: snapshot refused", "height", o.Meta.Height, "err", err)
		}
		if attempt%10 == 1 {
			r.Log.Info("state sync: waiting for a usable snapshot", "peers", len(peers), "offers", len(offers))
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return ctx.Err()
}

// setsAt returns the validator sets deciding h and h+1, reached from the
// genesis set by one Advance per height (the engine's rule when the set does
// not change).
func setsAt(genesis *consensus.ValidatorSet, h uint64) (*consensus.ValidatorSet, *consensus.ValidatorSet, error) {
	cur := genesis
	for i := uint64(1); i < h; i++ {
		next, err := cur.Advance(nil)
		if err != nil {
			return nil, nil, err
		}
		cur = next
	}
	next, err := cur.Advance(nil)
	return cur, next, err
}

func (r *Running) restore(ctx context.Context, o statesync.Offer, genesisVals *consensus.ValidatorSet, trustHash []byte) error {
	meta := o.Meta
	h := meta.Height
	// The block of the snapshot height and the next one, with their
	// commits, from the first peer that has them.
	var b0, b1 *blocks.Block
	var c0, c1 blocks.Commit
	var lastErr error
	for _, p := range o.Peers {
		raws, err := r.Host.FetchBlocks(ctx, p.(p2pPeer).id, h, 2)
		if err == nil && len(raws) < 2 {
			err = fmt.Errorf("peer %s has no block %d yet", p.ID(), h+1)
		}
		if err == nil {
			b0, c0, err = decodeEnvelope(raws[0])
		}
		if err == nil {
			b1, c1, err = decodeEnvelope(raws[1])
		}
		if err == nil {
			break
		}
		lastErr = err
	}
	if b1 == nil {
		return fmt.Errorf("blocks %d and %d: %w", h, h+1, lastErr)
	}
	setH, setH1, err := setsAt(genesisVals, h)
	if err != nil {
		return err
	}
	if b0.Header.ValidatorsHash != setH.Hash() || b1.Header.ValidatorsHash != setH1.Hash() {
		return fmt.Errorf("the validator set at height %d is not the genesis set; this node can only state-sync a chain whose set has not changed (use block sync)", h)
	}
	if err := statesync.VerifyHeader(r.Genesis.ChainID, setH1, &b1.Header, c1, meta, trustHash); err != nil {
		return err
	}
	if b1.Header.LastBlockHash != b0.Hash() {
		return fmt.Errorf("block %d does not follow block %d", h+1, h)
	}
	if err := blocks.VerifyCommit(r.Genesis.ChainID, setH, c0, b0.Hash()); err != nil {
		return fmt.Errorf("commit of block %d: %w", h, err)
	}
	chunks, rejects, err := statesync.Fetch(ctx, meta, o.Peers, 4)
	for _, rj := range rejects {
		if id, err := peer.Decode(rj.Peer); err == nil {
			r.Host.Penalize(id, "served a snapshot chunk that does not match its hash")
		}
		r.Log.Warn("state sync: peer rejected", "peer", rj.Peer, "why", rj.Reason)
	}
	if err != nil {
		return err
	}
	if err := r.installRestoredState(meta, chunks); err != nil {
		return err
	}
	if err := r.Blocks.Bootstrap(b0, c0); err != nil {
		return err
	}
	f := valsetFile{Height: h + 1, Next: setH1.Encode(), Prev: setH.Encode()}
	return ledger.WriteFileAtomic(filepath.Join(r.Home, ValsetFile), codec.MustMarshal(f), 0o600)
}

// resetToGenesis replaces the ledger state by a fresh genesis state.
func (r *Running) resetToGenesis() error {
	cur := filepath.Join(r.Home, StateDir)
	if err := r.ledgerStore.Close(); err != nil {
		return err
	}
	if err := os.RemoveAll(cur); err != nil {
		return err
	}
	var err error
	if r.ledgerStore, err = badgerstore.Open(cur, ledgerStoreOptions); err != nil {
		return err
	}
	if err := r.openChain(); err != nil {
		return err
	}
	_, err = r.Chain.InitGenesis(r.Genesis)
	return err
}

func decodeEnvelope(raw []byte) (*blocks.Block, blocks.Commit, error) {
	var env syncEnvelope
	if err := codec.Unmarshal(raw, &env); err != nil {
		return nil, blocks.Commit{}, err
	}
	b, err := blocks.Decode(env.Block)
	if err != nil {
		return nil, blocks.Commit{}, err
	}
	if err := b.ValidateBasic(); err != nil {
		return nil, blocks.Commit{}, err
	}
	c, err := blocks.DecodeCommit(env.Commit)
	return b, c, err
}

// installRestoredState restores into data/state.restore, checks it, and
// swaps it in for data/state (which holds only genesis): rename the old
// state aside, rename the restored one into place, remove the old one. A
// crash before the second rename leaves no data/state, and the next start
// begins again from genesis and state-syncs again; after it, the restored
// state is the node's.
func (r *Running) installRestoredState(meta statesync.Metadata, chunks [][]byte) error {
	dir := filepath.Join(r.Home, StateRestoreDir)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	st, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		return err
	}
	if err := statesync.Apply(st, meta, chunks); err != nil {
		st.Close()
		os.RemoveAll(dir)
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	old, cur := filepath.Join(r.Home, stateOldDir), filepath.Join(r.Home, StateDir)
	if err := r.ledgerStore.Close(); err != nil {
		return err
	}
	os.RemoveAll(old)
	if err := os.Rename(cur, old); err != nil {
		return err
	}
	if err := os.Rename(dir, cur); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if r.ledgerStore, err = badgerstore.Open(cur, ledgerStoreOptions); err != nil {
		return err
	}
	if err := r.openChain(); err != nil {
		return err
	}
	if got := r.Chain.AppHash(); string(got[:]) != string(meta.AppHash) {
		return fmt.Errorf("state sync: the installed state has app hash %x, want %x", got[:6], meta.AppHash[:6])
	}
	return nil
}
