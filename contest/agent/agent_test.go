package agent

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
)

// scoreEval reads the score a test model file states ("score=912345") and
// insists on the right dataset.
type scoreEval struct{}

func (scoreEval) Evaluate(_ context.Context, model, dataset []byte) (int64, error) {
	if string(dataset) != "digits" {
		return 0, fmt.Errorf("wrong dataset %q", dataset)
	}
	var v int64
	if _, err := fmt.Sscanf(string(model), "score=%d", &v); err != nil {
		return 0, err
	}
	if v < 0 {
		panic("negative score files crash this evaluator")
	}
	return v, nil
}

func testEvaluators(e contest.Evaluator, _ []byte) (Evaluator, error) {
	if e.Builtin != "mlp-accuracy" {
		return nil, fmt.Errorf("unknown evaluator %+v", e)
	}
	return scoreEval{}, nil
}

func testSpec(designer key, dataset cid.Cid) contest.Spec {
	return contest.Spec{
		Name: "digits", Objective: "classify", Designer: designer.addr,
		Evaluator: contest.Evaluator{Builtin: "mlp-accuracy"},
		Datasets:  []contest.Dataset{{Name: "test", CID: dataset.String(), Policy: contest.PolicyPublic}},
		Metric:    "accuracy", Direction: contest.DirectionMaximize, Baseline: 800_000, MinImprovement: 1,
		Validators: contest.ValidatorPolicy{Policy: contest.ValidatorsAll, QuorumPPM: 500_000},
		Reward:     contest.RewardCurve{Curve: contest.CurveWinnerTakeAll},
		Split:      contest.Split{BuildersPPM: 500_000, DesignerPPM: 100_000, ValidatorsPPM: 400_000},
		Schedule:   contest.Schedule{RoundLengthBlocks: 30, CommitBlocks: 6, RevealBlocks: 6, AttestCommitBlocks: 6, AttestRevealBlocks: 6},
	}
}

// createContest passes a contest/create proposal and returns round 1's
// timeline.
func (n *network) createContest(ctx context.Context, proposer *host, vals []*host, spec contest.Spec) contest.RoundInfo {
	n.t.Helper()
	proposer.Submit(ctx, ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "digits", Content: contest.NewCreateContent(spec), InitialDeposit: 1000}))
	n.block()
	for _, v := range vals {
		v.Submit(ctx, ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: 1, Option: gov.OptionYes}))
	}
	n.block()
	for i := 0; i < 10; i++ {
		res := n.block()
		for _, e := range res.Events {
			if e.Type == "contest_created" {
				for _, v := range vals {
					v.Submit(ctx, ledger.NewMsg(emission.MsgTypeSetGauge, emission.MsgSetGauge{Weights: []emission.GaugeWeight{{Module: contest.PoolName(1), Weight: 1}}}))
				}
				var d contest.ContestDetail
				n.c.Query(n.height, func(c *ledger.Context) error { d, _ = n.c.Contest.Contest(c, 1); return nil })
				return d.Round
			}
		}
	}
	n.t.Fatal("contest not created")
	return contest.RoundInfo{}
}

type built struct {
	round uint64
	err   error
}

// TestAgentsAttestAndBuildersWin: three validator agents evaluate two
// demo-built submissions over a real chain; one cannot fetch a model and
// abstains on it; one restarts between its commit and its reveal and
// still reveals from its file. The round closes with both scores agreed
// and every attestation earning.
func TestAgentsAttestAndBuildersWin(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewSource(1))
	vals := []key{newKey(r), newKey(r), newKey(r)}
	designer, b1, b2 := newKey(r), newKey(r), newKey(r)
	n := newNetwork(t, vals, []key{designer, b1, b2})
	D := n.add([]byte("digits"))
	A, B := n.add([]byte("score=900000")), n.add([]byte("score=950000"))

	var vhosts []*host
	for _, v := range vals {
		vhosts = append(vhosts, n.host(v))
	}
	vhosts[2].noFetch[B.String()] = true
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	agents := make([]*Agent, 3)
	for i, h := range vhosts {
		a, err := New(h, Config{Dir: dirs[i], Evaluators: testEvaluators})
		if err != nil {
			t.Fatal(err)
		}
		agents[i] = a
	}
	ri := n.createContest(ctx, n.host(designer), vhosts, testSpec(designer, D))

	// Two demo builders.
	type builder struct {
		h    *host
		stop chan struct{}
		res  built
	}
	builders := []*builder{{h: n.host(b1), stop: make(chan struct{})}, {h: n.host(b2), stop: make(chan struct{})}}
	for i, b := range builders {
		model := []cid.Cid{A, B}[i]
		go func(b *builder) {
			defer close(b.stop)
			b.res.round, b.res.err = Build(ctx, b.h, 1, model)
		}(b)
	}
	restarted := false
	for n.height < ri.End+2 {
		n.block()
		for _, b := range builders {
			b.h.notify(n.height, b.stop)
		}
		if !restarted && n.height == ri.AttestReveal.Start-1 {
			// Restart validator 0's agent between its commit and its reveal.
			a, err := New(vhosts[0], Config{Dir: dirs[0], Evaluators: testEvaluators})
			if err != nil {
				t.Fatal(err)
			}
			if len(a.pending) != 1 {
				t.Fatalf("restarted agent found %d pending attestations, want 1", len(a.pending))
			}
			agents[0], restarted = a, true
		}
		for _, a := range agents {
			a.Step(ctx, n.height)
		}
	}
	for i, b := range builders {
		<-b.stop
		if b.res.err != nil || b.res.round != 1 {
			t.Fatalf("builder %d: round %d, %v", i, b.res.round, b.res.err)
		}
	}
	var rv contest.RoundView
	n.c.Query(n.height, func(c *ledger.Context) error { rv, _ = n.c.Contest.Round(c, 1, 1); return nil })
	if len(rv.Submissions) != 2 {
		t.Fatalf("submissions: %+v", rv.Submissions)
	}
	// The builders' commits race into one block: find each by its model.
	byModel := map[string]contest.Submission{}
	pos := map[string]int{} // position in the scored list
	for j, idx := range rv.Scored {
		s := rv.Submissions[idx]
		byModel[s.Model], pos[s.Model] = s, j
	}
	for m, want := range map[cid.Cid]int64{A: 900_000, B: 950_000} {
		s := byModel[m.String()]
		if s.Status != contest.StatusAgreed || *s.AgreedScore != want {
			t.Errorf("submission of %s: %+v", m, s)
		}
	}
	if len(rv.Attestations) != 3 {
		t.Fatalf("attestations: %+v", rv.Attestations)
	}
	for _, at := range rv.Attestations {
		if !at.Revealed || !at.Agreed || at.Reward == 0 {
			t.Errorf("attestation %+v", at)
		}
		if at.Validator == vals[2].addr && (!at.Scores[pos[B.String()]].Abstain || at.Scores[pos[A.String()]].Value != 900_000) {
			t.Errorf("validator 2 should abstain on B only: %+v", at.Scores)
		}
	}
	if byModel[B.String()].Reward == 0 || byModel[A.String()].Reward != 0 {
		t.Errorf("winner take all: %+v", rv.Submissions)
	}
	for _, d := range dirs {
		if files, _ := filepath.Glob(filepath.Join(d, "*.json")); len(files) != 0 {
			t.Errorf("finished round's files left: %v", files)
		}
	}
}

// TestScoreAbstains: unfetchable models, a panicking evaluator, an
// unknown evaluator and a missing dataset abstain instead of failing.
func TestScoreAbstains(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewSource(2))
	v := newKey(r)
	n := newNetwork(t, []key{v}, nil)
	D := n.add([]byte("digits"))
	good, crash := n.add([]byte("score=5")), n.add([]byte("score=-1"))
	h := n.host(v)
	a, err := New(h, Config{Dir: t.TempDir(), Evaluators: testEvaluators})
	if err != nil {
		t.Fatal(err)
	}
	st := roundState{
		detail: contest.ContestDetail{Spec: testSpec(key{}, D), DatasetCIDs: []string{D.String()}},
		round: contest.RoundView{Scored: []uint32{0, 1, 2}, Submissions: []contest.Submission{
			{Model: good.String()}, {Model: crash.String()}, {Model: "bafkreimissingmissingmissingmissingmissingmissingmissingmiss"},
		}},
	}
	got := a.score(ctx, st)
	if got[0].Abstain || got[0].Value != 5 || !bytes.Equal(got[0].Digest, eval.FileDigest([]byte("score=5"))) || !got[1].Abstain || !got[2].Abstain {
		t.Errorf("scores %+v", got)
	}
	st.detail.Spec.Evaluator = contest.Evaluator{Builtin: "mlp-mse"}
	if got := a.score(ctx, st); !got[0].Abstain || !got[1].Abstain {
		t.Errorf("unknown evaluator: %+v", got)
	}
	st.detail.Spec.Evaluator = contest.Evaluator{Builtin: "mlp-accuracy"}
	h.noFetch[D.String()] = true
	if got := a.score(ctx, st); !got[0].Abstain {
		t.Errorf("no dataset: %+v", got)
	}
	// Out of time: at the last block of the attest-commit window nothing
	// more is evaluated.
	h.noFetch[D.String()] = false
	st.round.AttestCommit = contest.Window{Start: 0, End: 1} // the chain is at height 0
	if got := a.score(ctx, st); !got[0].Abstain || !got[1].Abstain || !got[2].Abstain {
		t.Errorf("out of time: %+v", got)
	}
	if _, err := New(h, Config{Evaluators: testEvaluators}); err == nil {
		t.Error("no directory accepted")
	}
	// An unreadable file from a previous run is skipped, not fatal.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "attest-1-1.json"), []byte("{"), 0o600)
	if _, err := New(h, Config{Dir: dir, Evaluators: testEvaluators}); err != nil {
		t.Error(err)
	}
}

// TestSlowModelDoesNotStarveOthers: a model whose fetch hangs is abstained
// on at the deadline while the others are still scored in time (before,
// submissions were evaluated one after another, so the hanging one used
// up the window and every later one was abstained on).
func TestSlowModelDoesNotStarveOthers(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewSource(4))
	v := newKey(r)
	n := newNetwork(t, []key{v}, nil)
	D := n.add([]byte("digits"))
	slow, good := n.add([]byte("score=1")), n.add([]byte("score=7"))
	h := n.host(v)
	h.slow = map[string]bool{slow.String(): true}
	a, err := New(h, Config{Dir: t.TempDir(), Evaluators: testEvaluators, FetchTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st := roundState{
		detail: contest.ContestDetail{Spec: testSpec(key{}, D), DatasetCIDs: []string{D.String()}},
		round:  contest.RoundView{Scored: []uint32{0, 1}, Submissions: []contest.Submission{{Model: slow.String()}, {Model: good.String()}}},
	}
	st.round.AttestCommit = contest.Window{Start: 1, End: 3} // evaluation ends at height 2
	go func() {
		time.Sleep(300 * time.Millisecond)
		n.mu.Lock()
		n.height = 2
		n.mu.Unlock()
	}()
	got := a.score(ctx, st)
	if !got[0].Abstain || got[1].Abstain || got[1].Value != 7 {
		t.Fatalf("scores %+v", got)
	}
}
