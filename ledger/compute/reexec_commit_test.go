package compute

import (
	"crypto/sha256"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// salt is a test validator's salt for a job: deterministic, 16 bytes.
func (n *testNet) salt(a *acct, id uint64) []byte {
	s := sha256.Sum256(append(a.addr[:], u64(id)...))
	return s[:16]
}

func (n *testNet) commitReexec(a *acct, id uint64, res string) []byte {
	c := ReexecCommitment(testChainID, id, a.addr, res, res == "", n.salt(a, id))
	return n.tx(a, ledger.NewMsg(MsgTypeJobReexecCommit, MsgJobReexecCommit{Job: id, Commitment: c[:]}))
}

func (n *testNet) revealReexec(a *acct, id uint64, res string) []byte {
	return n.tx(a, ledger.NewMsg(MsgTypeJobReexecReveal, MsgJobReexecReveal{Job: id, Result: res, Failed: res == "", Salt: n.salt(a, id)}))
}

func (n *testNet) commitEnd(id uint64) (h uint64) {
	n.query(func(ctx *ledger.Context) { h = n.cm.ReexecCommitEnd(ctx, id) })
	return h
}

// revealAll moves to the reveal window of ids[0] and, in one block,
// reveals the providers' sealed results of ids (sealResult) and res from
// every validator in vs for every job in ids.
func (n *testNet) revealAll(vs []*acct, ids []uint64, res string) {
	n.t.Helper()
	n.blocksTo(n.commitEnd(ids[0]) - 1)
	var txs [][]byte
	for _, id := range ids {
		if s, ok := n.sealed[id]; ok {
			txs = append(txs, n.revealResult(s.prov, id, s.res))
			delete(n.sealed, id)
		}
	}
	for _, v := range vs {
		for _, id := range ids {
			txs = append(txs, n.revealReexec(v, id, res))
		}
	}
	mustOK(n.t, n.block(txs...))
}

func (n *testNet) work(a *acct) (w uint64) {
	n.query(func(ctx *ledger.Context) { w = n.cm.VerificationWork(ctx, a.addr) })
	return w
}

// drawnJob registers a provider, runs one job to its sealed result res and
// the draw (reexec_ppm is 100%), and returns the job id; revealAll reveals
// the result.
func drawnJob(t *testing.T, n *testNet, prov, user *acct, res string) uint64 {
	t.Helper()
	mustOK(t, n.block(n.tx(prov, register(10, 0, 1, 2*ledger.UinfPerINF))))
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 100))))
	mustOK(t, n.block(n.sealResult(prov, 1, res)))
	n.block() // the draw
	if j := n.job(1); j.Reexec != ReexecPending {
		t.Fatalf("job not drawn: %q", j.Reexec)
	}
	return 1
}

const rxParams = `{"min_bond":1000,"reexec_ppm":1000000,"reexec_window_blocks":12,"slash_wrong_row_ppm":100000}`

// The commit-reveal's rules: a result in the clear is refused; no reveal
// before the commit window ends (it could be copied), no commit after it;
// a reveal must open the sender's own commitment (another validator's
// commitment, re-sent, opens to nothing the copier can produce: the sender
// is in the hash); a commit never revealed counts as not done.
func TestReexecCommitRevealRules(t *testing.T) {
	n := newNet(t, rxParams, 4, 2)
	prov, user := n.accts[0], n.accts[1]
	truth := testCID("the real output")
	id := drawnJob(t, n, prov, user, truth)
	honest, copier, silent, lazy := n.vals[0], n.vals[1], n.vals[2], n.vals[3]

	mustFail(t, n.block(n.tx(honest, ledger.NewMsg(MsgTypeJobReexec, MsgJobReexec{Job: id, Result: truth}))), ErrReexecInClear)
	mustFail(t, n.block(n.revealReexec(honest, id, truth)), ErrRevealWindow)
	mustFail(t, n.block(n.tx(honest, ledger.NewMsg(MsgTypeJobReexecCommit, MsgJobReexecCommit{Job: id, Commitment: []byte{1}}))), ledger.ErrInvalidMsg)
	// The copier re-sends the honest validator's commitment as its own.
	c := ReexecCommitment(testChainID, id, honest.addr, truth, false, n.salt(honest, id))
	mustOK(t, n.block(n.commitReexec(honest, id, truth), n.commitReexec(silent, id, truth),
		n.tx(copier, ledger.NewMsg(MsgTypeJobReexecCommit, MsgJobReexecCommit{Job: id, Commitment: c[:]}))))
	mustFail(t, n.block(n.commitReexec(honest, id, truth)), ErrAlreadyAttested)
	n.blocksTo(n.commitEnd(id) - 1)
	mustFail(t, n.block(n.commitReexec(lazy, id, truth)), ErrCommitWindow)
	mustOK(t, n.block(n.revealReexec(honest, id, truth)))
	// Having seen the honest reveal, the copier reveals the same result
	// and salt: the commitment names the honest validator, not the copier.
	copied := n.tx(copier, ledger.NewMsg(MsgTypeJobReexecReveal, MsgJobReexecReveal{Job: id, Result: truth, Salt: n.salt(honest, id)}))
	mustFail(t, n.block(copied), ErrRevealMismatch)
	mustFail(t, n.block(n.revealReexec(lazy, id, truth)), ErrNoCommitment)
	mustFail(t, n.block(n.revealReexec(honest, id, truth)), ErrAlreadyAttested)
	// silent never reveals.
	n.blocksTo(n.job(id).ReexecEnd)
	// One reveal of four validators' stake: no supermajority either way.
	if j := n.job(id); j.Reexec != ReexecInconclusive {
		t.Fatalf("verdict %q, want inconclusive (only one reveal counts)", j.Reexec)
	}
	var left int
	n.query(func(ctx *ledger.Context) {
		ctx.Iterate([]byte(rxCommitPrefix), func(_, _ []byte) bool { left++; return true })
		if ctx.Has(rxWindowKey(id)) {
			left++
		}
	})
	if left != 0 {
		t.Fatalf("%d commit-reveal records left after the tally", left)
	}
	for _, v := range n.vals {
		if w := n.work(v); w != 0 {
			t.Fatalf("verification work %d credited for an inconclusive re-execution", w)
		}
	}
}

// Paid for the work: validators whose reveals agree with the verdict are
// credited, the one that committed and never revealed and the one that
// revealed another result are not; after a mismatch only the validators
// with the majority's result are credited. At the epoch close the credits
// are paid from the validators' share of the compute pool, and the lazy
// validator earns less than the honest ones.
func TestReexecWorkIsPaid(t *testing.T) {
	n := newNet(t, rxParams, 4, 2)
	n.mint.perBlck = 1000 // the compute pool's emission
	prov, user := n.accts[0], n.accts[1]
	truth := testCID("the real output")
	id := drawnJob(t, n, prov, user, testCID("made up"))
	a, b, c, lazy := n.vals[0], n.vals[1], n.vals[2], n.vals[3]
	mustOK(t, n.block(n.commitReexec(a, id, truth), n.commitReexec(b, id, truth), n.commitReexec(c, id, truth),
		n.commitReexec(lazy, id, testCID("made up"))))
	n.revealAll([]*acct{a, b, c}, []uint64{id}, truth)
	n.blocksTo(n.job(id).ReexecEnd)
	if j := n.job(id); j.Reexec != ReexecMismatch {
		t.Fatalf("verdict %q, want mismatch", j.Reexec)
	}
	for _, v := range []*acct{a, b, c} {
		if w := n.work(v); w != 1 {
			t.Fatalf("honest re-executor credited %d, want 1", w)
		}
	}
	if w := n.work(lazy); w != 0 {
		t.Fatalf("unrevealed commit credited %d", w)
	}
	// The epoch close pays the credits and resets them.
	before := map[*acct]uint64{}
	for _, v := range n.vals {
		before[v] = n.balance(v.addr)
	}
	e := n.epoch()
	n.blocksTo(e.End)
	for _, v := range []*acct{a, b, c} {
		if n.work(v) != 0 {
			t.Fatal("credit not reset at the epoch close")
		}
	}
	gainA, gainLazy := n.balance(a.addr)-before[a], n.balance(lazy.addr)-before[lazy]
	t.Logf("epoch %d: honest re-executor +%d uinf, lazy validator +%d uinf", e.Number, gainA, gainLazy)
	if gainA == 0 || gainA <= gainLazy {
		t.Fatalf("honest re-executor earned %d, lazy %d: verification work not paid", gainA, gainLazy)
	}
}

func TestPluralityCreditsTheMajorityResult(t *testing.T) {
	x, y, z := keys.Address{1}, keys.Address{2}, keys.Address{3}
	votes := []reexecVote{{x, reexecReport{Result: "bafyA"}}, {y, reexecReport{Result: "bafyB"}}, {z, reexecReport{Result: "bafyA"}}}
	if got := plurality(votes, map[keys.Address]uint64{x: 1, y: 5, z: 1}); len(got) != 1 || got[0] != y {
		t.Fatalf("plurality %v, want only the 5-power voter", got)
	}
	if got := plurality(votes, map[keys.Address]uint64{x: 3, y: 5, z: 3}); len(got) != 2 || got[0] != x || got[1] != z {
		t.Fatalf("plurality %v, want the two voters of the result with 6 of 11", got)
	}
}
