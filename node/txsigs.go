package node

import (
	"sync"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// verifiedTxs remembers hashes of transactions whose signatures this
// process has checked (in a gossiped batch, or in a block before the
// engine executes it), so that the ledger does not check them again. A
// hash covers the whole transaction, signature included, so an entry
// vouches for exactly those bytes. It is bounded (oldest forgotten first);
// a forgotten tx is simply verified again by the ledger: the cache costs
// time, never safety.
type verifiedTxs struct {
	mu   sync.Mutex
	set  map[ledger.TxHash]struct{}
	ring []ledger.TxHash
	next int
}

// maxVerifiedTxs: a few blocks' worth at the target rate.
const maxVerifiedTxs = 1 << 16

func newVerifiedTxs(n int) *verifiedTxs {
	return &verifiedTxs{set: make(map[ledger.TxHash]struct{}, n), ring: make([]ledger.TxHash, 0, n)}
}

func (v *verifiedTxs) add(h ledger.TxHash) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.set[h]; ok {
		return
	}
	if len(v.ring) < cap(v.ring) {
		v.ring = append(v.ring, h)
	} else {
		delete(v.set, v.ring[v.next])
		v.ring[v.next] = h
		v.next = (v.next + 1) % len(v.ring)
	}
	v.set[h] = struct{}{}
}

func (v *verifiedTxs) has(h ledger.TxHash) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.set[h]
	return ok
}

// sigResult is one transaction of a batch after checkTxSigs.
type sigResult struct {
	raw  []byte
	hash ledger.TxHash
	tx   *ledger.Tx // nil when it did not decode
	err  error      // why it is bad; nil for a good tx
}

// checkTxSigs decodes raws and checks the signatures of those that are
// neither known (known(h) true: already verified here) nor malformed, on
// all cores (keys.VerifyAll), recording every good one in v. Each result
// says why its tx is bad, so that one bad tx does not cost the others.
func checkTxSigs(chainID string, raws [][]byte, known func(ledger.TxHash) bool, v *verifiedTxs) []sigResult {
	res := make([]sigResult, len(raws))
	var checks []keys.SigCheck
	var idx []int
	for i, raw := range raws {
		r := &res[i]
		r.raw, r.hash = raw, ledger.HashTx(raw)
		tx, err := ledger.DecodeTx(raw)
		if err != nil {
			r.err = err
			continue
		}
		r.tx = tx
		if known(r.hash) || v.has(r.hash) {
			continue
		}
		c, err := ledger.TxSigCheck(chainID, tx)
		if err != nil {
			r.err = err
			continue
		}
		checks = append(checks, c)
		idx = append(idx, i)
	}
	for j, ok := range keys.VerifyAll(checks) {
		r := &res[idx[j]]
		if !ok {
			r.err = ledger.BadSignatureError(chainID, r.tx)
			continue
		}
		v.add(r.hash)
	}
	return res
}
