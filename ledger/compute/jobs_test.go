package compute

import (
	"bytes"
	"testing"

	"github.com/inferd/inferd/ledger"
)

var (
	wasmCID  = testCID("workload.wasm")
	inputCID = testCID("input")
)

// TestJobAssignedToCheapestWithCapacity: cheapest first; a full provider
// is skipped; equal prices go to more uptime, then the lower address.
func TestJobAssignedToCheapestWithCapacity(t *testing.T) {
	n := newNet(t, testParams, 1, 5)
	user := n.accts[4]
	cheap, mid1, mid2, dear := n.accts[0], n.accts[1], n.accts[2], n.accts[3]
	mustOK(t, n.block(
		n.tx(cheap, register(20, 0, 1, 2*ledger.UinfPerINF)),
		n.tx(mid1, register(30, 0, 1, 2*ledger.UinfPerINF)),
		n.tx(mid2, register(30, 0, 1, 2*ledger.UinfPerINF)),
		n.tx(dear, register(90, 0, 5, 2*ledger.UinfPerINF)),
	))
	// mid2 earns uptime by passing an epoch; mid1 stays at zero.
	n.epochRun(randFor(1), []*sim{{a: mid2}})
	if n.provider(mid2.addr).Uptime != 1 {
		t.Fatal("mid2 should have uptime")
	}
	var txs [][]byte
	for i := 0; i < 4; i++ {
		txs = append(txs, n.tx(user, submit(wasmCID, inputCID, 100, 100)))
	}
	mustOK(t, n.block(txs...))
	want := []*acct{cheap, mid2, mid1, dear} // mid2 before mid1: more uptime
	for i, w := range want {
		if j := n.job(uint64(i + 1)); j.Status != JobAssigned || j.Provider != w.addr {
			t.Fatalf("job %d: %s to %s, want %s", j.ID, j.Status, j.Provider, w.addr)
		}
	}
	if p := n.provider(cheap.addr); p.ActiveJobs != 1 {
		t.Fatalf("active jobs %d", p.ActiveJobs)
	}
	// A job with max price below the dear provider's ask waits once the
	// cheap ones are full.
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 100, 50))))
	if j := n.job(5); j.Status != JobOpen {
		t.Fatalf("job 5: %s", j.Status)
	}
	// The cheap provider finishes: its slot frees and job 5 goes to it.
	mustOK(t, n.block(n.tx(cheap, result(1, testCID("out")))))
	n.block()
	if j := n.job(5); j.Status != JobAssigned || j.Provider != cheap.addr {
		t.Fatalf("job 5: %s to %s", j.Status, j.Provider)
	}
}

// TestJobFeeBurnedRestRefunded: the provider's price is burned, the rest
// refunded to the uinf; the supply invariant holds every block (checked by
// the harness).
func TestJobFeeBurnedRestRefunded(t *testing.T) {
	n := newNet(t, testParams, 1, 2)
	prov, user := n.accts[0], n.accts[1]
	mustOK(t, n.block(n.tx(prov, register(37, 0, 1, 2*ledger.UinfPerINF))))
	bal := n.balance(user.addr)
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 1000))))
	if got := n.balance(user.addr); got != bal-1000-testFee {
		t.Fatalf("escrow: balance %d, want %d", got, bal-1000-testFee)
	}
	burned := n.supply().Burned
	mustOK(t, n.block(n.tx(prov, result(1, testCID("out")))))
	j := n.job(1)
	if j.Status != JobDone || j.Charged != 37 || j.Refunded != 963 || j.Result != testCID("out") {
		t.Fatalf("job: %+v", j)
	}
	if got := n.balance(user.addr); got != bal-37-testFee {
		t.Fatalf("after result: balance %d, want %d", got, bal-37-testFee)
	}
	if got := n.supply().Burned - burned; got != 37+testFee {
		t.Fatalf("burned %d, want price 37 + the result tx fee", got)
	}
	// Results only from the assignee, once.
	mustFail(t, n.block(n.tx(prov, result(1, testCID("again")))), ErrJobClosed)
	mustFail(t, n.block(n.tx(prov, result(9, testCID("x")))), ErrUnknownJob)
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 1000))))
	mustFail(t, n.block(n.tx(user, result(2, testCID("x")))), ErrNotAssignee)
	mustFail(t, n.block(n.tx(prov, result(2, "not-a-cid"))), ErrBadCID)
	// A workload that is not a valid module: the provider reports the
	// error; the job is failed and charged like a done one.
	mustOK(t, n.block(n.tx(prov, ledger.NewMsg(MsgTypeJobResult, MsgJobResult{Job: 2, Error: "wasmrun: invalid module: magic header not detected"}))))
	if j := n.job(2); j.Status != JobFailed || j.Charged != 37 || j.Error == "" {
		t.Fatalf("failed job: %+v", j)
	}
}

func TestJobMissedDeadlineRefundsAndPenalises(t *testing.T) {
	n := newNet(t, testParams, 1, 2)
	prov, user := n.accts[0], n.accts[1]
	bond := uint64(2 * ledger.UinfPerINF)
	mustOK(t, n.block(n.tx(prov, register(37, 0, 1, bond))))
	bal := n.balance(user.addr)
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 1000))))
	j := n.job(1)
	if j.Status != JobAssigned {
		t.Fatalf("job: %s", j.Status)
	}
	n.blocksTo(j.Deadline - 1)
	if n.job(1).Status != JobAssigned {
		t.Fatal("ended before its deadline")
	}
	n.block()
	j = n.job(1)
	if j.Status != JobMissed || j.Refunded != 1000 || j.Charged != 0 {
		t.Fatalf("job: %+v", j)
	}
	if got := n.balance(user.addr); got != bal-testFee {
		t.Fatalf("balance %d, want %d", got, bal-testFee)
	}
	p := n.provider(prov.addr)
	if p.Bond != bond-bond/100 || p.Downtime == 0 || p.ActiveJobs != 0 {
		t.Fatalf("provider: %+v", p)
	}
	mustFail(t, n.block(n.tx(prov, result(1, testCID("late")))), ErrJobClosed)
}

// TestJobBadInput: max price below every ask waits and expires with a full
// refund; too large an input and invalid CIDs are refused at submit.
func TestJobBadInput(t *testing.T) {
	n := newNet(t, `{"min_bond":1000,"max_input_bytes":1000,"job_deadline_blocks":10,"job_min_run_blocks":2}`, 1, 2)
	prov, user := n.accts[0], n.accts[1]
	mustOK(t, n.block(n.tx(prov, register(500, 0, 4, 2*ledger.UinfPerINF))))
	bal := n.balance(user.addr)
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 499))))
	j := n.job(1)
	n.blocksTo(j.Deadline - 1)
	if n.job(1).Status != JobOpen {
		t.Fatal("job below every ask was assigned or ended early")
	}
	n.block()
	if j := n.job(1); j.Status != JobExpired || j.Refunded != 499 {
		t.Fatalf("job: %+v", j)
	}
	if got := n.balance(user.addr); got != bal-testFee {
		t.Fatalf("balance %d", got)
	}
	mustFail(t, n.block(n.tx(user, submit(wasmCID, inputCID, 1001, 600))), ErrInputTooLarge)
	mustFail(t, n.block(n.tx(user, submit("not-a-cid", inputCID, 10, 600))), ErrBadCID)
	mustFail(t, n.block(n.tx(user, submit(wasmCID, "bafy", 10, 600))), ErrBadCID)
	mustFail(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 0))), ErrBadPrice)
	mustFail(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, DefaultParams().MaxJobPrice+1))), ErrBadPrice)
	mustFail(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, ledger.UinfPerINF*5000+acctBalance))), ledger.ErrInsufficientFunds)
}

// TestWrongResultCaughtByReexecution: every job is drawn (reexec_ppm =
// 100%); validators that got another result make a supermajority and the
// provider is slashed; a matching one is not.
func TestWrongResultCaughtByReexecution(t *testing.T) {
	n := newNet(t, `{"min_bond":1000,"reexec_ppm":1000000,"reexec_window_blocks":4,"slash_wrong_row_ppm":100000}`, 3, 3)
	liar, honest, user := n.accts[0], n.accts[1], n.accts[2]
	bond := uint64(2 * ledger.UinfPerINF)
	mustOK(t, n.block(n.tx(liar, register(10, 0, 1, bond)), n.tx(honest, register(11, 0, 1, bond))))
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 100)), n.tx(user, submit(wasmCID, inputCID, 10, 100))))
	if n.job(1).Provider != liar.addr || n.job(2).Provider != honest.addr {
		t.Fatal("assignment")
	}
	truth := testCID("the real output")
	mustOK(t, n.block(n.sealResult(liar, 1, testCID("made up")), n.sealResult(honest, 2, truth)))
	n.block() // the draw
	for id := uint64(1); id <= 2; id++ {
		if j := n.job(id); j.Reexec != ReexecPending {
			t.Fatalf("job %d not drawn: %q", id, j.Reexec)
		}
	}
	var txs [][]byte
	for _, v := range n.vals {
		for id := uint64(1); id <= 2; id++ {
			txs = append(txs, n.commitReexec(v, id, truth))
		}
	}
	mustOK(t, n.block(txs...))
	mustFail(t, n.block(n.commitReexec(user, 1, truth)), ErrNotValidator)
	n.revealAll(n.vals, []uint64{1, 2}, truth)
	n.blocksTo(n.job(1).ReexecEnd)
	if j := n.job(1); j.Reexec != ReexecMismatch {
		t.Fatalf("liar's job: %q", j.Reexec)
	}
	if j := n.job(2); j.Reexec != ReexecMatch {
		t.Fatalf("honest job: %q", j.Reexec)
	}
	if p := n.provider(liar.addr); p.Bond != bond-bond/10 {
		t.Fatalf("liar bond %d", p.Bond)
	}
	if p := n.provider(honest.addr); p.Bond != bond {
		t.Fatalf("honest bond %d", p.Bond)
	}
	mustFail(t, n.block(n.revealReexec(n.vals[0], 1, truth)), ErrNoReexec)
}

func TestReexecDrawRate(t *testing.T) {
	hits := 0
	for id := uint64(0); id < 20000; id++ {
		if Drawn([32]byte{byte(id), 1}, id, 50_000) {
			hits++
		}
	}
	// 5% of 20000 = 1000, sigma about 31.
	if hits < 850 || hits > 1150 {
		t.Fatalf("drawn %d of 20000 at 5%%", hits)
	}
}

// TestJobTieGoesToLowerAddress: equal price and uptime: the lower address.
func TestJobTieGoesToLowerAddress(t *testing.T) {
	n := newNet(t, testParams, 1, 3)
	a, b, user := n.accts[0], n.accts[1], n.accts[2]
	mustOK(t, n.block(n.tx(a, register(20, 0, 1, 2*ledger.UinfPerINF)), n.tx(b, register(20, 0, 1, 2*ledger.UinfPerINF))))
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 1, 100))))
	lo := a.addr
	if bytes.Compare(b.addr[:], a.addr[:]) < 0 {
		lo = b.addr
	}
	if j := n.job(1); j.Provider != lo {
		t.Fatalf("job went to %s, want the lower address %s", j.Provider, lo)
	}
}

// TestBacklogDoesNotStall: with a scan budget of 5 entries per block, 20
// jobs nobody is cheap enough for do not stop a later job from being
// assigned: the scan resumes where it stopped and reaches it.
func TestBacklogDoesNotStall(t *testing.T) {
	n := newNet(t, `{"min_bond":1000,"max_scan_per_block":5,"job_deadline_blocks":50,"job_min_run_blocks":2}`, 1, 2)
	prov, user := n.accts[0], n.accts[1]
	mustOK(t, n.block(n.tx(prov, register(50, 0, 1, 2*ledger.UinfPerINF))))
	var msgs []ledger.Msg
	for i := 0; i < 20; i++ {
		msgs = append(msgs, submit(wasmCID, inputCID, 1, 10))
	}
	msgs = append(msgs, submit(wasmCID, inputCID, 1, 100))
	mustOK(t, n.block(n.tx(user, msgs...)))
	for i := 0; i < 6 && n.job(21).Status == JobOpen; i++ {
		n.block()
	}
	if j := n.job(21); j.Status != JobAssigned {
		t.Fatalf("job behind the backlog: %s after %d blocks", j.Status, n.height)
	}
	for id := uint64(1); id <= 20; id++ {
		if n.job(id).Status != JobOpen {
			t.Fatalf("job %d: %s", id, n.job(id).Status)
		}
	}
}

// TestUnbondingProviderSlashedByLastTally: a provider reports a wrong
// result and unregisters in the same block; with unbonding_blocks =
// reexec_window_blocks + 1 (the least Validate allows) its unbonding
// matures at the very height the re-execution is tallied. The tally comes
// first: the mismatch slashes the unbonding bond. Before the fix the
// provider was deleted (its whole bond returned) first and escaped.
func TestUnbondingProviderSlashedByLastTally(t *testing.T) {
	n := newNet(t, `{"min_bond":1000,"epoch_blocks":6,"commit_deadline_blocks":2,"attest_deadline_blocks":5,
"unbonding_blocks":6,"reexec_ppm":1000000,"reexec_window_blocks":5,"slash_wrong_row_ppm":100000}`, 3, 2)
	liar, user := n.accts[0], n.accts[1]
	bond := uint64(2 * ledger.UinfPerINF)
	mustOK(t, n.block(n.tx(liar, register(10, 0, 1, bond))))
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 100))))
	if n.job(1).Provider != liar.addr {
		t.Fatal("assignment")
	}
	mustOK(t, n.block(n.sealResult(liar, 1, testCID("made up")), n.tx(liar, ledger.NewMsg(MsgTypeUnregister, MsgUnregister{}))))
	n.block() // the draw
	j, p := n.job(1), n.provider(liar.addr)
	if j.Reexec != ReexecPending || p.UnbondAt != j.ReexecEnd {
		t.Fatalf("schedule: job %+v, provider unbonds at %d", j, p.UnbondAt)
	}
	truth := testCID("the real output")
	var txs [][]byte
	for _, v := range n.vals {
		txs = append(txs, n.commitReexec(v, 1, truth))
	}
	mustOK(t, n.block(txs...))
	n.revealAll(n.vals, []uint64{1}, truth)
	before := n.balance(liar.addr)
	n.blocksTo(j.ReexecEnd)
	if j := n.job(1); j.Reexec != ReexecMismatch {
		t.Fatalf("re-execution: %q", j.Reexec)
	}
	if got := n.balance(liar.addr) - before; got != bond-bond/10 {
		t.Fatalf("%d uinf returned, want the bond less 10%% (%d)", got, bond-bond/10)
	}
}
