package apitest

import (
	"fmt"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/light"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/blocks"
)

var _ api.LightBackend = (*Backend)(nil)

// signBlock makes the header of block h (app hash: the state after h-1,
// validators: the ledger's set after h-2, as a node's) and the validator's
// precommit for it. Called with b.mu held, after h was applied.
func (b *Backend) signBlock(h uint64, t time.Time, prev api.BlockView, txs [][]byte) (*light.LightBlock, error) {
	at := uint64(0)
	if h > 2 {
		at = h - 2
	}
	set, err := b.C.ConsensusSet(at)
	if err != nil {
		return nil, err
	}
	var vs []consensus.Validator
	for _, v := range set {
		vs = append(vs, consensus.Validator{Address: keys.AddressOf(v.ConsPubKey), PubKey: keys.PubKey(v.ConsPubKey), Power: int64(v.Power)})
	}
	vals, err := consensus.NewValidatorSet(vs)
	if err != nil {
		return nil, err
	}
	cons := keys.AddressOf(b.ConsKey.Public().(keys.PubKey))
	hdr := blocks.Header{ChainID: ChainID, Height: h, Time: t.UnixNano(), TxRoot: blocks.TxRoot(txs), AppHash: [32]byte(prev.AppHash),
		Proposer: cons, ValidatorsHash: vals.Hash(), EvidenceHash: blocks.EvidenceRoot(nil)}
	if h > 1 {
		hdr.LastBlockHash = consensus.BlockID(prev.Hash)
	}
	id := hdr.Hash()
	v := &consensus.Vote{Type: consensus.Precommit, Height: h, BlockID: id, Validator: cons}
	consensus.Sign(b.ConsKey, ChainID, v)
	return &light.LightBlock{Header: hdr, Commit: blocks.MakeCommit(h, 0, id, []*consensus.Vote{v}), Validators: vals}, nil
}

// LightBlock implements api.LightBackend.
func (b *Backend) LightBlock(h uint64) (*light.LightBlock, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if h == 0 || h >= uint64(len(b.light)) || b.light[h] == nil {
		return nil, false, fmt.Errorf("%w: no block at height %d", api.ErrNotFound, h)
	}
	return b.light[h], h < uint64(len(b.blocks)-1), nil
}
