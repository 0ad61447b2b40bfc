package gov

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
)

func TestSubmitDepositVote(t *testing.T) {
	h := newHarness(t, testParams())
	a0, a1 := h.acc[0], h.acc[1]
	start0, start1 := h.balance(a0.addr), h.balance(a1.addr)

	id := h.submit(a0, NewText(), 400)
	p := h.proposal(id)
	if id != 1 || p.Status != StatusDepositPeriod || p.TotalDeposit != 400 || p.Proposer != a0.addr {
		t.Fatalf("after submit: %+v", p)
	}
	if p.DepositEnd != p.SubmitTime+100*int64(time.Second) {
		t.Fatalf("deposit end %d, submitted %d", p.DepositEnd, p.SubmitTime)
	}
	if got := h.balance(a0.addr); got != start0-testFee-400 {
		t.Fatalf("a0 balance %d", got)
	}
	if h.escrowed() != 400 {
		t.Fatalf("escrowed %d", h.escrowed())
	}

	r := h.ok(a1, MsgTypeDeposit, MsgDeposit{ProposalID: id, Amount: 600})
	if _, ok := findEvent(r.Events, "voting_period_start"); !ok {
		t.Fatalf("no voting_period_start event: %+v", r.Events)
	}
	p = h.proposal(id)
	if p.Status != StatusVotingPeriod || p.TotalDeposit != 1000 || p.VotingEnd != p.VotingStart+100*int64(time.Second) {
		t.Fatalf("after deposit: %+v", p)
	}
	h.view(func(ctx *ledger.Context) {
		ds, err := h.gov.Deposits(ctx, id)
		if err != nil || len(ds) != 2 {
			t.Fatalf("deposits %v %v", ds, err)
		}
		for _, d := range ds {
			if (d.Depositor == a0.addr && d.Amount != 400) || (d.Depositor == a1.addr && d.Amount != 600) {
				t.Fatalf("deposit %+v", d)
			}
		}
	})

	r = h.ok(h.val[0], MsgTypeVote, MsgVote{ProposalID: id, Option: OptionAbstain})
	if e, ok := findEvent(r.Events, "vote"); !ok || e.Attrs["option"] != "abstain" {
		t.Fatalf("vote event %+v", r.Events)
	}
	h.vote(h.val[1], id, OptionNo)
	h.vote(a1, id, OptionNo)        // no stake: counts nothing
	h.vote(h.val[0], id, OptionYes) // changes its vote
	h.view(func(ctx *ledger.Context) {
		vs, err := h.gov.Votes(ctx, id)
		if err != nil || len(vs) != 3 {
			t.Fatalf("votes %v %v", vs, err)
		}
		tally, err := h.gov.TallyNow(ctx, id)
		want := TallyResult{Yes: 100 * inf, No: 50 * inf, TotalBonded: 180 * inf}
		if err != nil || tally != want {
			t.Fatalf("tally %+v, want %+v (%v)", tally, want, err)
		}
		if got := h.gov.Params(ctx); got != testParams() {
			t.Fatalf("params %+v", got)
		}
		if ps := h.gov.Proposals(ctx); len(ps) != 1 || ps[0].ID != id {
			t.Fatalf("proposals %+v", ps)
		}
	})

	res := h.endVoting(id)
	if _, ok := findEvent(res.Events, "proposal_passed"); !ok {
		t.Fatalf("no proposal_passed event: %+v", res.Events)
	}
	p = h.proposal(id)
	if p.Status != StatusPassed || p.FinalTally.Yes != 100*inf || p.FinalTally.No != 50*inf {
		t.Fatalf("final %+v", p)
	}
	if got := h.balance(a0.addr); got != start0-testFee {
		t.Fatalf("a0 not refunded: %d", got)
	}
	if got := h.balance(a1.addr); got != start1-2*testFee {
		t.Fatalf("a1 not refunded: %d", got)
	}
	h.view(func(ctx *ledger.Context) {
		vs, _ := h.gov.Votes(ctx, id)
		ds, _ := h.gov.Deposits(ctx, id)
		tally, _ := h.gov.TallyNow(ctx, id)
		if len(vs) != 0 || len(ds) != 0 || tally != p.FinalTally {
			t.Fatalf("after tally: votes %v deposits %v tally %+v", vs, ds, tally)
		}
	})
	if h.escrowed() != 0 {
		t.Fatalf("escrowed %d", h.escrowed())
	}
	// The proposal queries speak JSON for the API.
	raw, err := json.Marshal(p)
	if err != nil || !strings.Contains(string(raw), `"status":"passed"`) {
		t.Fatalf("json %s %v", raw, err)
	}
}

func TestRejections(t *testing.T) {
	h := newHarness(t, testParams())
	a0, a1, a2 := h.acc[0], h.acc[1], h.acc[2]
	inDeposit := h.submit(a0, NewText(), 500)
	voting := h.submit(a0, NewText(), 1000)
	sub := func(title string, c Content, dep uint64) MsgSubmitProposal {
		return MsgSubmitProposal{Title: title, Description: "d", Content: c, InitialDeposit: dep}
	}
	cases := []struct {
		name string
		typ  string
		msg  any
		want error
	}{
		{"deposit on unknown proposal", MsgTypeDeposit, MsgDeposit{ProposalID: 99, Amount: 1}, ErrUnknownProposal},
		{"vote on unknown proposal", MsgTypeVote, MsgVote{ProposalID: 99, Option: OptionYes}, ErrUnknownProposal},
		{"vote in deposit period", MsgTypeVote, MsgVote{ProposalID: inDeposit, Option: OptionYes}, ErrNotVotingPeriod},
		{"deposit in voting period", MsgTypeDeposit, MsgDeposit{ProposalID: voting, Amount: 1}, ErrNotDepositPeriod},
		{"vote option 0", MsgTypeVote, MsgVote{ProposalID: voting, Option: 0}, ErrInvalidVoteOption},
		{"vote option 5", MsgTypeVote, MsgVote{ProposalID: voting, Option: 5}, ErrInvalidVoteOption},
		{"unknown content kind", MsgTypeSubmitProposal, sub("t", Content{Kind: "nope"}, 10), ErrInvalidContent},
		{"text with a value", MsgTypeSubmitProposal, sub("t", Content{Kind: KindText, Value: []byte{1}}, 10), ErrInvalidContent},
		{"zero initial deposit", MsgTypeSubmitProposal, sub("t", NewText(), 0), ErrDepositTooSmall},
		{"empty title", MsgTypeSubmitProposal, sub(" ", NewText(), 10), ledger.ErrInvalidMsg},
		{"long title", MsgTypeSubmitProposal, sub(strings.Repeat("x", MaxTitleBytes+1), NewText(), 10), ledger.ErrInvalidMsg},
		{"initial deposit above balance", MsgTypeSubmitProposal, sub("t", NewText(), 20_000*inf), ledger.ErrInsufficientFunds},
		{"zero deposit", MsgTypeDeposit, MsgDeposit{ProposalID: inDeposit, Amount: 0}, ledger.ErrInvalidMsg},
		{"deposit above balance", MsgTypeDeposit, MsgDeposit{ProposalID: inDeposit, Amount: 20_000 * inf}, ledger.ErrInsufficientFunds},
		{"malformed vote", MsgTypeVote, codec.RawMessage(codec.MustMarshal("yes")), ledger.ErrInvalidMsg},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			h.refuse(a2, c.typ, c.msg, c.want)
		})
	}
	h.t = t

	// At voting end, before end-block tallies: the period is half-open.
	p := h.proposal(voting)
	r := h.block(time.Duration(p.VotingEnd-h.now), h.sign(a1, ledger.NewMsg(MsgTypeVote, MsgVote{ProposalID: voting, Option: OptionYes}))).Txs[0]
	if !errors.Is(r.Err(), ErrNotVotingPeriod) {
		t.Fatalf("vote at voting end: %v", r.Err())
	}
	if got := h.proposal(voting).Status; got != StatusRejected {
		t.Fatalf("status %s, want rejected (no votes)", got)
	}
	h.refuse(a1, MsgTypeVote, MsgVote{ProposalID: voting, Option: OptionYes}, ErrNotVotingPeriod)
	h.refuse(a1, MsgTypeDeposit, MsgDeposit{ProposalID: voting, Amount: 5}, ErrNotDepositPeriod)

	// inDeposit's deposit period (submitted one second before voting) has
	// ended by now.
	if got := h.proposal(inDeposit).Status; got != StatusExpired {
		t.Fatalf("status %s, want expired", got)
	}
	h.refuse(a1, MsgTypeDeposit, MsgDeposit{ProposalID: inDeposit, Amount: 5}, ErrNotDepositPeriod)
}

// outcome runs one proposal (a0 deposits 600, a1 400) through a vote by the
// given operators and returns the harness and the final proposal.
func outcome(t *testing.T, votes map[int]VoteOption) (*harness, Proposal, uint64, uint64, uint64) {
	h := newHarness(t, testParams())
	a0, a1 := h.acc[0], h.acc[1]
	start0, start1 := h.balance(a0.addr), h.balance(a1.addr)
	id := h.submit(a0, NewText(), 600)
	h.ok(a1, MsgTypeDeposit, MsgDeposit{ProposalID: id, Amount: 400})
	for i := 0; i < len(h.val); i++ {
		if o, ok := votes[i]; ok {
			h.vote(h.val[i], id, o)
		}
	}
	burned := h.burned()
	h.endVoting(id)
	if h.escrowed() != 0 {
		t.Fatalf("escrow left: %d", h.escrowed())
	}
	return h, h.proposal(id), start0, start1, h.burned() - burned
}

func TestOutcomes(t *testing.T) {
	cases := []struct {
		name   string
		votes  map[int]VoteOption
		status Status
		burn   bool
	}{
		{"passed", map[int]VoteOption{0: OptionYes, 1: OptionNo}, StatusPassed, false},
		{"rejected by majority", map[int]VoteOption{0: OptionNo, 1: OptionYes, 2: OptionYes}, StatusRejected, false},
		{"vetoed", map[int]VoteOption{0: OptionYes, 1: OptionVeto, 2: OptionVeto}, StatusVetoed, true},
		{"no quorum", map[int]VoteOption{2: OptionYes}, StatusRejected, false},
		{"all abstain", map[int]VoteOption{0: OptionAbstain}, StatusRejected, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, p, start0, start1, burned := outcome(t, c.votes)
			if p.Status != c.status {
				t.Fatalf("status %s (%s), want %s", p.Status, p.Result, c.status)
			}
			want0, want1, wantBurn := start0-testFee, start1-testFee, uint64(0)
			if c.burn {
				want0, want1, wantBurn = want0-600, want1-400, 1000
			}
			if g0, g1 := h.balance(h.acc[0].addr), h.balance(h.acc[1].addr); g0 != want0 || g1 != want1 {
				t.Fatalf("balances %d %d, want %d %d", g0, g1, want0, want1)
			}
			if burned != wantBurn {
				t.Fatalf("burned %d in the tally block, want %d", burned, wantBurn)
			}
		})
	}
}

func TestExpiredDepositIsBurned(t *testing.T) {
	h := newHarness(t, testParams())
	a0, a1 := h.acc[0], h.acc[1]
	start0, start1 := h.balance(a0.addr), h.balance(a1.addr)
	id := h.submit(a0, NewText(), 500)
	h.ok(a1, MsgTypeDeposit, MsgDeposit{ProposalID: id, Amount: 499}) // 999 < 1000
	p := h.proposal(id)
	burned := h.burned()
	h.block(time.Duration(p.DepositEnd - h.now - 1))
	if h.proposal(id).Status != StatusDepositPeriod {
		t.Fatal("expired early")
	}
	res := h.block(1)
	if e, ok := findEvent(res.Events, "proposal_expired"); !ok || e.Attrs["burned"] != "999" {
		t.Fatalf("events %+v", res.Events)
	}
	if got := h.proposal(id).Status; got != StatusExpired {
		t.Fatalf("status %s", got)
	}
	if h.burned()-burned != 999 || h.escrowed() != 0 {
		t.Fatalf("burned %d escrowed %d", h.burned()-burned, h.escrowed())
	}
	if h.balance(a0.addr) != start0-testFee-500 || h.balance(a1.addr) != start1-testFee-499 {
		t.Fatal("deposits were refunded")
	}
}

// TestDelegatorOverridesValidator: a3 delegates 60 INF to v0 (v0: 160 INF).
// v0 votes yes, v1 and v2 no: 160 yes to 80 no passes. When a3 votes no
// itself, its 60 leave v0's vote: 100 yes to 140 no, rejected.
func TestDelegatorOverridesValidator(t *testing.T) {
	h := newHarness(t, testParams())
	a3, a4 := h.acc[3], h.acc[4]
	h.ok(a3, staking.MsgTypeDelegate, staking.MsgDelegate{Validator: h.val[0].addr, Amount: 60 * inf})
	h.ok(a4, staking.MsgTypeDelegate, staking.MsgDelegate{Validator: h.val[1].addr, Amount: 10 * inf})

	inherit := h.submit(h.acc[0], NewText(), 1000)
	override := h.submit(h.acc[0], NewText(), 1000)
	for _, id := range []uint64{inherit, override} {
		h.vote(h.val[0], id, OptionYes)
		h.vote(h.val[1], id, OptionNo)
		h.vote(h.val[2], id, OptionNo)
	}
	h.vote(a3, override, OptionNo)
	h.vote(a4, override, OptionAbstain)
	h.view(func(ctx *ledger.Context) {
		for id, want := range map[uint64]TallyResult{
			inherit:  {Yes: 160 * inf, No: 90 * inf, TotalBonded: 250 * inf},
			override: {Yes: 100 * inf, No: 140 * inf, Abstain: 10 * inf, TotalBonded: 250 * inf},
		} {
			if got, err := h.gov.TallyNow(ctx, id); err != nil || got != want {
				t.Fatalf("proposal %d: tally %+v, want %+v (%v)", id, got, want, err)
			}
		}
	})
	h.endVoting(override)
	if s := h.proposal(inherit).Status; s != StatusPassed {
		t.Fatalf("inherit: %s", s)
	}
	if p := h.proposal(override); p.Status != StatusRejected {
		t.Fatalf("override: %s (%s)", p.Status, p.Result)
	}
}

func TestDecideBoundaries(t *testing.T) {
	p := DefaultParams() // quorum 33.4%, threshold 50%, veto 33.4%
	cases := []struct {
		name string
		t    TallyResult
		want Status
	}{
		{"quorum exactly met", TallyResult{Yes: 334, TotalBonded: 1000}, StatusPassed},
		{"quorum missed by one", TallyResult{Yes: 333, TotalBonded: 1000}, StatusRejected},
		{"threshold exactly half", TallyResult{Yes: 500, No: 500, TotalBonded: 1000}, StatusRejected},
		{"threshold just above", TallyResult{Yes: 501, No: 499, TotalBonded: 1000}, StatusPassed},
		{"abstain does not count for threshold", TallyResult{Yes: 2, No: 1, Abstain: 997, TotalBonded: 1000}, StatusPassed},
		{"veto exactly at threshold", TallyResult{Yes: 666, Veto: 334, TotalBonded: 1000}, StatusPassed},
		{"veto above threshold", TallyResult{Yes: 665, Veto: 335, TotalBonded: 1000}, StatusVetoed},
		{"no bonded stake", TallyResult{}, StatusRejected},
		{"huge amounts", TallyResult{Yes: 1 << 62, No: 1<<62 - 1, TotalBonded: 1<<63 - 1}, StatusPassed},
	}
	for _, c := range cases {
		if got, why := decide(c.t, p); got != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, got, why, c.want)
		}
	}
}

func TestGenesisParams(t *testing.T) {
	cases := map[string]string{
		`{"quorum_ppm": 1000001}`:     "params.gov.quorum_ppm",
		`{"threshold_ppm": 2000000}`:  "params.gov.threshold_ppm",
		`{"veto_threshold_ppm": 1e7}`: "params.gov",
		`{"voting_period_s": 0}`:      "params.gov.voting_period_s",
		`{"max_deposit_period_s": 0}`: "params.gov.max_deposit_period_s",
		`{"min_deposit": 0}`:          "params.gov.min_deposit",
		`{"nope": 1}`:                 "params.gov",
	}
	m := New(bank.New(), nil, nil)
	for raw, field := range cases {
		g := &ledger.Genesis{Params: map[string]json.RawMessage{Name: json.RawMessage(raw)}}
		err := m.ValidateGenesis(g)
		var ge *ledger.GenesisError
		if !errors.As(err, &ge) || ge.Field != field {
			t.Errorf("%s: %v, want a genesis error on %s", raw, err, field)
		}
	}
	if err := m.ValidateGenesis(&ledger.Genesis{}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestDeterministic replays one scenario (deposits, delegation, votes, a
// pass, a veto, an expiry and a param change) on two fresh ledgers and
// compares the app hash after every block.
func TestDeterministic(t *testing.T) {
	var hashes [2][][32]byte
	for run := range hashes {
		h := newHarness(t, testParams())
		record := func() { hashes[run] = append(hashes[run], h.st.AppHash()) }
		h.ok(h.acc[3], staking.MsgTypeDelegate, staking.MsgDelegate{Validator: h.val[1].addr, Amount: 20 * inf})
		a := h.submit(h.acc[0], NewText(), 1000)
		b := h.submit(h.acc[1], NewParamChange(change(bank.Name, "min_fee", "100")), 700)
		h.ok(h.acc[2], MsgTypeDeposit, MsgDeposit{ProposalID: b, Amount: 300})
		h.submit(h.acc[2], NewText(), 10) // expires
		record()
		h.vote(h.val[0], a, OptionYes)
		h.vote(h.val[1], a, OptionVeto)
		h.vote(h.val[2], a, OptionVeto)
		h.vote(h.acc[3], a, OptionYes)
		h.vote(h.val[0], b, OptionYes)
		record()
		h.block(200 * time.Second)
		record()
		if h.proposal(a).Status != StatusVetoed || h.proposal(b).Status != StatusPassed || h.proposal(3).Status != StatusExpired {
			t.Fatalf("statuses %s %s %s", h.proposal(a).Status, h.proposal(b).Status, h.proposal(3).Status)
		}
	}
	for i := range hashes[0] {
		if hashes[0][i] != hashes[1][i] {
			t.Fatalf("app hash %d differs between runs", i)
		}
	}
}
