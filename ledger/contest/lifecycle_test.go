package contest

import (
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/emission"
)

var selfBonds = []uint64{100 * inf, 50 * inf, 30 * inf}

func gaugeMsg(id uint64) ledger.Msg {
	return ledger.NewMsg(emission.MsgTypeSetGauge, emission.MsgSetGauge{Weights: []emission.GaugeWeight{{Module: PoolName(id), Weight: 1}}})
}

// valIndex maps an operator to its index in h.val.
func (h *harness) valIndex(a keys.Address) int {
	for i, v := range h.val {
		if v.addr == a {
			return i
		}
	}
	return -1
}

// TestLifecycle: propose -> vote -> live -> commit -> reveal -> attest ->
// agree -> pay, with exact payouts, the copy rule (a later commit of the
// same model that reveals first is still the copy), a validator with a
// wrong score earning nothing while the round completes, and the supply
// invariant after every block.
func TestLifecycle(t *testing.T) {
	h := newHarness(t, selfBonds)
	designer, b1, b2, b3 := h.acc[4], h.acc[1], h.acc[2], h.acc[3]
	id, S := h.create(testSpec(designer.addr))
	if id != 1 || PoolName(id) != "contest-1" {
		t.Fatalf("id %d", id)
	}
	var live bool
	h.view(func(ctx *ledger.Context) { live = h.em.IsLive(ctx, "contest-1") })
	if !live {
		t.Fatal("contest-1 is not live in emission")
	}
	if (S+19)%10 == 0 {
		t.Fatalf("the close block %d is an epoch end; adjust the test", S+19)
	}
	A, B := modelCID("model-A"), modelCID("model-B")

	// Round 1 commit window: b1 and b2 commit, then b3 commits A again.
	var txs [][]byte
	for _, v := range h.val {
		txs = append(txs, h.tx(v, gaugeMsg(id)))
	}
	txs = append(txs, h.tx(b1, commitMsg(id, 1, A, salt("b1"), b1.addr)), h.tx(b2, commitMsg(id, 1, B, salt("b2"), b2.addr)))
	h.okBlock(txs...)
	if h.height != S {
		t.Fatalf("first round block %d, start %d", h.height, S)
	}
	h.okBlock(h.tx(b3, commitMsg(id, 1, A, salt("b3"), b3.addr)))              // S+1
	h.refuse(b1, commitMsg(id, 1, A, salt("b1"), b1.addr), ErrDuplicateCommit) // S+2
	h.refuse(b1, revealMsg(id, 1, A, salt("b1")), ErrOutsideWindow)            // S+3: still the commit window
	// Reveal window S+6..S+11: the copier reveals first, the owner after.
	h.to(S + 5)
	h.okBlock(h.tx(b3, revealMsg(id, 1, A, salt("b3"))))
	h.okBlock(h.tx(b1, revealMsg(id, 1, A, salt("b1"))), h.tx(b2, revealMsg(id, 1, B, salt("b2"))))
	h.refuse(b1, commitMsg(id, 1, B, salt("late"), b1.addr), ErrOutsideWindow) // S+8
	h.refuse(b2, revealMsg(id, 1, A, salt("b2")), ErrNoCommit)
	h.refuse(b2, revealMsg(id, 1, B, salt("b2")), ErrAlreadyRevealed)
	h.refuse(b2, revealMsg(id, 2, B, salt("b2")), ErrWrongRound) // S+11: the round freezes
	h.refuse(b2, revealMsg(id, 1, B, salt("b2")), ErrOutsideWindow)

	rv := h.round(id, 1)
	if !rv.Frozen || len(rv.Scored) != 2 || rv.Scored[0] != 0 || rv.Scored[1] != 1 || len(rv.Set) != 3 || rv.SetStake != 180*inf {
		t.Fatalf("frozen round: %+v", rv)
	}
	if s := rv.Submissions[2]; s.Status != StatusCopy || s.CopyOf == nil || *s.CopyOf != b1.addr {
		t.Fatalf("b3's submission: %+v", s)
	}

	// Attestations (window S+12..S+17): v2 scores B wrongly.
	sv := [][]Score{scores(900_000, 950_000), scores(900_500, 950_000), scores(900_000, 700_000)}
	h.refuse(h.acc[5], attestCommitMsg(id, 1, sv[0], salt("x"), h.acc[5].addr), ErrNotInSet) // S+13
	txs = nil
	for i, v := range h.val {
		txs = append(txs, h.tx(v, attestCommitMsg(id, 1, sv[i], salt(v.addr.String()), v.addr)))
	}
	h.okBlock(txs...)
	h.refuse(h.val[0], attestCommitMsg(id, 1, sv[0], salt("again"), h.val[0].addr), ErrAlreadyAttested)
	// No score can be revealed before the attest-commit window has closed.
	h.refuse(h.val[0], attestRevealMsg(id, 1, sv[0], salt(h.val[0].addr.String())), ErrOutsideWindow) // S+16
	h.to(S + 17)
	h.refuse(h.val[1], attestRevealMsg(id, 1, sv[0], salt(h.val[1].addr.String())), ErrHashMismatch)
	h.refuse(h.val[1], attestRevealMsg(id, 1, sv[0][:1], salt(h.val[1].addr.String())), ErrWrongScoreCount)
	txs = nil
	for i, v := range h.val {
		txs = append(txs, h.tx(v, attestRevealMsg(id, 1, sv[i], salt(v.addr.String()))))
	}
	h.okBlock(txs...)

	// Close at S+29.
	h.to(S + 28)
	before := map[keys.Address]uint64{}
	for _, a := range append(append([]account{}, h.acc...), h.val...) {
		before[a.addr] = h.balance(a.addr)
	}
	pool := h.pool(id)
	if pool == 0 {
		t.Fatal("the contest pool received no emission")
	}
	supply := h.supply()
	res := h.block()
	if (S+29)%10 == 0 {
		t.Fatalf("the close block %d is an epoch end; adjust the test", S+29)
	}
	if _, ok := findEvent(res.Events, "contest_round_closed"); !ok {
		t.Fatal("round not closed")
	}
	// Expected payouts, computed independently.
	builders, designerPay, validators := pool*500_000/1_000_000, pool*100_000/1_000_000, pool*400_000/1_000_000
	payB := builders * 2 / 3 // weights 1e12 : 5e11
	payA := builders * 1 / 3
	v0, v1 := validators*100/150, validators*50/150
	want := map[keys.Address]uint64{b1.addr: payA, b2.addr: payB, b3.addr: 0, designer.addr: designerPay, h.val[0].addr: v0, h.val[1].addr: v1, h.val[2].addr: 0}
	for a, w := range want {
		if got := h.balance(a) - before[a]; got != w {
			t.Errorf("%s received %d, want %d", a, got, w)
		}
	}
	paid := payA + payB + designerPay + v0 + v1
	if got := h.pool(id); got != pool-paid {
		t.Errorf("pool %d after, want %d - %d", got, pool, paid)
	}
	if s := h.supply(); s != supply {
		t.Errorf("supply changed by paying from the pool: %+v -> %+v", supply, s)
	}
	d := h.detail(id)
	if d.BestScore != 950_000 || d.BestBuilder == nil || *d.BestBuilder != b2.addr || d.BestModel != B.String() {
		t.Errorf("best: %d %v %s", d.BestScore, d.BestBuilder, d.BestModel)
	}
	if len(d.Leaderboard) != 2 || d.Leaderboard[0].Builder != b2.addr || *d.Leaderboard[0].AgreedScore != 950_000 || d.Leaderboard[1].Rank != 2 {
		t.Errorf("leaderboard: %+v", d.Leaderboard)
	}
	lr := d.LastRound
	if lr == nil || lr.Breakthroughs != 2 || lr.CarryBuilders != 0 || lr.CarryValidators != 0 || lr.BuildersPaid != payA+payB {
		t.Errorf("last round: %+v", lr)
	}
	rv = h.round(id, 1)
	for _, a := range rv.Attestations {
		if wantAgreed := h.valIndex(a.Validator) != 2; a.Agreed != wantAgreed {
			t.Errorf("attestation of v%d agreed=%v", h.valIndex(a.Validator), a.Agreed)
		}
	}
	if s := rv.Submissions[2]; s.Status != StatusCopy || s.Reward != 0 || s.AgreedScore != nil {
		t.Errorf("copy: %+v", s)
	}

	// Round 2: copying the winner earns nothing, even from a new account.
	h.okBlock(h.tx(h.acc[5], commitMsg(id, 2, B, salt("c5"), h.acc[5].addr)))
	h.to(S + 30 + 5)
	h.okBlock(h.tx(h.acc[5], revealMsg(id, 2, B, salt("c5"))))
	subs := h.round(id, 2).Submissions
	if len(subs) != 1 || subs[0].Status != StatusCopy || *subs[0].CopyOf != b2.addr {
		t.Fatalf("round 2: %+v", subs)
	}
	// Nothing scored in round 2: the builders' and validators' shares roll over.
	h.to(S + 58)
	pool2 := h.pool(id)
	carried := lr.CarryBuilders + lr.CarryValidators // zero after round 1
	h.block()
	d = h.detail(id)
	fresh := pool2 - carried
	if d.LastRound.Round != 2 || d.CarryBuilders != fresh*500_000/1_000_000 || d.CarryValidators != fresh*400_000/1_000_000 || d.LastRound.Breakthroughs != 0 {
		t.Errorf("round 2 rollover: fresh %d, %+v", fresh, d.LastRound)
	}
	if got := h.pool(id); got != pool2-fresh*100_000/1_000_000 {
		t.Errorf("after round 2 the pool is %d, want %d minus the designer's share", got, pool2)
	}
}

func findEvent(evs []ledger.Event, typ string) (ledger.Event, bool) {
	for _, e := range evs {
		if e.Type == typ {
			return e, true
		}
	}
	return ledger.Event{}, false
}
