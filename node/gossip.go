package node

import (
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
)

// decodeGossip is the stateless part of a topic's validator: it decodes
// body (a gossip payload without its sequence prefix) as what topic kind
// carries: a consensus.Message, a *blocks.Block (ValidateBasic included),
// a *ledger.Tx (DecodeTx's checks, not its signature) or a
// *consensus.DuplicateVoteEvidence. An error means the sender sent what an
// honest peer never does. Compute payloads are opaque here (nil, nil): the
// compute agents decode and bound them. It never panics.
func decodeGossip(kind string, body []byte) (any, error) {
	switch kind {
	case KindConsensus:
		return consensus.DecodeMessage(body)
	case KindBlock:
		return blocks.Decode(body)
	case KindTx, KindSubmissions:
		return ledger.DecodeTx(body)
	case KindTxBatch:
		return decodeTxBatch(body)
	case KindEvidence:
		return consensus.DecodeDuplicateVoteEvidence(body)
	case KindCompute:
		return nil, nil
	}
	return nil, fmt.Errorf("no topic %q", kind)
}

// syncEnvelope is what block sync serves per height: the block and the
// commit that finalised it.
type syncEnvelope struct {
	_      struct{} `cbor:",toarray"`
	Block  []byte
	Commit []byte
}

// decodeSyncEnvelope decodes one block-sync frame into its block and
// commit, both checked statelessly (blocks.Decode, blocks.DecodeCommit),
// and checks that the commit is for that block. On failure reason says
// what the peer got wrong (for Host.Penalize). It never panics.
func decodeSyncEnvelope(raw []byte) (b *blocks.Block, c blocks.Commit, reason string, err error) {
	var env syncEnvelope
	if err := codec.Unmarshal(raw, &env); err != nil {
		return nil, blocks.Commit{}, "malformed block-sync envelope", err
	}
	if b, err = blocks.Decode(env.Block); err != nil {
		return nil, blocks.Commit{}, "malformed block", err
	}
	if c, err = blocks.DecodeCommit(env.Commit); err != nil {
		return nil, blocks.Commit{}, "malformed commit", err
	}
	if c.Height != b.Header.Height || c.BlockID != b.Hash() {
		return nil, blocks.Commit{}, "commit for another block", fmt.Errorf("%w: commit of height %d for %s served with block %d %s",
			blocks.ErrInvalidCommit, c.Height, c.BlockID, b.Header.Height, b.Hash())
	}
	return b, c, "", nil
}
