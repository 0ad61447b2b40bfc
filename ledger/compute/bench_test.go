package compute

import (
	"math/rand"
	"testing"

	"github.com/inferd/inferd/ledger"
)

// benchNet: 1000 providers (random prices 1..1000, capacity 100 jobs each)
// and about 10,000 open jobs (random max prices 1..1000), 10-block epochs;
// the providers registered at height 1 are challenged from height 2 (the
// first epoch: 2..11). It returns the net at height 11, the last block of
// that epoch.
func benchNet(b *testing.B) *testNet {
	const providers, users, jobs = 1000, 200, 11_000
	n := newNet(b, `{"min_bond":1000,"epoch_blocks":10,"commit_deadline_blocks":4,"attest_deadline_blocks":8,"job_deadline_blocks":200,"max_provider_capacity":1000}`, 1, providers+users)
	n.check = false
	r := rand.New(rand.NewSource(1))
	var txs [][]byte
	for _, a := range n.accts[:providers] {
		txs = append(txs, n.tx(a, register(uint64(1+r.Intn(1000)), 0, 100, 2000)))
	}
	mustOK(b, n.block(txs...))
	txs = nil
	us := n.accts[providers:]
	for i := 0; i < jobs; i += ledger.MaxTxMsgs {
		var msgs []ledger.Msg
		for k := 0; k < ledger.MaxTxMsgs && i+k < jobs; k++ {
			msgs = append(msgs, submit(wasmCID, inputCID, 1, uint64(1+r.Intn(1000))))
		}
		txs = append(txs, n.tx(us[(i/ledger.MaxTxMsgs)%len(us)], msgs...))
	}
	mustOK(b, n.block(txs...))
	n.blocksTo(11)
	return n
}

func (n *testNet) execute(b *testing.B, h uint64) {
	if _, err := n.st.Execute(&ledger.Block{Height: h, Time: n.now + 1, LastBlockHash: make([]byte, 32)}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEndBlock1000Providers10000Jobs times one ordinary block, in the
// middle of an epoch (begin- and end-block of bank, staking and compute,
// no transactions) with 1,000 live providers and about 10,000 open jobs:
// it assigns max_assign_per_block (100) jobs. The block is executed, never
// committed, so every iteration sees the same state.
func BenchmarkEndBlock1000Providers10000Jobs(b *testing.B) {
	n := benchNet(b)
	n.blocksTo(13)
	var open int
	n.query(func(ctx *ledger.Context) { open = len(idsOpen(ctx)) })
	b.ReportMetric(float64(open), "open_jobs")
	for b.Loop() {
		n.execute(b, 14)
	}
}

// BenchmarkEpochStart1000Providers10000Jobs times the block that opens an
// epoch: 1,000 rounds written, on top of the same job load.
func BenchmarkEpochStart1000Providers10000Jobs(b *testing.B) {
	n := benchNet(b)
	for b.Loop() {
		n.execute(b, 12)
	}
}

// BenchmarkEpochClose1000Providers10000Jobs times the block that closes an
// epoch of 1,000 challenged providers (none committed: 1,000 downtime
// updates and the pool payout) on top of the same job load.
func BenchmarkEpochClose1000Providers10000Jobs(b *testing.B) {
	n := benchNet(b)
	n.blocksTo(12)
	end := n.epoch().End
	n.blocksTo(end - 1)
	for b.Loop() {
		n.execute(b, end)
	}
}

func idsOpen(ctx *ledger.Context) []uint64 {
	var ids []uint64
	ctx.Iterate([]byte(openPrefix), func(k, _ []byte) bool {
		ids = append(ids, 0)
		return true
	})
	return ids
}
