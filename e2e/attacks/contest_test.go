package attacks

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/codec"
	contestdemo "github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/node/api"
)

const demoSeed = 1

// contestFiles are the demo contest's dataset and models, added to node 0.
func contestFiles() map[string][]byte {
	return map[string][]byte{
		"dataset":   contestdemo.Dataset(demoSeed),
		"baseline":  contestdemo.BaselineModel(demoSeed),
		"better":    contestdemo.BetterModel(demoSeed),
		wrappedName: contestdemo.BetterModel(demoSeed),
	}
}

// attackSpec is the devnet demo's contest (cmd/inferd/devnet_demo.go),
// every validator evaluates, 30-block rounds, but paying the top 5.
func attackSpec(t *testing.T, d *devnet, designer keys.Address) contest.Spec {
	ev, _ := eval.Builtin("mlp-accuracy")
	base, err := ev.Evaluate(context.Background(), contestdemo.BaselineModel(demoSeed), contestdemo.Dataset(demoSeed))
	if err != nil {
		t.Fatal(err)
	}
	return contest.Spec{
		Name: "attack-points", Objective: "Classify the demo's 2-D points; accuracy on the public set.",
		Designer:  designer,
		Evaluator: contest.Evaluator{Builtin: "mlp-accuracy"},
		Datasets:  []contest.Dataset{{Name: "points", CID: d.files["dataset"].String(), Policy: contest.PolicyPublic}},
		Metric:    "accuracy", Direction: contest.DirectionMaximize,
		Baseline: base, MinImprovement: 10_000,
		Validators: contest.ValidatorPolicy{Policy: contest.ValidatorsAll, QuorumPPM: 666_667},
		// Top 5, geometric (the copy round: an undetected copy that ties
		// the original would be paid rank 2's share).
		Reward:    contest.RewardCurve{Curve: contest.CurveTopKGeometric, K: 5, RatioPPM: 500_000},
		Split:     contest.Split{BuildersPPM: 700_000, DesignerPPM: 100_000, ValidatorsPPM: 200_000},
		Schedule:  contest.Schedule{RoundLengthBlocks: 30, CommitBlocks: 8, RevealBlocks: 6, AttestCommitBlocks: 8, AttestRevealBlocks: 6},
		Tolerance: contest.Tolerance{Absolute: 1},
	}
}

// passProposal submits content from s at min_deposit, has every voter
// vote yes, and waits for it to pass; it returns the proposal and the
// height it ended at (its content ran in that block).
func passProposal(t *testing.T, d *devnet, s *sender, voters []*sender, title string, c gov.Content) api.ProposalResponse {
	t.Helper()
	var gp gov.Params
	d.params(gov.Name, &gp)
	tv := s.mustSend(ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: title, Content: c, InitialDeposit: gp.MinDeposit}))
	var prev uint64
	ps, _ := d.cl.Proposals(context.Background(), tv.Height-1)
	for _, p := range ps.Proposals {
		if p.Proposer == s.addr {
			prev = max(prev, p.ID)
		}
	}
	id := proposalIn(t, d, tv, s, prev)
	for _, v := range voters {
		v.mustSend(ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: id, Option: gov.OptionYes}))
	}
	var p api.ProposalResponse
	if err := poll(time.Duration(gp.VotingPeriodSeconds+60)*time.Second, func() (bool, error) {
		var err error
		p, err = d.cl.Proposal(context.Background(), id, api.Latest)
		return err == nil && p.Status != "voting_period", nil
	}); err != nil || p.Status != "passed" {
		t.Fatalf("proposal %d %q: %s %s (%v)", id, title, p.Status, p.Result, err)
	}
	return p
}

// createContest has designer propose the attack contest, voted in, and
// gives it 3/4 of the module emission (as the demo does).
func createContest(t *testing.T, d *devnet, designer *sender, voters []*sender) contest.ContestInfo {
	t.Helper()
	spec := attackSpec(t, d, designer.addr)
	passProposal(t, d, designer, voters, "contest "+spec.Name, gov.Content{Kind: contest.KindCreate, Value: codec.MustMarshal(spec)})
	var c contest.ContestInfo
	if err := poll(time.Minute, func() (bool, error) {
		cs, err := d.cl.Contests(context.Background(), api.Latest)
		if err != nil {
			return false, err
		}
		for _, x := range cs.Contests {
			if x.Name == spec.Name && x.Status == contest.StatusLive {
				c = x
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("contest not live: %v", err)
	}
	g := emission.MsgSetGauge{Weights: []emission.GaugeWeight{{Module: "compute", Weight: 1}, {Module: c.PoolName, Weight: 3}}}
	for _, v := range voters {
		v.mustSend(ledger.NewMsg(emission.MsgTypeSetGauge, g))
	}
	return c
}

// commitReveal is one builder's commit-reveal of model in a round.
type commitReveal struct {
	s     *sender
	model cid.Cid
	salt  []byte
}

func (cr *commitReveal) commit(t *testing.T, id, round uint64) {
	cr.salt = make([]byte, 16)
	rand.Read(cr.salt)
	cr.s.mustSend(ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: id, Round: round, Hash: contest.CommitHash(cr.model, cr.salt, cr.s.addr)}))
}

func (cr *commitReveal) reveal(t *testing.T, id, round uint64) {
	cr.s.mustSend(ledger.NewMsg(contest.MsgTypeReveal, contest.MsgReveal{Contest: id, Round: round, Model: cr.model.String(), Salt: cr.salt}))
}

// attackRetire: the designer, having been paid designer_ppm of each
// round, proposes to retire its contest hoping to take the pool. The rule
// (contest/retire): the pool is burned, not paid to anyone; the
// designer's deposit comes back (the proposal passed) and it loses its
// fees and its future designer share. The builder, for comparison, is an
// honest participant over the same blocks who does nothing.
func attackRetire(t *testing.T, d *devnet, designer *sender, voters []*sender, c contest.ContestInfo) outcome {
	honest := d.sender("builder")
	h0 := d.height()
	db0, hb0, burned0 := d.balance(designer.addr, h0), d.balance(honest.addr, h0), d.supply().Burned
	fees0 := designer.fees
	p := passProposal(t, d, designer, voters, fmt.Sprintf("retire contest %d", c.ID), contest.NewRetireContent(c.ID))
	// The block in which the retirement ran: the first where the
	// contest is retired.
	var at uint64
	if err := poll(time.Minute, func() (bool, error) {
		r, err := d.cl.Contest(context.Background(), c.ID, api.Latest)
		if err != nil || r.Status != contest.StatusRetired {
			return false, nil
		}
		for h := r.Height; h > h0; h-- {
			x, err := d.cl.Contest(context.Background(), c.ID, h-1)
			if err == nil && x.Status == contest.StatusLive {
				at = h
				return true, nil
			}
		}
		return false, fmt.Errorf("retirement height not found")
	}); err != nil {
		t.Fatal(err)
	}
	before, err := d.cl.Contest(context.Background(), c.ID, at-1)
	if err != nil {
		t.Fatal(err)
	}
	after, err := d.cl.Contest(context.Background(), c.ID, at)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := d.cl.Supply(context.Background(), at-1)
	sa, _ := d.cl.Supply(context.Background(), at)
	t.Logf("proposal %d passed; contest %d retired at %d: pool %d -> %d, burned +%d in that block", p.ID, c.ID, at, before.Pool, after.Pool, sa.Burned-sb.Burned)
	if before.Pool == 0 || after.Pool != 0 || sa.Burned-sb.Burned < before.Pool {
		t.Fatalf("the pool of %d did not go to burn: after %d, burned +%d", before.Pool, after.Pool, sa.Burned-sb.Burned)
	}
	// What retiring paid the designer: its balance change in the
	// retirement block less its own deposit coming back, less the fees
	// of the retirement (its designer_ppm share of rounds that closed
	// meanwhile it would have had without retiring; logged apart).
	retireFees := int64(designer.fees - fees0)
	gain := int64(d.balance(designer.addr, at)) - int64(d.balance(designer.addr, at-1)) - int64(p.TotalDeposit)
	o := outcome{attack: "designer retires pool",
		attacker:   gain - retireFees,
		honest:     int64(d.balance(honest.addr, at)) - int64(hb0),
		defendedBy: fmt.Sprintf("contest/retire burns the pool (%d uinf here); the designer gets only designer_ppm of each closed round", before.Pool),
	}
	t.Logf("designer over the same blocks: %+d uinf in all (designer_ppm shares of closed rounds, fees %d)", int64(d.balance(designer.addr, at))-int64(db0), retireFees)
	o.check = func(a int64) error {
		if a != -retireFees {
			return fmt.Errorf("retiring moved the designer %d, want -%d (its fees; the pool burned)", a, retireFees)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	if d.supply().Burned-burned0 < before.Pool {
		t.Fatal("burned less than the pool")
	}
	o.exact = true
	o.planted = o.attacker + int64(before.Pool)
	o.attackerProfits = o.attacker > 0
	return o
}
