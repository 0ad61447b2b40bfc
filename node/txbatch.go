package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
	"github.com/inferd/inferd/p2p"
)

// KindTxBatch is the gossip topic of transaction batches: what the API
// admits is gossiped many transactions to one pubsub message, not one
// message each (each message costs a signature-free but still heavy trip
// through pubsub: framing, message ID, seen cache, validator, relay to
// every mesh peer). KindTx stays for single transactions (agents, older
// peers).
const KindTxBatch = "txs"

// Batch bounds: a batch is flushed after txBatchInterval or when it holds
// txBatchMaxTxs transactions or txBatchMaxBytes bytes, whichever first.
// The interval is small next to a block (tens of ms at commit_delay 0), so
// batching adds little latency.
const (
	txBatchInterval = 5 * time.Millisecond
	txBatchMaxTxs   = 2048
	txBatchMaxBytes = 1 << 20
	// txBatchTopicSize is the topic's message limit: a full batch, its
	// CBOR framing and the 8-byte sequence prefix.
	txBatchTopicSize = txBatchMaxBytes + ledger.MaxTxBytes + 4<<10
)

// Errors of a batch as a whole (a peer that sends one is penalised).
var ErrBadTxBatch = errors.New("malformed transaction batch")

// encodeTxBatch is the canonical CBOR array of the raw transactions.
func encodeTxBatch(raws [][]byte) []byte { return codec.MustMarshal(raws) }

// decodeTxBatch decodes a batch: canonical CBOR, 1..txBatchMaxTxs
// transactions, each 1..ledger.MaxTxBytes bytes. Whether each transaction
// decodes and is signed is checkTxSigs' job, per transaction.
func decodeTxBatch(body []byte) ([][]byte, error) {
	var raws [][]byte
	if err := codec.Unmarshal(body, &raws); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTxBatch, err)
	}
	if len(raws) == 0 || len(raws) > txBatchMaxTxs {
		return nil, fmt.Errorf("%w: %d transactions (want 1..%d)", ErrBadTxBatch, len(raws), txBatchMaxTxs)
	}
	for i, raw := range raws {
		if len(raw) == 0 || len(raw) > ledger.MaxTxBytes {
			return nil, fmt.Errorf("%w: transaction %d is %d bytes (want 1..%d)", ErrBadTxBatch, i, len(raw), ledger.MaxTxBytes)
		}
	}
	return raws, nil
}

// txBatcher collects admitted transactions and publishes them in batches.
// add never blocks the API: when the queue is full it says so and the
// caller gossips the transaction alone.
type txBatcher struct {
	in      chan []byte
	publish func(batch []byte) error
	log     *slog.Logger
}

func newTxBatcher(publish func([]byte) error, log *slog.Logger) *txBatcher {
	return &txBatcher{in: make(chan []byte, 4*txBatchMaxTxs), publish: publish, log: log}
}

// add queues raw for the next batch; false when the queue is full.
func (b *txBatcher) add(raw []byte) bool {
	select {
	case b.in <- raw:
		return true
	default:
		return false
	}
}

// run publishes batches until ctx ends; what is queued then is flushed.
func (b *txBatcher) run(ctx context.Context) {
	var batch [][]byte
	size := 0
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := b.publish(encodeTxBatch(batch)); err != nil {
			b.log.Debug("gossip tx batch", "txs", len(batch), "err", err)
		}
		batch, size = nil, 0
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case raw := <-b.in:
					batch = append(batch, raw)
					if len(batch) == txBatchMaxTxs {
						flush()
					}
				default:
					flush()
					return
				}
			}
		case raw := <-b.in:
			if len(batch) == 0 {
				timer.Reset(txBatchInterval)
			}
			batch = append(batch, raw)
			size += len(raw)
			if len(batch) >= txBatchMaxTxs || size >= txBatchMaxBytes {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// admitTxBatch is the batch topic's validator after decoding: every
// transaction whose signature verifies is admitted to the mempool (a stale
// nonce or a full pool refuses it there, as for a single tx). A batch with
// any transaction that does not decode or verify is rejected (not relayed,
// the peer scored down: an honest node batches only what it verified), but
// its good transactions are kept and gossiped again in our own batches.
func (r *Running) admitTxBatch(raws [][]byte) p2p.ValidationResult {
	res := checkTxSigs(r.Genesis.ChainID, raws, r.Mempool.Has, r.txSigs)
	var bad int
	var firstErr error
	for _, x := range res {
		if x.err != nil {
			if bad++; firstErr == nil {
				firstErr = x.err
			}
		}
	}
	// One view of the latest state for the whole batch, not one per tx.
	var fresh []sigResult
	for _, x := range res {
		if x.err == nil && !r.Mempool.Has(x.hash) {
			fresh = append(fresh, x)
		}
	}
	adm := make([]admission, len(fresh))
	err := r.Chain.Query(r.latestHeight(), func(ctx *ledger.Context) error {
		for i, x := range fresh {
			adm[i] = r.readAdmission(ctx, x.tx)
		}
		return nil
	})
	if err != nil {
		r.Log.Debug("gossip: tx batch: read the latest state", "err", err)
		return p2p.Ignore // our problem, not the peer's
	}
	for i, x := range fresh {
		if err := r.admitWith(x.raw, x.tx, adm[i]); err == nil && bad > 0 && r.batcher != nil {
			r.batcher.add(x.raw)
		}
	}
	if bad > 0 {
		r.Log.Debug("gossip: rejected a tx batch", "txs", len(raws), "bad", bad, "first", firstErr)
		return p2p.Reject
	}
	return p2p.Accept
}

// preverifyTxs checks the signatures of a block's transactions that this
// node has not verified yet, on all cores, before the engine executes the
// block on one: the ledger then skips them (Verified). A bad signature is
// left for the ledger to find and refuse, as before.
func (r *Running) preverifyTxs(b *blocks.Block) {
	if len(b.Txs) == 0 {
		return
	}
	checkTxSigs(r.Genesis.ChainID, b.Txs, r.Mempool.Has, r.txSigs)
}
