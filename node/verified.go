package node

import (
	"sync"

	"github.com/inferd/inferd/consensus"
)

// verifiedMessages remembers the consensus messages from peers that the
// gossip validator has verified (consensus.Verify: form, membership,
// proposer, signature) against a validator set, so that the engine does not
// check the same ed25519 signature a second time when the message reaches
// it. An entry is the message's exact encoding (signature included) and
// counts only for the very set it was verified against (sets are
// immutable; the engine compares pointers). Anything not found is
// verified by the engine as before, so a full or reset cache costs time,
// never safety.
type verifiedMessages struct {
	mu   sync.Mutex
	vals *consensus.ValidatorSet
	msgs map[string]struct{}
}

// maxVerified bounds the cache: a height of 100 validators sends about
// 2*100+1 messages per round.
const maxVerified = 4096

// add records m as verified against vals; a new set forgets the old one's.
func (v *verifiedMessages) add(m consensus.Message, vals *consensus.ValidatorSet) {
	key := string(consensus.EncodeMessage(m))
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.vals != vals {
		v.vals, v.msgs = vals, map[string]struct{}{}
	}
	if len(v.msgs) < maxVerified {
		v.msgs[key] = struct{}{}
	}
}

// take reports whether m was verified against vals, and forgets it.
func (v *verifiedMessages) take(m consensus.Message, vals *consensus.ValidatorSet) bool {
	key := string(consensus.EncodeMessage(m))
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.vals != vals || vals == nil {
		return false
	}
	if _, ok := v.msgs[key]; !ok {
		return false
	}
	delete(v.msgs, key)
	return true
}
