package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/blocks"
	"github.com/inferd/inferd/node/blockstore"
	"github.com/inferd/inferd/node/mempool"
)

// backend implements api.Backend for a running node.
type backend struct {
	r  *Running
	tr *p2pTransport
}

func (b backend) Status() api.Status {
	st := b.r.Engine.Status()
	s := api.Status{
		ChainID: b.r.Genesis.ChainID, Height: st.Height, BlockHash: st.BlockHash[:], AppHash: st.AppHash[:],
		BlockTime: time.Unix(0, st.BlockTime).UTC(), Peers: len(b.r.Host.Peers()), NodeID: b.r.Host.ID().String(),
		Moniker: b.r.Config.Moniker, CatchingUp: b.r.syncing.Load(),
	}
	if v := b.r.ValidatorAddress(); !v.IsZero() {
		s.ConsensusAddress = v.String()
		// A full node has a consensus key too (for create-validator later):
		// it is a validator only while that key is in the set.
		if st.Vals != nil {
			if _, in := st.Vals.Index(v); in {
				s.Validator = v.String()
			}
		}
	}
	return s
}

func (b backend) Chain() *chain.Chain { return b.r.Chain }

// LatestHeight is the height the engine last finished: the block store can
// be one block ahead of the ledger for a moment (a block is stored before
// the ledger commits it), and "latest" must name a height every query can
// answer.
func (b backend) LatestHeight() uint64 { return b.r.Engine.Status().Height }

func (b backend) Block(h uint64) (api.BlockView, error) {
	if latest := b.LatestHeight(); h > latest {
		return api.BlockView{}, fmt.Errorf("%w: no block at height %d (latest is %d)", api.ErrNotFound, h, latest)
	}
	blk, err := b.r.Blocks.Block(h)
	if errors.Is(err, blockstore.ErrPruned) {
		return api.BlockView{}, fmt.Errorf("%w: %v", api.ErrPruned, err)
	}
	if errors.Is(err, blockstore.ErrNotFound) {
		return api.BlockView{}, fmt.Errorf("%w: no block at height %d (latest is %d)", api.ErrNotFound, h, b.r.Blocks.Height())
	}
	if err != nil {
		return api.BlockView{}, err
	}
	return b.view(blk)
}

func (b backend) view(blk *blocks.Block) (api.BlockView, error) {
	id := blk.Hash()
	app, err := b.r.Chain.AppHashAt(blk.Header.Height)
	if err != nil {
		return api.BlockView{}, err
	}
	v := api.BlockView{
		Height: blk.Header.Height, Hash: id[:], AppHash: app[:], LastBlockHash: blk.Header.LastBlockHash[:],
		Time: time.Unix(0, blk.Header.Time).UTC(), Proposer: blk.Header.Proposer, NumTxs: len(blk.Txs),
	}
	var lastVals *consensus.ValidatorSet
	if !blk.LastCommit.IsZero() {
		// Without the set (pruned state) the view still counts signatures.
		lastVals, _ = b.validatorsAt(blk.LastCommit.Height)
	}
	v.LastCommit = commitSummary(blk.LastCommit, lastVals)
	for _, raw := range blk.Txs {
		h := ledger.HashTx(raw)
		v.Txs = append(v.Txs, h[:])
	}
	return v, nil
}

func (b backend) Tx(hash [32]byte) (api.TxView, error) {
	rec, err := b.r.Blocks.Tx(hash)
	if errors.Is(err, blockstore.ErrNotFound) {
		return api.TxView{}, fmt.Errorf("%w: transaction %x is not committed (yet)", api.ErrNotFound, hash[:])
	}
	if err != nil {
		return api.TxView{}, err
	}
	// A block is stored a moment before the ledger commits it; until then
	// the tx is not visible, so that a client that saw it committed reads
	// state (a nonce, a balance) that includes it.
	if rec.Height > b.LatestHeight() {
		return api.TxView{}, fmt.Errorf("%w: transaction %x is not committed (yet)", api.ErrNotFound, hash[:])
	}
	return api.NewTxView(rec.Tx, rec.Height, rec.Index, rec.Result), nil
}

func (b backend) SubmitTx(raw []byte) ([32]byte, error) {
	h, err := b.r.SubmitTx(raw)
	switch {
	case errors.Is(err, mempool.ErrDuplicate):
		return h, fmt.Errorf("%w: %v", api.ErrAlreadyKnown, err)
	case errors.Is(err, mempool.ErrFeeTooLowToReplace):
		return h, fmt.Errorf("%w: %v", api.ErrNoncePending, err)
	case errors.Is(err, mempool.ErrFull):
		return h, fmt.Errorf("%w: %v", api.ErrMempoolFull, err)
	case err != nil:
		return h, err
	}
	kind := KindTx
	if tx, derr := ledger.DecodeTx(raw); derr == nil { // accepted above, so it decodes
		kind = txKind(tx.Body.Msgs)
	}
	if kind == KindTx && b.r.batcher != nil && b.r.batcher.add(raw) {
		return h, nil
	}
	if err := b.tr.Broadcast(kind, raw); err != nil {
		b.r.Log.Debug("gossip tx", "err", err)
	}
	return h, nil
}

func (b backend) SubscribeBlocks() (<-chan api.BlockView, func()) {
	heights, cancel := b.r.Engine.SubscribeCommits()
	out := make(chan api.BlockView, 16)
	go func() {
		defer close(out)
		for h := range heights {
			v, err := b.Block(h)
			if err != nil {
				continue
			}
			select {
			case out <- v:
			default:
			}
		}
	}()
	return out, cancel
}

// engineMetrics feeds the engine's measurements to Prometheus.
type engineMetrics struct{ m *api.Metrics }

func (e engineMetrics) ObserveCommit(height uint64, _ int32, txs int, interval time.Duration) {
	e.m.Height.Set(float64(height))
	e.m.BlockTxs.Observe(float64(txs))
	e.m.TxsCommitted.Add(float64(txs))
	if interval > 0 && interval < time.Hour {
		e.m.BlockInterval.Observe(interval.Seconds())
	}
}

func (e engineMetrics) SetRound(r int32) { e.m.Round.Set(float64(r)) }

// Content is the node's content service, for the /content/* endpoints.
func (b backend) Content() *content.Service { return b.r.Content }

// TxPool implements api.TxPoolBackend: an uncommitted tx is pending (in
// the mempool, or stored in a block the ledger is committing), dropped
// (with the mempool's reason) or unknown.
func (b backend) TxPool(hash [32]byte) (string, string) {
	if b.r.Mempool.Has(hash) {
		return api.TxPending, ""
	}
	if _, err := b.r.Blocks.Tx(hash); err == nil {
		return api.TxPending, "" // stored, the ledger commits it in a moment
	}
	if reason, ok := b.r.Mempool.Dropped(hash); ok {
		return api.TxDropped, reason
	}
	return api.TxUnknown, ""
}
