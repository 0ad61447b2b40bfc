package compute

import (
	"fmt"
	"testing"

	"github.com/inferd/inferd/ledger"
)

// The copying re-executors (docs/incentives.md): over one re-execution of
// a made-up result and the epoch close that pays it, five honest
// validators re-run the job; "reportcopier" re-sends an honest validator's
// commitment and, once reveals open, replays that validator's result and
// salt; "provcopier" never runs the job and commits the provider's
// (public) result. Each side's wealth change is its balance (fees out,
// verifier pay in). The check refuses the planted figure: what the report
// copier would have had if a report in the clear could be copied (the
// honest validator's pay).
func TestAttackCopyingReexecutors(t *testing.T) {
	n := newNet(t, rxParams, 7, 2)
	n.mint.perBlck = 1000
	prov, user := n.accts[0], n.accts[1]
	truth, lie := testCID("the real output"), testCID("made up")
	id := drawnJob(t, n, prov, user, lie)
	honest, reportCopier, provCopier := n.vals[:5], n.vals[5], n.vals[6]
	start := map[*acct]uint64{}
	for _, v := range n.vals {
		start[v] = n.balance(v.addr)
	}
	var txs [][]byte
	for _, v := range honest {
		txs = append(txs, n.commitReexec(v, id, truth))
	}
	c := ReexecCommitment(testChainID, id, honest[0].addr, truth, false, n.salt(honest[0], id))
	txs = append(txs, n.tx(reportCopier, ledger.NewMsg(MsgTypeJobReexecCommit, MsgJobReexecCommit{Job: id, Commitment: c[:]})),
		n.commitReexec(provCopier, id, lie))
	mustOK(t, n.block(txs...))
	n.revealAll(honest, []uint64{id}, truth)
	res := n.block(n.revealReexec(provCopier, id, lie),
		n.tx(reportCopier, ledger.NewMsg(MsgTypeJobReexecReveal, MsgJobReexecReveal{Job: id, Result: truth, Salt: n.salt(honest[0], id)})))
	if !res.Txs[0].OK {
		t.Fatalf("provider copier's reveal: %s", res.Txs[0].Error)
	}
	t.Logf("report copier's replayed reveal: %s", res.Txs[1].Error)
	n.blocksTo(n.job(id).ReexecEnd)
	if j := n.job(id); j.Reexec != ReexecMismatch {
		t.Fatalf("verdict %q", j.Reexec)
	}
	n.blocksTo(n.epoch().End)
	gain := func(a *acct) int64 { return int64(n.balance(a.addr)) - int64(start[a]) }
	h, rc, pc := gain(honest[0]), gain(reportCopier), gain(provCopier)
	t.Logf("ATTACK copying re-executor (replays a report): attacker %+d, honest %+d uinf; defended by commit-reveal (the commitment binds the sender)", rc, h)
	t.Logf("ATTACK copying re-executor (copies the provider): attacker %+d, honest %+d uinf; defended by pay for agreeing with the verdict (validator_share_ppm)", pc, h)
	check := func(attacker int64) error {
		if attacker >= 0 || attacker >= h {
			return fmt.Errorf("the copier moved %+d against honest %+d", attacker, h)
		}
		return nil
	}
	for name, a := range map[string]int64{"report copier": rc, "provider copier": pc} {
		if err := check(a); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The check can fail: the report copier paid as the honest validator.
	if check(h) == nil {
		t.Fatal("the check passed the planted figure (a copied report paid as an honest one)")
	}
	if n.work(honest[0]) != 0 {
		t.Fatal("work not reset at the close")
	}
}
