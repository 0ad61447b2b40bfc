package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/codec"
	computedemo "github.com/inferd/inferd/compute/demo"
	"github.com/inferd/inferd/content"
	contestdemo "github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

// demoSeed fixes the demo contest's dataset and models.
const demoSeed = 1

// demoTier is the providers' capacity tier in the demo (n = 1024).
const demoTier = 2

// demoFiles are the demo's inputs, added to the first node's store
// before it starts; the other nodes fetch them over bitswap.
type demoFiles struct {
	dataset, baseline, better cid.Cid
	workload, input           cid.Cid
	baselineScore             int64
	cloud                     demoCloud // the inference server's image, or why not
}

// prepareDemo adds the demo's files to node0's content store (the node is
// not running yet, so the store is free), scores the baseline model, and
// builds and adds the inference server's image (devnet_cloud.go).
func prepareDemo(ctx context.Context, dir string, info *node.DevnetInfo, providers int) (*demoFiles, error) {
	st, err := content.Open(filepath.Join(info.Nodes[0].Home, content.Dir))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	add := func(b []byte) (cid.Cid, error) { return st.AddReader(ctx, bytes.NewReader(b), content.AddOptions{}) }
	data, base, better := contestdemo.Dataset(demoSeed), contestdemo.BaselineModel(demoSeed), contestdemo.BetterModel(demoSeed)
	f := &demoFiles{}
	for _, x := range []struct {
		dst *cid.Cid
		b   []byte
	}{{&f.dataset, data}, {&f.baseline, base}, {&f.better, better}, {&f.workload, computedemo.Workload}, {&f.input, computedemo.Input}} {
		if *x.dst, err = add(x.b); err != nil {
			return nil, fmt.Errorf("demo: add to %s: %v", info.Nodes[0].Moniker, err)
		}
	}
	ev, _ := eval.Builtin("mlp-accuracy")
	if f.baselineScore, err = ev.Evaluate(ctx, base, data); err != nil {
		return nil, fmt.Errorf("demo: score the baseline: %v", err)
	}
	f.cloud = prepareCloud(ctx, dir, providers, add)
	return f, nil
}

// demoSpec is the demo contest: classify the demo's 2-D points, scored
// by the built-in mlp-accuracy; every validator evaluates; short windows
// so that a round takes about half a minute.
func demoSpec(designer keys.Address, f *demoFiles) contest.Spec {
	return contest.Spec{
		Name:      "demo-points",
		Objective: "Classify the seeded 2-D points of the demo dataset into their 3 classes; accuracy on the public set.",
		Designer:  designer,
		Evaluator: contest.Evaluator{Builtin: "mlp-accuracy"},
		Datasets:  []contest.Dataset{{Name: "points", CID: f.dataset.String(), Policy: contest.PolicyPublic}},
		Metric:    "accuracy", Direction: contest.DirectionMaximize,
		Baseline: f.baselineScore, MinImprovement: 10_000, // one point of accuracy
		Validators: contest.ValidatorPolicy{Policy: contest.ValidatorsAll, QuorumPPM: 666_667},
		Reward:     contest.RewardCurve{Curve: contest.CurveWinnerTakeAll},
		Split:      contest.Split{BuildersPPM: 700_000, DesignerPPM: 100_000, ValidatorsPPM: 200_000},
		Schedule:   contest.Schedule{RoundLengthBlocks: 30, CommitBlocks: 8, RevealBlocks: 6, AttestCommitBlocks: 8, AttestRevealBlocks: 6},
		Tolerance:  contest.Tolerance{Absolute: 1},
	}
}

// runDemo plays the demo on a new devnet and prints what happens. It
// gives up with a message (the nodes keep running) if a step fails.
func runDemo(ctx context.Context, dir string, info *node.DevnetInfo, providers int, f *demoFiles) {
	if err := playDemo(ctx, dir, info, providers, f); err != nil && ctx.Err() == nil {
		fmt.Fprintf(stdout, "demo: stopped: %v\n", err)
	}
}

func playDemo(ctx context.Context, dir string, info *node.DevnetInfo, providers int, f *demoFiles) error {
	say := func(format string, a ...any) { fmt.Fprintf(stdout, "demo: "+format+"\n", a...) }
	cl, err := api.NewClient(info.Nodes[0].API)
	if err != nil {
		return err
	}
	if err := waitHeight(ctx, cl, 2); err != nil {
		return err
	}
	kr, err := keystore.Open(filepath.Join(dir, "keyring"), keystore.BackendTest)
	if err != nil {
		return err
	}
	sender := func(name string) (*keySender, error) {
		priv, err := kr.Unlock(name, "")
		if err != nil {
			return nil, err
		}
		return newKeySender(ctx, cl, priv)
	}
	builder, err := sender(info.BuilderKey)
	if err != nil {
		return err
	}
	designer, err := sender(info.DesignerKey)
	if err != nil {
		return err
	}
	ops := make([]*keySender, len(info.Nodes))
	for i, nd := range info.Nodes {
		if ops[i], err = sender(nd.Moniker); err != nil {
			return err
		}
	}

	for i := 0; i < providers; i++ {
		if _, err := ops[i].send(ctx, ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 2_000, Tier: demoTier, Capacity: 2, Bond: 100 * ledger.UinfPerINF})); err != nil {
			return err
		}
		say("%s registered as a compute provider (tier %d, 100 INF bond); watch: inferd query providers --node %s", info.Nodes[i].Moniker, demoTier, info.Nodes[0].API)
	}
	if providers > 0 {
		msg := compute.MsgJobSubmit{Workload: f.workload.String(), Input: f.input.String(), InputSize: uint64(len(computedemo.Input)), MaxPrice: 5_000}
		if _, err := builder.send(ctx, ledger.NewMsg(compute.MsgTypeJobSubmit, msg)); err != nil {
			return err
		}
		say("submitted a demo job (workload %s); watch: inferd query jobs --node %s", f.workload, info.Nodes[0].API)
		go reportJob(ctx, cl, say)
	}

	// The contest: proposed by its designer, voted in by the operators.
	spec := demoSpec(designer.addr, f)
	pr, err := cl.Params(ctx, api.Latest)
	if err != nil {
		return err
	}
	var gp gov.Params
	if err := jsonField(pr.Params, gov.Name, &gp); err != nil {
		return err
	}
	content := gov.Content{Kind: contest.KindCreate, Value: codec.MustMarshal(spec)}
	t, err := designer.send(ctx, ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "Demo contest: " + spec.Name, Description: spec.Objective, Content: content, InitialDeposit: gp.MinDeposit}))
	if err != nil {
		return err
	}
	// The block holding the tx may be stored a moment before the ledger
	// has committed it: look until the proposal shows.
	var pid uint64
	if err := poll(ctx, 30*time.Second, func() (bool, error) {
		props, err := cl.Proposals(ctx, api.Latest)
		if err != nil {
			return false, err
		}
		for _, p := range props.Proposals {
			if p.Proposer == designer.addr && p.Content.Kind == contest.KindCreate {
				pid = max(pid, p.ID)
			}
		}
		return pid != 0, nil
	}); err != nil {
		return fmt.Errorf("proposal of block %d not found: %v", t.Height, err)
	}
	for _, op := range ops {
		if _, err := op.send(ctx, ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: pid, Option: gov.OptionYes})); err != nil {
			return err
		}
	}
	say("proposal %d (contest %q) voted yes by every validator; it passes when voting ends in %ds", pid, spec.Name, gp.VotingPeriodSeconds)

	var c contest.ContestInfo
	if err := poll(ctx, 5*time.Minute, func() (bool, error) {
		cs, err := cl.Contests(ctx, api.Latest)
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
		return fmt.Errorf("contest did not go live: %v", err)
	}
	gauge := emission.MsgSetGauge{Weights: []emission.GaugeWeight{{Module: "compute", Weight: 1}, {Module: c.PoolName, Weight: 3}}}
	for _, op := range ops {
		if _, err := op.send(ctx, ledger.NewMsg(emission.MsgTypeSetGauge, gauge)); err != nil {
			return err
		}
	}
	say("contest %d is live; the validators' gauge gives it 3/4 of the module emission; watch: inferd query contest %d --node %s", c.ID, c.ID, info.Nodes[0].API)

	round, err := demoBuild(ctx, cl, builder, c.ID, f.better)
	if err != nil {
		return err
	}
	say("the demo builder committed then revealed model %s in round %d; the validators now fetch and evaluate it", f.better, round)
	var d api.ContestResponse
	if err := poll(ctx, 3*time.Minute, func() (bool, error) {
		var err error
		d, err = cl.Contest(ctx, c.ID, api.Latest)
		return err == nil && d.LastRound != nil && d.LastRound.Round >= round, err
	}); err != nil {
		return fmt.Errorf("round %d did not close: %v", round, err)
	}
	subs, err := cl.ContestSubmissions(ctx, c.ID, round, api.Latest)
	if err != nil {
		return err
	}
	for _, s := range subs.Submissions {
		if s.Builder == builder.addr && s.AgreedScore != nil {
			say("round %d closed: agreed accuracy %.4f (baseline %.4f), breakthrough %v, builder paid %d uinf, designer %d uinf, validators %d uinf",
				round, float64(*s.AgreedScore)/1e6, float64(f.baselineScore)/1e6, s.Breakthrough, s.Reward, d.LastRound.DesignerPaid, d.LastRound.ValidatorsPaid)
			if !s.Breakthrough {
				say("no winning model to serve this round")
				return nil
			}
			// The contest-to-inference loop: the winner, served.
			return playCloud(ctx, dir, info, cl, builder, f, s.Model, say)
		}
	}
	say("round %d closed without an agreed score for the demo model (see inferd query submissions %d --round %d)", round, c.ID, round)
	return nil
}

// reportJob says how the demo job ended.
func reportJob(ctx context.Context, cl *api.Client, say func(string, ...any)) {
	var j api.JobResponse
	err := poll(ctx, 3*time.Minute, func() (bool, error) {
		var err error
		j, err = cl.Job(ctx, 1, api.Latest)
		return err == nil && !compute.JobInFlight(j.Status), nil
	})
	switch {
	case err != nil:
		say("the demo job did not finish: %v", err)
	case j.Status == compute.JobDone:
		say("demo job %d done by %s: result %s (inferd cat %s --node URL); %d uinf burned, %d refunded", j.ID, j.Provider, j.Result, j.Result, j.Charged, j.Refunded)
	default:
		say("demo job %d ended %s (inferd query job %d)", j.ID, j.Status, j.ID)
	}
}

// demoBuild commits model in the next commit window it can reach, then
// reveals it, and returns the round.
func demoBuild(ctx context.Context, cl *api.Client, s *keySender, id uint64, model cid.Cid) (uint64, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	hash := contest.CommitHash(model, salt, s.addr)
	var ri contest.RoundInfo
	if err := poll(ctx, 2*time.Minute, func() (bool, error) {
		d, err := cl.Contest(ctx, id, api.Latest)
		if err != nil {
			return false, err
		}
		ri = d.Round
		// Room for the commit to land: two blocks before the window ends.
		return d.Round.Height >= ri.Commit.Start && d.Round.Height+2 <= ri.Commit.End, nil
	}); err != nil {
		return 0, err
	}
	if _, err := s.send(ctx, ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: id, Round: ri.Round, Hash: hash})); err != nil {
		return 0, err
	}
	if err := waitHeight(ctx, cl, ri.Reveal.Start-1); err != nil {
		return 0, err
	}
	if _, err := s.send(ctx, ledger.NewMsg(contest.MsgTypeReveal, contest.MsgReveal{Contest: id, Round: ri.Round, Model: model.String(), Salt: salt})); err != nil {
		return 0, err
	}
	return ri.Round, nil
}

// waitHeight polls until the node has committed height h.
func waitHeight(ctx context.Context, cl *api.Client, h uint64) error {
	return poll(ctx, 3*time.Minute, func() (bool, error) {
		st, err := cl.Status(ctx)
		return err == nil && st.Height >= h, nil
	})
}

// poll calls f every 500 ms until it reports done, fails, or timeout.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out after %s", timeout)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// jsonField decodes params[module] into out.
func jsonField(params map[string]json.RawMessage, module string, out any) error {
	raw, ok := params[module]
	if !ok {
		return fmt.Errorf("the node reports no %s parameters", module)
	}
	return json.Unmarshal(raw, out)
}
