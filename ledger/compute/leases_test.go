package compute

import (
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

func submitService(t testing.TB, perBlock, blocks uint64, allowed ...keys.Address) ledger.Msg {
	return ledger.NewMsg(MsgTypeJobSubmitContainer, MsgJobSubmitContainer{Spec: serviceSpec(t, perBlock, blocks), Allowed: allowed})
}

func leaseMsg(typ string, id uint64) ledger.Msg {
	switch typ {
	case MsgTypeLeaseStart:
		return ledger.NewMsg(typ, MsgLeaseStart{Lease: id})
	default:
		return ledger.NewMsg(typ, MsgLeaseClose{Lease: id})
	}
}

// attestAll has every validator attest window w of lease id.
func (n *testNet) attestAll(id, w uint64, ok bool) {
	n.t.Helper()
	var txs [][]byte
	for _, v := range n.vals {
		txs = append(txs, n.tx(v, ledger.NewMsg(MsgTypeLeaseAttest, MsgLeaseAttest{Lease: id, Window: w, OK: ok})))
	}
	mustOK(n.t, n.block(txs...))
}

func (n *testNet) lease(id uint64) (li LeaseInfo) {
	n.t.Helper()
	n.query(func(ctx *ledger.Context) {
		var err error
		if li, err = n.cm.LeaseByID(ctx, id); err != nil {
			n.t.Fatal(err)
		}
	})
	return li
}

// startedLease registers a provider (lease price 7), submits a service of
// 20 blocks at 10 per block (escrow 200) and starts it; windows are 3
// blocks. It returns the provider, the user and the lease's start height.
func startedLease(t *testing.T, n *testNet) (prov, user *acct, start uint64) {
	t.Helper()
	prov, user = n.accts[0], n.accts[1]
	mustOK(t, n.block(n.tx(prov, register(10, 0, 2, 2*ledger.UinfPerINF), setRes(cpuBox(4000, 1<<30)))))
	mustOK(t, n.block(n.tx(user, submitService(t, 10, 20, n.accts[2].addr))))
	if j := n.job(1); j.Status != JobAssigned || j.Provider != prov.addr || j.MaxPrice != 200 {
		t.Fatalf("lease not assigned: %+v", j)
	}
	mustFail(t, n.block(n.tx(user, leaseMsg(MsgTypeLeaseStart, 1))), ErrNotAssignee)
	mustOK(t, n.block(n.tx(prov, leaseMsg(MsgTypeLeaseStart, 1))))
	j := n.job(1)
	if j.Status != JobRunning || j.Lease.Started != n.height || j.Lease.End != n.height+19 {
		t.Fatalf("lease not started: %+v %+v", j, j.Lease)
	}
	return prov, user, n.height
}

// TestLeaseCloseRefundsExactly: a healthy window is charged at the
// provider's price and credited as served; the close charges the blocks
// of the current window before it and refunds the rest to the uinf.
func TestLeaseCloseRefundsExactly(t *testing.T) {
	n := newNet(t, patient(cloudParams), 3, 3)
	prov, user, s := startedLease(t, n)
	// Who may connect: the owner and the allowed key, only while running.
	n.query(func(ctx *ledger.Context) {
		for a, want := range map[keys.Address]bool{user.addr: true, n.accts[2].addr: true, prov.addr: false} {
			if ok, err := n.cm.LeaseAllows(ctx, 1, a); err != nil || ok != want {
				t.Fatalf("allows %s: %v %v", a, ok, err)
			}
		}
	})
	n.attestAll(1, 0, true) // window 0 = s..s+2
	mustFail(t, n.block(n.tx(n.vals[0], ledger.NewMsg(MsgTypeLeaseAttest, MsgLeaseAttest{Lease: 1, Window: 1, OK: true}))), ErrWrongWindow)
	l := n.lease(1)
	if l.Window != 0 || l.WindowStart != s || l.WindowEnd != s+2 {
		t.Fatalf("window: %+v", l)
	}
	l = n.lease(1)
	if l.Lease.ChargedBlocks != 3 || l.Lease.HealthyBlocks != 3 || l.Charged != 21 || l.Lease.LastHealth != HealthOK {
		t.Fatalf("after window 0: %+v %+v", l.Job, l.Lease)
	}
	// Window 1 (s+3..s+5): two blocks of refused messages, then the close.
	mustFail(t, n.block(n.tx(prov, ledger.NewMsg(MsgTypeLeaseAllow, MsgLeaseAllow{Lease: 1}))), ErrNotOwner)
	mustFail(t, n.block(n.tx(n.accts[2], ledger.NewMsg(MsgTypeLeaseAttest, MsgLeaseAttest{Lease: 1, Window: 1, OK: true}))), ErrNotValidator)
	bal := n.balance(user.addr)
	mustOK(t, n.block(n.tx(user, leaseMsg(MsgTypeLeaseClose, 1)))) // at s+5: two blocks of window 1, unattested
	j := n.job(1)
	if j.Status != JobDone || j.Lease.EndReason != LeaseEndClosed || j.Lease.ChargedBlocks != 5 || j.Charged != 35 || j.Refunded != 165 {
		t.Fatalf("closed: %+v %+v", j, j.Lease)
	}
	if got := n.balance(user.addr); got != bal-testFee+165 {
		t.Fatalf("refund: balance %d, want %d", got, bal-testFee+165)
	}
	var served uint64
	n.query(func(ctx *ledger.Context) { served = n.cm.ServedThisEpoch(ctx, prov.addr) })
	if served += n.provider(prov.addr).ServedFees; served != 21 {
		t.Fatalf("served %d: only the healthy window's 21 counts", served)
	}
	if p := n.provider(prov.addr); p.ActiveJobs != 0 || p.Used.MilliCPU != 0 {
		t.Fatalf("provider still holds the lease: %+v", p)
	}
	mustFail(t, n.block(n.tx(user, leaseMsg(MsgTypeLeaseClose, 1))), ErrLeaseState)
	n.query(func(ctx *ledger.Context) {
		if ok, _ := n.cm.LeaseAllows(ctx, 1, user.addr); ok {
			t.Fatal("an ended lease still allows its owner")
		}
	})
}

// TestLeaseUnhealthyWindowsUnpaid: blocks of windows attested unhealthy
// are neither charged nor credited; lease_down_windows of them in a row
// end the lease with the rest refunded and the provider counted down.
func TestLeaseUnhealthyWindowsUnpaid(t *testing.T) {
	n := newNet(t, patient(cloudParams), 3, 3)
	prov, user, s := startedLease(t, n)
	bal := n.balance(user.addr)
	down := n.provider(prov.addr).Downtime
	n.attestAll(1, 0, false)
	n.blocksTo(s + 3)
	n.attestAll(1, 1, true)
	n.blocksTo(s + 6)
	// Window 2: one validator says ok, two say no (stake is equal): unhealthy.
	mustOK(t, n.block(n.tx(n.vals[0], ledger.NewMsg(MsgTypeLeaseAttest, MsgLeaseAttest{Lease: 1, Window: 2, OK: true})),
		n.tx(n.vals[1], ledger.NewMsg(MsgTypeLeaseAttest, MsgLeaseAttest{Lease: 1, Window: 2, OK: false})),
		n.tx(n.vals[2], ledger.NewMsg(MsgTypeLeaseAttest, MsgLeaseAttest{Lease: 1, Window: 2, OK: false}))))
	n.blocksTo(s + 9)
	if j := n.job(1); j.Status != JobRunning || j.Lease.FreeBlocks != 6 || j.Lease.DownWindows != 1 {
		t.Fatalf("after windows 0-2: %+v", j.Lease)
	}
	n.attestAll(1, 3, false)
	n.blocksTo(s + 10)
	res := n.block() // s+11: window 3 ends, the second unhealthy window in a row
	j := n.job(1)
	if j.Status != JobDone || j.Lease.EndReason != LeaseEndUnhealthy || j.Lease.ChargedBlocks != 3 || j.Lease.FreeBlocks != 9 ||
		j.Charged != 21 || j.Refunded != 179 {
		t.Fatalf("ended: %+v %+v", j, j.Lease)
	}
	if got := n.balance(user.addr); got != bal+179 {
		t.Fatalf("user balance %d, want %d", got, bal+179)
	}
	if p := n.provider(prov.addr); p.Downtime <= down || p.ActiveJobs != 0 || !hasEvent(res, "compute_downtime", "reason", "lease 1 unhealthy") {
		t.Fatalf("provider not counted down for the lease: %+v", p)
	}
}

func hasEvent(res *ledger.BlockResult, typ, key, val string) bool {
	for _, e := range res.Events {
		if e.Type == typ && e.Attrs[key] == val {
			return true
		}
	}
	return false
}

// TestLeaseRunsItsDuration: with no attestations every block is charged
// (unattested) but nothing is credited; the lease ends at its last block.
func TestLeaseRunsItsDuration(t *testing.T) {
	n := newNet(t, patient(cloudParams), 1, 3)
	prov, _, s := startedLease(t, n)
	n.blocksTo(s + 18)
	if j := n.job(1); j.Status != JobRunning {
		t.Fatalf("ended early: %s", j.Status)
	}
	n.block()
	j := n.job(1)
	if j.Status != JobDone || j.Lease.EndReason != LeaseEndDuration || j.Lease.ChargedBlocks != 20 || j.Charged != 140 || j.Refunded != 60 {
		t.Fatalf("ended: %+v %+v", j, j.Lease)
	}
	if p := n.provider(prov.addr); p.ServedFees != 0 {
		t.Fatalf("unattested blocks credited: %d", p.ServedFees)
	}
	var live []LeaseInfo
	n.query(func(ctx *ledger.Context) { live = n.cm.LiveLeases(ctx) })
	if len(live) != 0 {
		t.Fatalf("live leases: %d", len(live))
	}
}

// TestLeaseProviderGone: unregistering ends the provider's leases with the
// rest refunded and counts it down; so does being jailed (in the next
// end-block); a lease not yet started is refunded in full.
func TestLeaseProviderGone(t *testing.T) {
	t.Run("unregister", func(t *testing.T) {
		n := newNet(t, patient(cloudParams), 1, 3)
		prov, user, s := startedLease(t, n)
		n.blocksTo(s + 3) // window 0 (unattested) charged: 21
		bal := n.balance(user.addr)
		down := n.provider(prov.addr).Downtime
		mustOK(t, n.block(n.tx(prov, ledger.NewMsg(MsgTypeUnregister, MsgUnregister{}))))
		j := n.job(1)
		if j.Status != JobDone || j.Lease.EndReason != LeaseEndProviderGone || j.Charged != 21 || j.Refunded != 179 {
			t.Fatalf("lease: %+v %+v", j, j.Lease)
		}
		if got := n.balance(user.addr); got != bal+179 {
			t.Fatalf("user balance %d, want %d", got, bal+179)
		}
		if p := n.provider(prov.addr); p.Downtime != down+1 || !p.Unbonding() {
			t.Fatalf("provider: %+v", p)
		}
	})
	t.Run("jailed", func(t *testing.T) {
		n := newNet(t, patient(cloudParams), 1, 3)
		prov, user, _ := startedLease(t, n)
		mustOK(t, n.block(n.tx(user, submitService(t, 10, 20)))) // job 2: the second slot, not started
		if j := n.job(2); j.Status != JobAssigned {
			t.Fatalf("job 2: %s", j.Status)
		}
		bal := n.balance(user.addr)
		n.mint.hook = func(ctx *ledger.Context) {
			pr, _ := n.cm.provider(ctx, prov.addr)
			n.cm.jail(ctx, n.cm.Params(ctx), &pr, "test")
			n.cm.putProvider(ctx, pr)
		}
		n.block()
		j1, j2 := n.job(1), n.job(2)
		if j1.Status != JobDone || j1.Lease.EndReason != LeaseEndProviderGone || j2.Status != JobDone || j2.Refunded != 200 {
			t.Fatalf("leases: %+v %+v", j1.Lease, j2.Lease)
		}
		if got := n.balance(user.addr); got != bal+j1.Refunded+200 {
			t.Fatalf("user balance %d, want %d", got, bal+j1.Refunded+200)
		}
	})
	t.Run("not started", func(t *testing.T) {
		n := newNet(t, patient(cloudParams), 1, 3)
		prov, user := n.accts[0], n.accts[1]
		mustOK(t, n.block(n.tx(prov, register(10, 0, 2, 2*ledger.UinfPerINF), setRes(cpuBox(4000, 1<<30)))))
		bal := n.balance(user.addr)
		mustOK(t, n.block(n.tx(user, submitService(t, 10, 20))))
		j := n.job(1)
		n.blocksTo(j.Deadline)
		if j := n.job(1); j.Status != JobMissed || j.Refunded != 200 {
			t.Fatalf("never started: %+v", j)
		}
		if got := n.balance(user.addr); got != bal-testFee {
			t.Fatalf("balance %d, want %d", got, bal-testFee)
		}
		if p := n.provider(prov.addr); p.ActiveJobs != 0 || p.Used.MilliCPU != 0 {
			t.Fatalf("provider %+v", p)
		}
	})
}
