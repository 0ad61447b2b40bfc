package compute

import (
	"testing"

	"github.com/inferd/inferd/ledger"
)

func (n *testNet) served(a *acct) (v uint64) {
	n.query(func(ctx *ledger.Context) { v = ctx.GetU64(srvKey(a.addr)) })
	return v
}

// The sealed result's rules on a drawn job: no result in the clear while
// reexec_ppm > 0; the commitment is 32 bytes; the job is "sealed" (no
// result shown, escrow held, the provider's slot free); no reveal before
// the validators' commit window closes, none by another account, none
// that does not open the commitment; the reveal settles the job.
func TestSealedResultRules(t *testing.T) {
	n := newNet(t, rxParams, 3, 3)
	prov, user, other := n.accts[0], n.accts[1], n.accts[2]
	truth := testCID("the real output")
	mustOK(t, n.block(n.tx(prov, register(10, 0, 1, 2*ledger.UinfPerINF))))
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 100))))
	mustFail(t, n.block(n.tx(prov, result(1, truth))), ErrResultInClear)
	mustFail(t, n.block(n.tx(prov, ledger.NewMsg(MsgTypeJobResultCommit, MsgJobResultCommit{Job: 1, Commitment: []byte{1, 2}}))), ledger.ErrInvalidMsg)
	mustFail(t, n.block(n.sealResult(other, 1, truth)), ErrNotAssignee)
	before := n.balance(user.addr)
	res := n.block(n.sealResult(prov, 1, truth), n.revealResult(prov, 1, truth))
	if !res.Txs[0].OK || res.Txs[1].OK {
		t.Fatalf("commit ok=%v (%s); reveal in the commit's block ok=%v, want refused", res.Txs[0].OK, res.Txs[0].Error, res.Txs[1].OK)
	}
	j := n.job(1)
	if j.Status != JobSealed || j.Result != "" || j.Deadline != res.Height+1+12 {
		t.Fatalf("sealed job: status %s result %q deadline %d", j.Status, j.Result, j.Deadline)
	}
	if p := n.provider(prov.addr); p.ActiveJobs != 0 {
		t.Fatalf("active jobs %d after the commit", p.ActiveJobs)
	}
	n.block() // the draw: 100%
	if j := n.job(1); j.Reexec != ReexecPending || j.ReexecEnd != j.Deadline {
		t.Fatalf("draw: %q until %d, reveal deadline %d", j.Reexec, j.ReexecEnd, j.Deadline)
	}
	mustFail(t, n.block(n.revealResult(prov, 1, truth)), ErrResultReveal)
	n.blocksTo(n.commitEnd(1) - 1)
	mustFail(t, n.block(n.revealResult(prov, 1, testCID("another"))), ErrResultMismatch)
	mustFail(t, n.block(n.revealResult(other, 1, truth)), ErrNotAssignee)
	mustOK(t, n.block(n.revealResult(prov, 1, truth)))
	mustFail(t, n.block(n.revealResult(prov, 1, truth)), ErrNotSealed)
	j = n.job(1)
	if j.Status != JobDone || j.Result != truth || j.Charged != 10 || n.balance(user.addr)-before != 90 {
		t.Fatalf("revealed job: %s %q charged %d, user got %d back", j.Status, j.Result, j.Charged, n.balance(user.addr)-before)
	}
	if n.served(prov) != 0 {
		t.Fatal("served work credited before the re-execution verdict")
	}
}

// A job not drawn reveals from the draw block (one block after its
// commit), and its provider is credited served work on the reveal; a
// failure is sealed and revealed like a result.
func TestUndrawnResultRevealsNextBlock(t *testing.T) {
	n := newNet(t, `{"min_bond":1000,"reexec_ppm":1,"reexec_window_blocks":12}`, 1, 2)
	prov, user := n.accts[0], n.accts[1]
	mustOK(t, n.block(n.tx(prov, register(10, 0, 2, 2*ledger.UinfPerINF))))
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 100), submit(wasmCID, inputCID, 10, 100))))
	out := testCID("out")
	mustOK(t, n.block(n.sealResult(prov, 1, out), n.sealResult(prov, 2, "")))
	mustOK(t, n.block(n.revealResult(prov, 1, out), n.revealResult(prov, 2, "")))
	if j := n.job(1); j.Reexec != ReexecNone || j.Status != JobDone || j.Result != out {
		t.Fatalf("job 1: drawn %q, %s %q", j.Reexec, j.Status, j.Result)
	}
	if j := n.job(2); j.Status != JobFailed || j.Error == "" || j.Charged != 10 {
		t.Fatalf("job 2: %s %q charged %d", j.Status, j.Error, j.Charged)
	}
	if n.served(prov) != 10 {
		t.Fatalf("served %d, want the done job's fee 10", n.served(prov))
	}
}

// A sealed result never revealed is a missed job: the user is refunded in
// full and the provider slashed job_slash_ppm (not the wrong-result
// slash), whether or not it was drawn; the re-execution is inconclusive
// and credits nobody.
func TestUnrevealedResultIsMissed(t *testing.T) {
	n := newNet(t, rxParams, 3, 2)
	prov, user := n.accts[0], n.accts[1]
	bond := uint64(2 * ledger.UinfPerINF)
	before := n.balance(user.addr)
	id := drawnJob(t, n, prov, user, testCID("never shown"))
	var txs [][]byte
	for _, v := range n.vals {
		txs = append(txs, n.commitReexec(v, id, testCID("never shown")))
	}
	mustOK(t, n.block(txs...))
	n.blocksTo(n.commitEnd(id))
	txs = nil
	for _, v := range n.vals {
		txs = append(txs, n.revealReexec(v, id, testCID("never shown")))
	}
	mustOK(t, n.block(txs...))
	n.blocksTo(n.job(id).Deadline)
	j := n.job(id)
	if j.Status != JobMissed || j.Reexec != ReexecInconclusive || j.Refunded != 100 || n.balance(user.addr) != before-testFee {
		t.Fatalf("unrevealed job: %s, re-execution %q, refunded %d", j.Status, j.Reexec, j.Refunded)
	}
	p := n.provider(prov.addr)
	if want := bond - bond/100; p.Bond != want || p.Downtime != 1 {
		t.Fatalf("provider bond %d (want %d, job_slash_ppm), downtime %d", p.Bond, want, p.Downtime)
	}
	for _, v := range n.vals {
		if n.work(v) != 0 {
			t.Fatal("verification work credited on a job with no result")
		}
	}
}

// A "content unavailable" failure is the one report taken in the clear
// while reexec_ppm > 0: it is never drawn (re-executing it proves nothing),
// so there is nothing to copy; any other failure must be sealed.
func TestContentUnavailableInTheClear(t *testing.T) {
	n := newNet(t, rxParams, 1, 2)
	prov, user := n.accts[0], n.accts[1]
	mustOK(t, n.block(n.tx(prov, register(10, 0, 2, 2*ledger.UinfPerINF))))
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 100), submit(wasmCID, inputCID, 10, 100))))
	mustFail(t, n.block(n.tx(prov, ledger.NewMsg(MsgTypeJobResult, MsgJobResult{Job: 1, Error: "wasmrun: trap"}))), ErrResultInClear)
	mustFail(t, n.block(n.tx(prov, ledger.NewMsg(MsgTypeJobResult, MsgJobResult{Job: 1, Result: testCID("o"), Error: ContentUnavailable}))), ErrResultInClear)
	mustOK(t, n.block(n.tx(prov, ledger.NewMsg(MsgTypeJobResult, MsgJobResult{Job: 1, Error: ContentUnavailable + ": input not found"}))))
	n.block() // a draw would be here
	if j := n.job(1); j.Status != JobFailed || j.Reexec != ReexecNone || j.Charged != 10 {
		t.Fatalf("unavailable job: %s, re-execution %q, charged %d", j.Status, j.Reexec, j.Charged)
	}
	if p := n.provider(prov.addr); p.ActiveJobs != 1 {
		t.Fatalf("active jobs %d, want 1 (job 2)", p.ActiveJobs)
	}
}
