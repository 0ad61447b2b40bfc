package contest

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/gov"
)

type entry struct {
	who   account
	model cid.Cid
}

// playRound runs round r of contest id (round 1 starting at S, the test
// spec's 6-block windows): entries commit and reveal, each validator i
// with scoreOf(i, scored) != nil attests it, and the round closes.
func (h *harness) playRound(id, S, r uint64, entries []entry, scoreOf func(v int, scored []Submission) []Score) RoundView {
	h.t.Helper()
	start := S + (r-1)*30
	h.to(start - 1)
	var txs [][]byte
	if r == 1 { // the validators direct the gauge at the contest
		for _, v := range h.val {
			txs = append(txs, h.tx(v, gaugeMsg(id)))
		}
	}
	for i, e := range entries {
		txs = append(txs, h.tx(e.who, commitMsg(id, r, e.model, salt(string(rune('a'+i))), e.who.addr)))
	}
	h.okBlock(txs...)
	h.to(start + 5)
	txs = nil
	for i, e := range entries {
		txs = append(txs, h.tx(e.who, revealMsg(id, r, e.model, salt(string(rune('a'+i))))))
	}
	h.okBlock(txs...)
	h.to(start + 11)
	rv := h.round(id, r)
	var scored []Submission
	for _, i := range rv.Scored {
		scored = append(scored, rv.Submissions[i])
	}
	given := map[int][]Score{}
	txs = nil
	for i, v := range h.val {
		if sc := scoreOf(i, scored); sc != nil {
			given[i] = sc
			txs = append(txs, h.tx(v, attestCommitMsg(id, r, sc, salt(v.addr.String()), v.addr)))
		}
	}
	h.okBlock(txs...)
	h.to(start + 17)
	txs = nil
	for i, v := range h.val {
		if sc, ok := given[i]; ok {
			txs = append(txs, h.tx(v, attestRevealMsg(id, r, sc, salt(v.addr.String()))))
		}
	}
	h.okBlock(txs...)
	h.to(start + 29)
	return h.round(id, r)
}

// TestAbstentionAndQuorum: abstentions do not count towards quorum; a
// submission without quorum gets no agreed score and cannot win, and an
// abstaining validator still earns for what it agreed on.
func TestAbstentionAndQuorum(t *testing.T) {
	h := newHarness(t, selfBonds) // stakes 100, 50, 30 of 180; quorum 50%
	id, S := h.create(testSpec(h.acc[4].addr))
	A, B := modelCID("A"), modelCID("B")
	rv := h.playRound(id, S, 1, []entry{{h.acc[1], A}, {h.acc[2], B}}, func(v int, _ []Submission) []Score {
		if v == 0 { // the largest validator abstains on B: 80 of 180 left, below quorum
			return []Score{{Value: 900_000}, {Abstain: true}}
		}
		return scores(900_000, 990_000)
	})
	a, b := rv.Submissions[0], rv.Submissions[1]
	if a.Status != StatusAgreed || *a.AgreedScore != 900_000 || a.AttestingStake != 180*inf || !a.Breakthrough {
		t.Errorf("A: %+v", a)
	}
	if b.Status != StatusNoQuorum || b.AgreedScore != nil || b.AttestingStake != 80*inf || b.Reward != 0 {
		t.Errorf("B: %+v", b)
	}
	for _, at := range rv.Attestations {
		if !at.Agreed || at.Reward == 0 {
			t.Errorf("attestation %+v should earn", at)
		}
	}
	if d := h.detail(id); d.BestScore != 900_000 || d.LastRound.Breakthroughs != 1 {
		t.Errorf("best %d, %+v", d.BestScore, d.LastRound)
	}
}

// TestRolloverThenBreakthrough: a round whose agreed scores do not beat
// the best by min_improvement pays no builder and carries the builders'
// share; the next breakthrough receives the carried share too.
func TestRolloverThenBreakthrough(t *testing.T) {
	h := newHarness(t, selfBonds)
	spec := testSpec(h.acc[4].addr)
	spec.Reward = RewardCurve{Curve: CurveWinnerTakeAll}
	id, S := h.create(spec)
	same := func(v int64) func(int, []Submission) []Score {
		return func(int, []Submission) []Score { return scores(v) }
	}
	h.playRound(id, S, 1, []entry{{h.acc[1], modelCID("weak")}}, same(805_000)) // +5000 < min_improvement 10000
	d1 := h.detail(id)
	fresh1 := d1.LastRound.Fresh
	if d1.LastRound.Breakthroughs != 0 || d1.CarryBuilders != fresh1/2 || d1.CarryValidators != 0 || d1.LastRound.ValidatorsPaid == 0 {
		t.Fatalf("round 1: %+v", d1.LastRound)
	}
	if d1.BestScore != spec.Baseline {
		t.Fatalf("best moved without a breakthrough: %d", d1.BestScore)
	}
	bal := h.balance(h.acc[2].addr)
	h.playRound(id, S, 2, []entry{{h.acc[2], modelCID("strong")}}, same(830_000))
	d2 := h.detail(id)
	lr := d2.LastRound
	wantPot := d1.CarryBuilders + (lr.Pool-d1.CarryBuilders)/2
	if lr.Fresh != lr.Pool-d1.CarryBuilders || lr.BuildersPot != wantPot || lr.BuildersPaid != wantPot || d2.CarryBuilders != 0 {
		t.Errorf("round 2: carried %d, %+v", d1.CarryBuilders, lr)
	}
	if got := h.balance(h.acc[2].addr) - bal; got != wantPot-2*testFee {
		t.Errorf("winner received %d, want %d (less two fees)", got, wantPot)
	}
	if d2.BestScore != 830_000 {
		t.Errorf("best %d", d2.BestScore)
	}
}

// TestMinimizeProportional: direction minimize, proportional curve.
func TestMinimizeProportional(t *testing.T) {
	h := newHarness(t, selfBonds)
	spec := testSpec(h.acc[4].addr)
	spec.Evaluator, spec.Metric, spec.Direction = Evaluator{Builtin: "mlp-mse"}, "mse", DirectionMinimize
	spec.Baseline, spec.MinImprovement = 500_000, 1
	spec.Reward = RewardCurve{Curve: CurveProportional}
	id, S := h.create(spec)
	rv := h.playRound(id, S, 1, []entry{{h.acc[1], modelCID("x")}, {h.acc[2], modelCID("y")}, {h.acc[3], modelCID("z")}},
		func(int, []Submission) []Score { return scores(400_000, 300_000, 600_000) })
	x, y, z := rv.Submissions[0], rv.Submissions[1], rv.Submissions[2]
	pot := h.detail(id).LastRound.BuildersPot
	if y.Rank != 1 || x.Rank != 2 || z.Breakthrough || y.Reward != pot*200_000/300_000 || x.Reward != pot*100_000/300_000 {
		t.Errorf("x %+v\ny %+v\nz %+v (pot %d)", x, y, z, pot)
	}
}

// TestRetireBurnsPool: retiring leaves the gauge, burns the pool and
// refuses further submissions.
func TestRetireBurnsPool(t *testing.T) {
	h := newHarness(t, selfBonds)
	id, S := h.create(testSpec(h.acc[4].addr))
	var txs [][]byte
	for _, v := range h.val {
		txs = append(txs, h.tx(v, gaugeMsg(id)))
	}
	h.okBlock(txs...)
	h.to(S + 25) // two epochs fed the pool
	res := h.okBlock(h.tx(h.acc[0], ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{
		Title: "retire", Content: NewRetireContent(id), InitialDeposit: 1000,
	})))
	var pid uint64
	if e, ok := findEvent(res.Txs[0].Events, "proposal_submitted"); ok {
		pid = parseU64(e.Attrs["proposal_id"])
	}
	txs = nil
	for _, v := range h.val {
		txs = append(txs, h.tx(v, ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: pid, Option: gov.OptionYes})))
	}
	h.okBlock(txs...)
	var retiredAt uint64
	var burned uint64
	for i := 0; i < 10 && retiredAt == 0; i++ {
		pool, burnedBefore := h.pool(id), h.supply().Burned
		res := h.block()
		if e, ok := findEvent(res.Events, "contest_retired"); ok {
			retiredAt, burned = h.height, parseU64(e.Attrs["burned"])
			if burned != pool || burned == 0 || h.supply().Burned != burnedBefore+burned || h.pool(id) != 0 {
				t.Fatalf("retire burned %d of pool %d; burned total %d -> %d", burned, pool, burnedBefore, h.supply().Burned)
			}
		}
	}
	if retiredAt == 0 {
		t.Fatal("not retired")
	}
	h.view(func(ctx *ledger.Context) {
		if h.em.IsLive(ctx, PoolName(id)) {
			t.Error("still in the gauge")
		}
	})
	d := h.detail(id)
	if d.Status != StatusRetired || d.Burned != burned || d.Round.Phase != PhaseRetired {
		t.Errorf("detail: %+v", d.ContestInfo)
	}
	h.refuse(h.acc[1], commitMsg(id, d.Round.Round, modelCID("late"), salt("l"), h.acc[1].addr), ErrNotLive)
	h.to(h.height + 40) // no epoch may refill it, no round may close
	if h.pool(id) != 0 {
		t.Errorf("retired pool refilled: %d", h.pool(id))
	}
	// Retiring twice is refused at submission.
	res = h.block(h.tx(h.acc[0], ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{
		Title: "again", Content: NewRetireContent(id), InitialDeposit: 1000,
	})))
	if res.Txs[0].OK || !errors.Is(res.Txs[0].Err(), ErrAlreadyRetired) {
		t.Errorf("second retire: %v", res.Txs[0].Err())
	}
}

func parseU64(s string) (v uint64) {
	for _, c := range s {
		v = v*10 + uint64(c-'0')
	}
	return v
}

// TestSealedDataset: the designer reveals a sealed dataset only after the
// builders' reveal window and only with the committed CID and salt.
func TestSealedDataset(t *testing.T) {
	h := newHarness(t, selfBonds)
	designer := h.acc[4]
	secret := modelCID("hidden test set")
	spec := testSpec(designer.addr)
	spec.Datasets = append(spec.Datasets, Dataset{Name: "hidden", Policy: PolicySealed, Commitment: DatasetCommitment(secret, salt("ds"))})
	id, S := h.create(spec)
	msg := func(c cid.Cid, s []byte) ledger.Msg {
		return ledger.NewMsg(MsgTypeRevealDataset, MsgRevealDataset{Contest: id, Dataset: 1, CID: c.String(), Salt: s})
	}
	h.to(S)
	h.refuse(designer, msg(secret, salt("ds")), ErrOutsideWindow)
	h.to(S + 11)
	h.refuse(h.acc[1], msg(secret, salt("ds")), ErrNotDesigner)
	h.refuse(designer, msg(secret, salt("other")), ErrHashMismatch)
	h.refuse(designer, ledger.NewMsg(MsgTypeRevealDataset, MsgRevealDataset{Contest: id, Dataset: 0, CID: secret.String(), Salt: salt("ds")}), ErrBadDataset)
	h.okBlock(h.tx(designer, msg(secret, salt("ds"))))
	if d := h.detail(id); d.DatasetCIDs[1] != secret.String() || d.DatasetCIDs[0] != spec.Datasets[0].CID {
		t.Errorf("dataset CIDs: %v", d.DatasetCIDs)
	}
	h.refuse(designer, msg(secret, salt("ds")), ErrBadDataset)
}

// TestSpecErrorsNameTheField: each kind of problem names its field, and a
// proposal with a bad spec is refused at submission.
func TestSpecErrorsNameTheField(t *testing.T) {
	designer := modelCIDAddr()
	cases := []struct {
		field string
		edit  func(*Spec)
	}{
		{"name", func(s *Spec) { s.Name = "" }},
		{"objective", func(s *Spec) { s.Objective = " " }},
		{"designer", func(s *Spec) { s.Designer = [20]byte{} }},
		{"datasets[0].cid", func(s *Spec) { s.Datasets[0].CID = "not-a-cid" }},
		{"evaluator.wasm", func(s *Spec) { s.Evaluator = Evaluator{Wasm: "bafy-nope"} }},
		{"split", func(s *Spec) { s.Split.DesignerPPM = 90_000 }},
		{"evaluator.builtin", func(s *Spec) { s.Evaluator.Builtin = "gpt-judge" }},
		{"evaluator", func(s *Spec) { s.Evaluator = Evaluator{} }},
		{"datasets", func(s *Spec) { s.Datasets = nil }},
		{"datasets[0].policy", func(s *Spec) { s.Datasets[0].Policy = "secret" }},
		{"direction", func(s *Spec) { s.Direction = "up" }},
		{"validators.policy", func(s *Spec) { s.Validators.Policy = "some" }},
		{"validators.quorum_ppm", func(s *Spec) { s.Validators.QuorumPPM = 0 }},
		{"reward.k", func(s *Spec) { s.Reward.K = 0 }},
		{"schedule", func(s *Spec) { s.Schedule.RoundLengthBlocks = 10 }},
		{"schedule.commit_blocks", func(s *Spec) { s.Schedule.CommitBlocks = 0 }},
		{"min_improvement", func(s *Spec) { s.MinImprovement = -1 }},
	}
	for _, c := range cases {
		s := testSpec(designer)
		s.Datasets = append([]Dataset(nil), s.Datasets...)
		c.edit(&s)
		err := s.Validate()
		var fe *FieldError
		if !errors.Is(err, ErrInvalidSpec) || !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: got %v", c.field, err)
			continue
		}
		if !strings.Contains(err.Error(), c.field+": ") {
			t.Errorf("%s: message %q does not name the field", c.field, err)
		}
	}
	s := testSpec(designer)
	s.Split.DesignerPPM = 90_000
	if err := s.Validate(); !strings.Contains(err.Error(), "split: builders_ppm + designer_ppm + validators_ppm = 990000, want 1000000") {
		t.Errorf("split message: %v", err)
	}
	s = testSpec(designer)
	s.Name, s.Metric = "", ""
	if p := s.Problems(); len(p) != 2 || p[0].Field != "name" || p[1].Field != "metric" {
		t.Errorf("every problem is listed: %v", p)
	}
	if err := s.Validate(); err == nil {
		t.Error("valid")
	}
	ok := testSpec(designer)
	if err := ok.Validate(); err != nil {
		t.Fatalf("the test spec is invalid: %v", err)
	}

	// Through governance.
	h := newHarness(t, selfBonds)
	bad := testSpec(h.acc[4].addr)
	bad.Evaluator.Builtin = "gpt-judge"
	res := h.block(h.tx(h.acc[0], ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{
		Title: "bad", Content: NewCreateContent(bad), InitialDeposit: 1000,
	})))
	if err := res.Txs[0].Err(); res.Txs[0].OK || !errors.Is(err, gov.ErrInvalidContent) || !strings.Contains(err.Error(), "evaluator.builtin") {
		t.Errorf("bad spec proposal: %v", err)
	}
}

func modelCIDAddr() (a [20]byte) {
	copy(a[:], modelCID("designer").Bytes()[4:])
	return a
}

// TestCommitCaps: one sender may commit at most MaxCommitsPerBuilder
// times per round.
func TestCommitCaps(t *testing.T) {
	h := newHarness(t, selfBonds)
	id, S := h.create(testSpec(h.acc[4].addr))
	h.to(S - 1)
	var msgs []ledger.Msg
	for i := 0; i < MaxCommitsPerBuilder; i++ {
		msgs = append(msgs, commitMsg(id, 1, modelCID(string(rune('a'+i))), salt("s"), h.acc[1].addr))
	}
	h.okBlock(h.tx(h.acc[1], msgs...))
	h.refuse(h.acc[1], commitMsg(id, 1, modelCID("one more"), salt("s"), h.acc[1].addr), ErrTooManyCommits)
	h.okBlock(h.tx(h.acc[2], commitMsg(id, 1, modelCID("one more"), salt("s"), h.acc[2].addr)))
	if n := len(h.round(id, 1).Submissions); n != MaxCommitsPerBuilder+1 {
		t.Errorf("%d submissions", n)
	}
}
