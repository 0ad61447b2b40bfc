package agent

import (
	"context"
	"testing"

	"github.com/inferd/inferd/compute/matmul"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// firstRows runs the rig until the provider publishes its rows and returns
// them (not delivered to the verifier).
func firstRows(t *testing.T, r *rig) []byte {
	t.Helper()
	ctx := context.Background()
	for r.n.height < 9 {
		r.n.block()
		r.provs[0].Step(ctx, r.n.height)
		r.ver.Step(ctx, r.n.height)
		r.n.mu.Lock()
		g := r.n.gossip
		r.n.gossip = nil
		r.n.mu.Unlock()
		if len(g) > 0 {
			return g[0]
		}
	}
	t.Fatal("provider published nothing")
	return nil
}

// countChecks counts the full checks of rows for the test's duration.
func countChecks(t *testing.T) *int {
	n := new(int)
	checkRows = func(ci *ledgercompute.ChallengeInfo, m *RowsMsg) (string, error) {
		*n++
		return Check(ci, m)
	}
	t.Cleanup(func() { checkRows = Check })
	return n
}

// TestVerifierChecksEachRoundOnce: after a refused submission the verdict
// is resubmitted, not recomputed, on the provider's republications; once
// the ledger holds the attestation, a restarted verifier neither checks
// nor submits again. Before the fix every republication (every 2 blocks)
// re-ran the full check and, after a restart, attested again.
func TestVerifierChecksEachRoundOnce(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, matmul.CPU{})
	checks := countChecks(t)
	real := firstRows(t, r)
	r.val.refuse = true
	if err := r.ver.HandleRows(ctx, real); err == nil {
		t.Fatal("refused submission not reported")
	}
	r.val.refuse = false
	before := r.val.nonce
	for i := 0; i < 3; i++ { // republications, a block apart
		r.n.block()
		if err := r.ver.HandleRows(ctx, real); err != nil {
			t.Fatal(err)
		}
	}
	if *checks != 1 || r.val.nonce != before+1 {
		t.Fatalf("%d checks, %d submissions; want 1 and 1", *checks, r.val.nonce-before)
	}
	r.n.block() // the attestation is included
	if !r.ver.attested(r.n.height, r.hosts[0].addr) {
		t.Fatal("attestation not on the ledger")
	}
	r.ver = NewVerifier(r.val, VerifierConfig{}) // a restart
	before = r.val.nonce
	for i := 0; i < 2; i++ {
		r.n.block()
		r.ver.Step(ctx, r.n.height)
		if err := r.ver.HandleRows(ctx, real); err != nil {
			t.Fatal(err)
		}
	}
	if *checks != 1 || r.val.nonce != before {
		t.Fatalf("after the restart: %d checks, %d submissions", *checks-1, r.val.nonce-before)
	}
}

// TestVerifierPendingRowsNotDisplacedByForgeries: rows that come before
// the verifier sees their selection are kept; forged copies (same root,
// proofs that do not open it) coming after cannot displace them, and the
// real rows are attested once the selection shows. Before the fix the
// last message per provider won.
func TestVerifierPendingRowsNotDisplacedByForgeries(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, matmul.CPU{})
	real := firstRows(t, r)
	prov := r.hosts[0].addr
	// The verifier's view: committed, rows not selected yet.
	r.ver.refresh(r.n.height)
	ci := *r.ver.view[prov]
	ci.Rows = nil
	r.ver.view[prov] = &ci
	before := r.val.nonce
	if err := r.ver.HandleRows(ctx, real); err == nil {
		t.Fatal("rows checked before their selection")
	}
	for i := 0; i < 2*maxPending; i++ {
		m, _ := DecodeRows(real)
		m.Rows[0].Values[i] ^= 1
		if err := r.ver.HandleRows(ctx, EncodeRowsMsg(m)); err == nil {
			t.Fatal("forgery accepted")
		}
	}
	if got := len(r.ver.pending[prov]); got > maxPending {
		t.Fatalf("%d pending messages kept", got)
	}
	r.ver.Step(ctx, r.n.height) // the view shows the selection: the pending rows are checked
	if r.val.nonce != before+1 {
		t.Fatalf("%d attestations from the pending rows, want 1", r.val.nonce-before)
	}
	r.n.block()
	var att bool
	r.n.c.Query(r.n.height, func(c *ledger.Context) error {
		att = r.n.c.Compute.Attested(c, prov, r.val.addr)
		return nil
	})
	if !att {
		t.Fatal("no attestation on the ledger")
	}
	if p := r.provider(0); p.LastOutcome == ledgercompute.OutcomeWrongRow {
		t.Fatalf("provider: %+v", p)
	}
}
