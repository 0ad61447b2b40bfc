package compute

import (
	"math/rand"
	"testing"

	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/ledger"
)

// BenchmarkEndBlockCloud1000Providers times the worst ordinary block of
// the cloud: 1,000 container providers (capacity 10), 1,000 running
// leases whose windows all end at this height (each decided with 1
// attestation), and 5,000 open GPU jobs nobody fits (each examined
// against providers until max_scan_per_block is spent). The block is
// executed, never committed, so every iteration sees the same state.
//
//	go test ./ledger/compute -run XXX -bench EndBlockCloud -benchtime 20x
func BenchmarkEndBlockCloud1000Providers(b *testing.B) {
	const providers, users, leases, gpuJobs = 1000, 100, 1000, 5000
	n := newNet(b, `{"min_bond":1000,"epoch_blocks":1000,"commit_deadline_blocks":4,"attest_deadline_blocks":8,
"unbonding_blocks":1000,"container_deadline_blocks":500,"lease_probe_blocks":10,"downtime_jail_threshold":1000}`, 1, providers+users)
	n.check = false
	r := rand.New(rand.NewSource(1))
	var txs [][]byte
	for _, a := range n.accts[:providers] {
		box := cpuBox(64000, 256<<30)
		box.LeasePrice = uint64(1 + r.Intn(50))
		txs = append(txs, n.tx(a, register(uint64(1+r.Intn(1000)), 0, 10, 2000), setRes(box)))
	}
	mustOK(b, n.block(txs...))
	us := n.accts[providers:]
	svc := serviceSpec(b, 100, 10_000)
	gpu := batchSpec(b, func(s *jobspec.Spec) { s.Resources.GPU = &jobspec.GPU{Count: 1} })
	submitAll := func(spec []byte, count int) {
		txs = nil
		for i := 0; i < count; i += ledger.MaxTxMsgs {
			var msgs []ledger.Msg
			for k := 0; k < ledger.MaxTxMsgs && i+k < count; k++ {
				msgs = append(msgs, submitC(spec))
			}
			txs = append(txs, n.tx(us[(i/ledger.MaxTxMsgs)%len(us)], msgs...))
		}
		mustOK(b, n.block(txs...))
	}
	for i := 0; i < leases/100; i++ { // 100 assignments per block
		submitAll(svc, 100)
	}
	// Every provider starts its leases in one block.
	txs = nil
	byProv := map[int][]ledger.Msg{}
	for id := uint64(1); id <= leases; id++ {
		j := n.job(id)
		if j.Status != JobAssigned {
			b.Fatalf("lease %d: %s", id, j.Status)
		}
		for i, a := range n.accts[:providers] {
			if a.addr == j.Provider {
				byProv[i] = append(byProv[i], leaseMsg(MsgTypeLeaseStart, id))
			}
		}
	}
	for i := 0; i < providers; i++ {
		if msgs := byProv[i]; len(msgs) > 0 {
			txs = append(txs, n.tx(n.accts[i], msgs...))
		}
	}
	mustOK(b, n.block(txs...))
	start := n.height
	submitAll(gpu, gpuJobs)
	var atts []ledger.Msg
	for id := uint64(1); id <= leases; id++ {
		atts = append(atts, ledger.NewMsg(MsgTypeLeaseAttest, MsgLeaseAttest{Lease: id, Window: 0, OK: true}))
	}
	txs = nil
	for i := 0; i < len(atts); i += ledger.MaxTxMsgs {
		txs = append(txs, n.tx(n.vals[0], atts[i:min(i+ledger.MaxTxMsgs, len(atts))]...))
	}
	mustOK(b, n.block(txs...))
	end := start + 9
	n.blocksTo(end - 1)
	for b.Loop() {
		n.execute(b, end)
	}
}
