package node

import (
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/blocks"
)

// checkEvidence is blocks.CheckEvidence against the latest committed state,
// for the block after it: the one API submissions and gossip feed.
func (r *Running) checkEvidence(raw []byte) (*consensus.DuplicateVoteEvidence, error) {
	h := r.Engine.Status().Height
	var ev *consensus.DuplicateVoteEvidence
	err := r.Chain.Query(h, func(ctx *ledger.Context) error {
		var err error
		ev, err = blocks.CheckEvidence(ctx, r.Chain.Staking, raw, h+1)
		return err
	})
	return ev, err
}

// SubmitEvidence implements api.EvidenceBackend: checked evidence enters
// the pool (a proposer puts it in its next block) and is gossiped, so
// that whichever validator proposes next has it.
func (b backend) SubmitEvidence(raw []byte) ([32]byte, error) {
	ev, err := b.r.checkEvidence(raw)
	if err != nil {
		return [32]byte{}, err
	}
	b.r.Engine.DeliverEvidence(ev)
	if err := b.tr.Broadcast(KindEvidence, raw); err != nil {
		b.r.Log.Warn("gossip of submitted evidence failed; it stays in this node's pool", "validator", ev.Validator(), "err", err)
	}
	return api.EvidenceHash(raw), nil
}
