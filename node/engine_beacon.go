package node

import (
	"fmt"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/node/blocks"
)

// The randomness beacon's part in the engine (ledger/beacon.go,
// node/blocks/beacon.go): a proposer proves its VRF over the beacon after
// the last block; every block, proposed or synced, is refused unless its
// proof verifies under its proposer's consensus key.

// prevBeacon is the beacon value the block after the ledger's tip proves
// over.
func (e *Engine) prevBeacon() ([]byte, error) {
	h, _ := e.cfg.Chain.Height()
	b, err := e.cfg.Chain.Beacon(h)
	if err != nil {
		return nil, fmt.Errorf("read the beacon after height %d: %w", h, err)
	}
	return b.Value, nil
}

// beaconProof is this validator's proof for the block it proposes at height.
func (e *Engine) beaconProof(height uint64) ([]byte, error) {
	if e.cfg.ValidatorKey == nil {
		return nil, fmt.Errorf("no validator key to prove the beacon of height %d with", height)
	}
	prev, err := e.prevBeacon()
	if err != nil {
		return nil, err
	}
	return blocks.ProveBeacon(e.cfg.ValidatorKey, e.cfg.ChainID, height, prev), nil
}

// checkBeacon verifies b's beacon proof against its proposer in vals (the
// set deciding b's height) and the beacon after our tip.
func (e *Engine) checkBeacon(b *blocks.Block, vals *consensus.ValidatorSet) error {
	i, ok := vals.Index(b.Header.Proposer)
	if !ok {
		return fmt.Errorf("proposer %s is not a validator", b.Header.Proposer)
	}
	prev, err := e.prevBeacon()
	if err != nil {
		return err
	}
	if _, err := blocks.VerifyBeacon(&b.Header, vals.Validator(i).PubKey, prev); err != nil {
		return err
	}
	return nil
}
