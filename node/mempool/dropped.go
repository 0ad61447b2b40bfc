package mempool

import (
	"fmt"

	"github.com/inferd/inferd/ledger"
)

// maxDropped bounds the dropped-tx log: the most recent drops are kept
// (about 10 MB at the bound), older ones are forgotten.
const maxDropped = 1 << 16

// droppedLog remembers why admitted txs left the pool without being
// committed, so that a submitter asking after one hears "dropped: reason"
// instead of silence. Guarded by Mempool.mu.
type droppedLog struct {
	why  map[ledger.TxHash]string
	ring []ledger.TxHash
	next int
}

func (d *droppedLog) add(h ledger.TxHash, reason string) {
	if d.why == nil {
		d.why = map[ledger.TxHash]string{}
	}
	if _, ok := d.why[h]; !ok {
		if len(d.ring) < maxDropped {
			d.ring = append(d.ring, h)
		} else {
			delete(d.why, d.ring[d.next])
			d.ring[d.next] = h
			d.next = (d.next + 1) % len(d.ring)
		}
	}
	d.why[h] = reason
}

// forget clears h's record (it was admitted again); the ring slot stays
// until it is reused.
func (d *droppedLog) forget(h ledger.TxHash) { delete(d.why, h) }

// Reasons a tx is dropped, as Dropped reports them.
const (
	ReasonEvicted = "evicted: the mempool was full and transactions of higher priority (fee) took its place"
	ReasonNonce   = "its nonce was used by another transaction of the same account"
)

func reasonReplaced(by ledger.TxHash) string {
	return fmt.Sprintf("replaced by transaction %X, same sender and nonce, higher fee", by[:])
}

func reasonRecheck(err error) string {
	return "no longer valid after a block: " + err.Error()
}

// drop removes e and records why.
func (m *Mempool) drop(e *entry, reason string) {
	m.remove(e)
	m.dropped.add(e.hash, reason)
}

// Dropped says whether a tx this pool admitted was later dropped without
// being committed, and why. Only the most recent drops are remembered.
func (m *Mempool) Dropped(h ledger.TxHash) (reason string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	reason, ok = m.dropped.why[h]
	return reason, ok
}
