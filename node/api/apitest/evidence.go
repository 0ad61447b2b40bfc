package apitest

import (
	"errors"
	"fmt"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/blocks"
)

var _ api.EvidenceBackend = (*Backend)(nil)

// SubmitEvidence implements api.EvidenceBackend with the node's checks
// (blocks.CheckEvidence); accepted evidence goes into the next block, which
// AutoCommit makes at once.
func (b *Backend) SubmitEvidence(raw []byte) ([32]byte, error) {
	hash := api.EvidenceHash(raw)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notReady {
		return hash, fmt.Errorf("%w: catching up", api.ErrNotReady)
	}
	latest := uint64(len(b.blocks) - 1)
	err := b.C.Query(latest, func(ctx *ledger.Context) error {
		ev, err := blocks.CheckEvidence(ctx, b.C.Staking, raw, latest+1)
		if err != nil {
			return err
		}
		b.evidence = append(b.evidence, ledger.Evidence{Kind: blocks.EvidenceKindDuplicateVote, Validator: ev.Validator(), Height: ev.Height(), Raw: raw})
		return nil
	})
	if err != nil {
		return hash, err
	}
	if b.AutoCommit {
		if _, err := b.commitLocked(nil); err != nil {
			return hash, errors.Join(api.ErrNotReady, err)
		}
	}
	return hash, nil
}
