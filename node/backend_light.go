package node

import (
	"errors"
	"fmt"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/light"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/blocks"
	"github.com/inferd/inferd/node/blockstore"
)

var _ api.LightBackend = backend{}

// validatorsAt is the validator set that decides height h (h >= 1): the
// ledger's consensus set after block h-2 (after genesis for h <= 2), as
// the engine derives it (nextValset). Proposer priorities are not
// rebuilt; the hash (addresses, keys, powers) is the header's
// ValidatorsHash.
func (b backend) validatorsAt(h uint64) (*consensus.ValidatorSet, error) {
	if h == 0 {
		return nil, fmt.Errorf("%w: height 0 has no validator set", api.ErrNotFound)
	}
	at := uint64(0)
	if h > 2 {
		at = h - 2
	}
	set, err := b.r.Chain.ConsensusSet(at)
	if err != nil {
		return nil, fmt.Errorf("validator set of height %d (the ledger's set after block %d): %w", h, at, err)
	}
	return consensus.NewValidatorSet(toConsensus(set))
}

// LightBlock implements api.LightBackend: header h, the commit for it
// (block h+1's last commit, or the seen commit while h is the latest
// block) and the set of h, checked against the header's ValidatorsHash.
func (b backend) LightBlock(h uint64) (*light.LightBlock, bool, error) {
	if latest := b.LatestHeight(); h == 0 || h > latest {
		return nil, false, fmt.Errorf("%w: no block at height %d (latest is %d)", api.ErrNotFound, h, latest)
	}
	blk, err := b.r.Blocks.Block(h)
	if errors.Is(err, blockstore.ErrNotFound) {
		return nil, false, fmt.Errorf("%w: block %d is not in the block store (pruned?)", api.ErrNotFound, h)
	}
	if err != nil {
		return nil, false, err
	}
	var c blocks.Commit
	canonical := false
	if next, err := b.r.Blocks.Block(h + 1); err == nil && h+1 <= b.LatestHeight() {
		c, canonical = next.LastCommit, true
	} else if c, err = b.r.Blocks.SeenCommit(h); err != nil {
		return nil, false, fmt.Errorf("commit of height %d: %w", h, err)
	}
	vals, err := b.validatorsAt(h)
	if err != nil {
		return nil, false, err
	}
	if vals.Hash() != blk.Header.ValidatorsHash {
		return nil, false, fmt.Errorf("validator set of height %d rebuilt from the ledger does not match the header's validators hash", h)
	}
	return &light.LightBlock{Header: blk.Header, Commit: c, Validators: vals}, canonical, nil
}

// commitSummary counts who signed c among vals, the set of c.Height.
func commitSummary(c blocks.Commit, vals *consensus.ValidatorSet) api.CommitSummary {
	s := api.CommitSummary{Height: c.Height, Round: uint32(c.Round), Signatures: len(c.Signatures)}
	if vals == nil {
		return s
	}
	s.Validators = vals.Len()
	s.TotalPower = uint64(vals.TotalPower())
	for _, sig := range c.Signatures {
		if i, ok := vals.Index(sig.Validator); ok {
			s.SignedPower += uint64(vals.Validator(i).Power)
		}
	}
	return s
}
