package chain

import (
	"encoding/json"
	"math/rand"
	"slices"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/ledger/gov"
)

// FuzzApplyMsg: any value under any message type the chain knows, signed
// by a funded account, is executed by two ledgers from the same genesis.
// Neither may panic or stop: the block applies, the supply invariant
// holds, both ledgers reach the same app hash (execution is
// deterministic), a failed message leaves only its fee and nonce, and the
// next block (an ordinary send) still applies. (A block whose end-block
// refunds or pays accounts, such as an earlier job's expiry or a lease's
// end, is exempt from the balance check: the sender is every job's user.)
func FuzzApplyMsg(f *testing.F) {
	a, b := newTestNet(f, 11, 3, 2, Options{}), newTestNet(f, 11, 3, 2, Options{})
	var types []string
	for _, m := range a.c.modules {
		types = append(types, m.MsgTypes()...)
	}
	slices.Sort(types)
	index := func(typ string) uint8 { return uint8(slices.Index(types, typ)) }
	to := a.accts[1].addr
	f.Add(index(bank.MsgTypeSend), codec.MustMarshal(bank.MsgSend{To: to, Amount: 7}))
	f.Add(index(bank.MsgTypeMultiSend), codec.MustMarshal(bank.MsgMultiSend{Outputs: []bank.Output{{To: to, Amount: 1}, {To: to, Amount: 2}}}))
	f.Add(index(gov.MsgTypeSubmitProposal), codec.MustMarshal(gov.MsgSubmitProposal{Title: "t", InitialDeposit: 10,
		Content: gov.NewParamChange(gov.ParamChange{Module: bank.Name, Key: "min_fee", Value: json.RawMessage(`150`)})}))
	f.Add(index(gov.MsgTypeVote), codec.MustMarshal(gov.MsgVote{ProposalID: 1, Option: gov.OptionYes}))
	// Cloud messages (compute_prop_test.go builds the specs).
	r := rand.New(rand.NewSource(1))
	f.Add(index(compute.MsgTypeSetResources), codec.MustMarshal(compute.MsgSetResources{Resources: compute.Resources{Containers: true,
		MilliCPU: 4000, MemoryBytes: 1 << 30, GPUs: []compute.GPUGroup{{Model: "H100", VRAMBytes: 80 << 30, Count: 1}}, LeasePrice: 5,
		PeerID: propPeerID, Addrs: []string{"/ip4/127.0.0.1/tcp/26656"}}}))
	f.Add(index(compute.MsgTypeJobSubmitContainer), codec.MustMarshal(compute.MsgJobSubmitContainer{Spec: randomSpec(r)}))
	f.Add(index(compute.MsgTypeJobSubmitContainer), codec.MustMarshal(compute.MsgJobSubmitContainer{Spec: randomSpec(r), Allowed: []keys.Address{to}}))
	f.Add(index(compute.MsgTypeJobContainerResult), codec.MustMarshal(compute.MsgJobContainerResult{Job: 1, Outputs: propCID("o"), Failure: compute.FailNone}))
	f.Add(index(compute.MsgTypeLeaseAttest), codec.MustMarshal(compute.MsgLeaseAttest{Lease: 1, Window: 0, OK: true}))
	f.Add(index(compute.MsgTypeJobResultCommit), codec.MustMarshal(compute.MsgJobResultCommit{Job: 1, Commitment: make([]byte, 32)}))
	f.Add(index(compute.MsgTypeJobResultReveal), codec.MustMarshal(compute.MsgJobResultReveal{Job: 1, Result: propCID("o"), Salt: make([]byte, 16)}))
	f.Add(index(compute.MsgTypeLeaseClose), codec.MustMarshal(compute.MsgLeaseClose{Lease: 1}))
	for i := range types {
		f.Add(uint8(i), []byte{0x80})
	}
	f.Fuzz(func(t *testing.T, k uint8, value []byte) {
		typ := types[int(k)%len(types)]
		msg := ledger.Msg{Type: typ, Value: value}
		if _, err := codec.Marshal(msg); err != nil {
			return // not one CBOR item: no transaction can carry it (DecodeTx refuses it)
		}
		var hashes [2][32]byte
		for i, n := range []*testNet{a, b} {
			n.t = t
			sender := n.accts[0]
			before := n.balance(sender.addr)
			res := n.block(n.tx(sender, msg))
			if len(res.Txs) != 1 {
				t.Fatalf("%d results for one transaction", len(res.Txs))
			}
			if !res.Txs[0].OK && !creditsAccounts(res) {
				// Failed before the fee (no trace) or after it (fee and nonce only).
				if after := n.balance(sender.addr); after != before && after != before-testFee {
					t.Fatalf("%s failed (%s) and moved the balance %d -> %d", typ, res.Txs[0].Error, before, after)
				}
			}
			n.c.Query(n.height, func(ctx *ledger.Context) error {
				sender.nonce = ledger.AccountNonce(ctx, sender.addr)
				return nil
			})
			hashes[i] = res.AppHash
			n.block(n.tx(n.accts[2], ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: sender.addr, Amount: 1})))
		}
		if hashes[0] != hashes[1] {
			t.Fatalf("two ledgers disagree after %s: %x vs %x", typ, hashes[0][:6], hashes[1][:6])
		}
	})
}

// creditsAccounts reports whether the block's begin- or end-block moved
// tokens to accounts (refunds of ended jobs and leases, returned bonds,
// rewards).
func creditsAccounts(res *ledger.BlockResult) bool {
	for _, e := range res.Events {
		switch e.Type {
		case "job_expired", "job_missed", "lease_end", "compute_unbonded", "compute_epoch_paid", "compute_served_paid":
			return true
		}
	}
	return false
}
