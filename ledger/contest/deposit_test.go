package contest

import (
	"testing"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/gov"
)

// TestCommitDeposit: a commit takes the spec's deposit into the contest's
// deposit pool; a reveal returns it; a commit never revealed loses it,
// burned when the round freezes. The supply invariant holds every block
// (the harness checks it).
func TestCommitDeposit(t *testing.T) {
	h := newHarness(t, selfBonds)
	spec := testSpec(h.acc[4].addr)
	spec.CommitDeposit = 5_000
	id, S := h.create(spec)
	honest, idle := h.acc[1], h.acc[2]
	h.to(S - 1)
	b0, i0 := h.balance(honest.addr), h.balance(idle.addr)
	h.okBlock(
		h.tx(honest, commitMsg(id, 1, modelCID("real"), salt("h"), honest.addr)),
		h.tx(idle, commitMsg(id, 1, modelCID("never shown"), salt("i"), idle.addr)),
	)
	if got := h.balance(honest.addr); got != b0-testFee-5_000 {
		t.Fatalf("honest builder paid %d, want fee %d + deposit 5000", b0-got, testFee)
	}
	pool := func() (p uint64) {
		h.view(func(ctx *ledger.Context) { p = h.bank.Pool(ctx, DepositPoolName(id)) })
		return p
	}
	if p := pool(); p != 10_000 {
		t.Fatalf("deposit pool %d, want 10000", p)
	}
	h.to(S + 5)
	h.okBlock(h.tx(honest, revealMsg(id, 1, modelCID("real"), salt("h"))))
	if got := h.balance(honest.addr); got != b0-2*testFee {
		t.Fatalf("after reveal the honest builder is down %d, want two fees (%d)", b0-got, 2*testFee)
	}
	burnedBefore := h.supply().Burned
	h.to(S + 11) // the reveal window (S+6..S+11) ends: the round freezes
	if p := pool(); p != 0 {
		t.Fatalf("deposit pool %d after the freeze, want 0", p)
	}
	if got := h.supply().Burned - burnedBefore; got != 5_000 {
		t.Fatalf("burned %d at the freeze, want the idle commit's 5000", got)
	}
	if got := h.balance(idle.addr); got != i0-testFee-5_000 {
		t.Fatalf("idle builder down %d, want fee + deposit", i0-got)
	}
	rv := h.round(id, 1)
	for _, s := range rv.Submissions {
		if s.Deposit != 0 {
			t.Errorf("submission %d still holds %d", s.Index, s.Deposit)
		}
	}
	// An account that cannot pay the deposit cannot commit.
	spec.CommitDeposit = MaxCommitDeposit
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	spec.CommitDeposit = MaxCommitDeposit + 1
	if err := spec.Validate(); err == nil {
		t.Error("a deposit over the cap was accepted")
	}
}

// TestRetireReturnsDeposits: commits of the round in progress when the
// contest is retired get their deposits back.
func TestRetireReturnsDeposits(t *testing.T) {
	h := newHarness(t, selfBonds)
	spec := testSpec(h.acc[4].addr)
	spec.CommitDeposit = 5_000
	id, S := h.create(spec)
	b := h.acc[1]
	h.to(S + 27)
	res := h.okBlock(h.tx(h.acc[0], ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{
		Title: "retire", Content: NewRetireContent(id), InitialDeposit: 1000,
	})))
	e, ok := findEvent(res.Txs[0].Events, "proposal_submitted")
	if !ok {
		t.Fatal("no proposal")
	}
	var txs [][]byte
	for _, v := range h.val {
		txs = append(txs, h.tx(v, ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: parseU64(e.Attrs["proposal_id"]), Option: gov.OptionYes})))
	}
	h.okBlock(txs...)
	bal := h.balance(b.addr)
	h.okBlock(h.tx(b, commitMsg(id, 2, modelCID("x"), salt("x"), b.addr))) // round 2 opens at S+30
	if got := h.balance(b.addr); got != bal-testFee-5_000 {
		t.Fatalf("commit took %d, want fee + deposit", bal-got)
	}
	for i := 0; i < 10 && h.detail(id).Status != StatusRetired; i++ {
		h.block()
	}
	if h.detail(id).Status != StatusRetired || h.height >= S+41 {
		t.Fatalf("not retired before round 2 froze (height %d)", h.height)
	}
	var p uint64
	h.view(func(ctx *ledger.Context) { p = h.bank.Pool(ctx, DepositPoolName(id)) })
	if got := h.balance(b.addr); got != bal-testFee || p != 0 {
		t.Fatalf("after retirement the builder is down %d (want the fee %d), deposit pool %d", bal-got, testFee, p)
	}
}
