package compute

import (
	"fmt"
	"testing"

	"github.com/inferd/inferd/ledger"
)

// copyRun plays one re-execution of an honest provider's job, drawn, with
// five honest validators and one copier, through the epoch close that pays
// verification work, and returns the wealth change (balance) of an honest
// validator and of the copier. The copier never runs the job: every block
// of the commit window it reads the job's result on the ledger and commits
// it as soon as it is there; at the last commit block, having seen
// nothing, it commits a guess. It reveals what it committed. The honest
// provider reveals as early as the ledger lets it.
func copyRun(t *testing.T, earlyResult bool) (honestGain, copierGain int64) {
	plantEarlyResult = earlyResult
	defer func() { plantEarlyResult = false }()
	n := newNet(t, rxParams, 6, 2)
	n.mint.perBlck = 1000
	prov, user := n.accts[0], n.accts[1]
	truth := testCID("the real output")
	id := drawnJob(t, n, prov, user, truth)
	honest, copier := n.vals[:5], n.vals[5]
	start := map[*acct]uint64{}
	for _, v := range n.vals {
		start[v] = n.balance(v.addr)
	}
	var from uint64
	n.query(func(ctx *ledger.Context) { from = n.cm.ResultRevealFrom(ctx, id) })
	var txs [][]byte
	for _, v := range honest {
		txs = append(txs, n.commitReexec(v, id, truth))
	}
	if n.height+1 >= from { // the provider reveals at once (the planted weakening only)
		txs = append(txs, n.revealResult(prov, id, truth))
		delete(n.sealed, id)
	}
	copied := ""
	for end := n.commitEnd(id); n.height+1 < end; txs = nil {
		if r := n.job(id).Result; r != "" && copied == "" {
			copied = r
			txs = append(txs, n.commitReexec(copier, id, copied))
		} else if copied == "" && n.height+2 == end {
			copied = testCID("a guess")
			txs = append(txs, n.commitReexec(copier, id, copied))
		}
		mustOK(t, n.block(txs...))
	}
	n.revealAll(honest, []uint64{id}, truth)
	n.block(n.revealReexec(copier, id, copied))
	n.blocksTo(n.job(id).ReexecEnd)
	if j := n.job(id); j.Reexec != ReexecMatch || j.Status != JobDone {
		t.Fatalf("verdict %q, job %s", j.Reexec, j.Status)
	}
	n.blocksTo(n.epoch().End)
	gain := func(a *acct) int64 { return int64(n.balance(a.addr)) - int64(start[a]) }
	return gain(honest[0]), gain(copier)
}

// The copying re-executor against an honest provider (docs/incentives.md):
// the provider's result is sealed until every re-execution commitment is
// in, so a validator that copies it instead of running the job commits a
// guess and earns less than an honest one (its fees, no verification
// pay). With the planted weakening (the result readable during the commit
// window) the same copier is paid as an honest validator, and the check
// refuses that run: the test can fail.
func TestAttackCopyingTheProvider(t *testing.T) {
	check := func(copier, honest int64) error {
		if copier >= honest {
			return fmt.Errorf("the copier moved %+d against honest %+d", copier, honest)
		}
		return nil
	}
	h, c := copyRun(t, false)
	t.Logf("ATTACK copying re-executor (copies an honest provider's result): attacker %+d, honest %+d uinf; defended by the sealed result (job/result_commit, revealed after the re-execution commit window)", c, h)
	if err := check(c, h); err != nil {
		t.Error(err)
	}
	if c >= 0 {
		t.Errorf("the copier gained %+d", c)
	}
	ph, pc := copyRun(t, true)
	t.Logf("planted weakening (result readable early): attacker %+d, honest %+d uinf", pc, ph)
	if pc != ph {
		t.Errorf("with the result readable early the copier moved %+d, honest %+d: the planted weakening does not show the attack", pc, ph)
	}
	if check(pc, ph) == nil {
		t.Fatal("the check passed the planted run (a copier paid as an honest validator)")
	}
}
