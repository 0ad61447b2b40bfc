package agent

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
)

// Evaluator scores a model (file bytes) on a dataset (file bytes), in
// micro-units of the metric. contest/eval's evaluators satisfy it.
type Evaluator interface {
	Evaluate(ctx context.Context, model, dataset []byte) (int64, error)
}

// EvaluatorFactory returns the evaluator a spec names; wasm holds the
// module's bytes for a Wasm evaluator and is nil for a built-in.
type EvaluatorFactory func(e contest.Evaluator, wasm []byte) (Evaluator, error)

// Config of an Agent.
type Config struct {
	// Dir holds the pending attestations (created if missing).
	Dir string
	// Evaluators builds evaluators (required).
	Evaluators EvaluatorFactory
	// FetchTimeout bounds each Host.Fetch (default 30 seconds).
	FetchTimeout time.Duration
	// EvalTimeout bounds each evaluation of one model on one dataset
	// (default 2 minutes).
	EvalTimeout time.Duration
	// ResendAfterBlocks: a commit or reveal not on chain after this many
	// blocks is sent again while its window is open (default 3).
	ResendAfterBlocks uint64
	// Scores, if set, replaces fetching and evaluating: what the agent
	// attests for a round's scored submissions. Only the attack suite's
	// lazy validator sets it (e2e/attacks/internal/lazyvalidator); a node
	// never does.
	Scores func(detail contest.ContestDetail, round contest.RoundView) []contest.Score
}

// Agent evaluates and attests for one validator operator.
type Agent struct {
	host     agent.Host
	cfg      Config
	log      *slog.Logger
	contests *contest.Module
	pending  map[roundID]*pending
}

type roundID struct{ contest, round uint64 }

// pending is one round's attestation as this agent made it.
type pending struct {
	Contest  uint64          `json:"contest"`
	Round    uint64          `json:"round"`
	Scores   []contest.Score `json:"scores"`
	Salt     ledger.HexBytes `json:"salt"`
	Hash     ledger.HexBytes `json:"hash"`
	commitAt uint64          // height the commit was last sent (0: never)
	revealAt uint64          // height the reveal was last sent
}

// New returns an agent for host, loading pending attestations from
// cfg.Dir.
func New(host agent.Host, cfg Config) (*Agent, error) {
	if cfg.Evaluators == nil {
		return nil, fmt.Errorf("contest agent: no evaluator factory")
	}
	if cfg.Dir == "" {
		return nil, fmt.Errorf("contest agent: no directory for pending attestations")
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = 30 * time.Second
	}
	if cfg.EvalTimeout == 0 {
		cfg.EvalTimeout = 2 * time.Minute
	}
	if cfg.ResendAfterBlocks == 0 {
		cfg.ResendAfterBlocks = 3
	}
	a := &Agent{host: host, cfg: cfg, log: host.Logger().With("agent", "contest"), contests: contest.Reader(host.Chain().Bank), pending: map[roundID]*pending{}}
	if err := a.loadPending(); err != nil {
		return nil, err
	}
	return a, nil
}

// Run steps the agent at every committed height until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	ch, unsub := a.host.Committed()
	defer unsub()
	a.safeStep(ctx, a.host.LatestHeight())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case _, ok := <-ch:
			if !ok {
				return nil
			}
			a.safeStep(ctx, a.host.LatestHeight())
		}
	}
}

// safeStep keeps a bug in one step from taking the node down.
func (a *Agent) safeStep(ctx context.Context, h uint64) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("contest agent step panicked", "height", h, "panic", r)
		}
	}()
	a.Step(ctx, h)
}

// roundState is what the agent reads of one live contest at a height.
type roundState struct {
	detail contest.ContestDetail
	round  contest.RoundView
	mine   *contest.Attestation // this operator's attestation, if committed
	member bool
}

// read loads, at height h, every live contest's current round; the full
// round (submissions, attestations) only where the round is in an
// attestation window, the only phases the agent acts in.
func (a *Agent) read(h uint64, me keys.Address) ([]roundState, error) {
	var out []roundState
	err := a.host.Chain().Query(h, func(ctx *ledger.Context) error {
		for _, ci := range a.contests.Contests(ctx) {
			if ci.Status != contest.StatusLive {
				continue
			}
			st := roundState{detail: contest.ContestDetail{ContestInfo: ci}}
			st.round.RoundInfo = ci.Round
			if ci.Round.Phase == contest.PhaseAttestCommit || ci.Round.Phase == contest.PhaseAttestReveal {
				var err error
				if st.detail.Spec, st.detail.DatasetCIDs, err = a.contests.Spec(ctx, ci.ID); err != nil {
					return err
				}
				if st.round, err = a.contests.Round(ctx, ci.ID, 0); err != nil {
					return err
				}
				for _, m := range st.round.Set {
					st.member = st.member || m.Operator == me
				}
				for i := range st.round.Attestations {
					if st.round.Attestations[i].Validator == me {
						st.mine = &st.round.Attestations[i]
					}
				}
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}

// Step does what height h calls for in every contest.
func (a *Agent) Step(ctx context.Context, h uint64) {
	me := a.host.Account()
	states, err := a.read(h, me)
	if err != nil {
		a.log.Warn("contest agent: reading the ledger", "height", h, "err", err)
		return
	}
	current := map[roundID]bool{}
	for _, st := range states {
		id := roundID{st.detail.ID, st.round.Round}
		current[id] = true
		if !st.round.Frozen || !st.member {
			continue
		}
		switch st.round.Phase {
		case contest.PhaseAttestCommit:
			a.commitStep(ctx, h, id, st)
		case contest.PhaseAttestReveal:
			a.revealStep(ctx, h, id, st)
		}
	}
	// Forget rounds that are over (their contest moved on or retired).
	for id := range a.pending {
		if !current[id] {
			a.forget(id)
		}
	}
}

func (a *Agent) commitStep(ctx context.Context, h uint64, id roundID, st roundState) {
	if st.mine != nil {
		return // on chain
	}
	p := a.pending[id]
	if p == nil {
		if waitForSealed(st) && h < st.round.AttestCommit.End {
			return
		}
		var scores []contest.Score
		if a.cfg.Scores != nil {
			scores = a.cfg.Scores(st.detail, st.round)
		} else {
			scores = a.score(ctx, st)
		}
		salt := make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			a.log.Error("contest agent: no randomness for a salt", "err", err)
			return
		}
		p = &pending{Contest: id.contest, Round: id.round, Scores: scores, Salt: salt, Hash: contest.AttestHash(scores, salt, a.host.Account())}
		if err := a.save(p); err != nil { // before the commit leaves: a restart must be able to reveal
			a.log.Error("contest agent: saving the attestation", "contest", id.contest, "round", id.round, "err", err)
			return
		}
		a.pending[id] = p
	}
	if p.commitAt != 0 && h < p.commitAt+a.cfg.ResendAfterBlocks {
		return
	}
	msg := ledger.NewMsg(contest.MsgTypeAttestCommit, contest.MsgAttestCommit{Contest: id.contest, Round: id.round, Hash: p.Hash})
	if _, err := a.host.Submit(ctx, msg); err != nil {
		a.log.Warn("contest agent: attest_commit not accepted", "contest", id.contest, "round", id.round, "err", err)
		return
	}
	p.commitAt = h
	a.log.Info("contest agent: committed scores", "contest", id.contest, "round", id.round, "submissions", len(p.Scores), "abstained", abstentions(p.Scores))
}

func (a *Agent) revealStep(ctx context.Context, h uint64, id roundID, st roundState) {
	if st.mine == nil || st.mine.Revealed {
		return
	}
	p := a.pending[id]
	if p == nil {
		a.log.Warn("contest agent: committed but the scores are lost; cannot reveal", "contest", id.contest, "round", id.round)
		return
	}
	if string(p.Hash) != string(st.mine.Hash) {
		a.log.Warn("contest agent: the commitment on chain is not ours", "contest", id.contest, "round", id.round)
		return
	}
	if p.revealAt != 0 && h < p.revealAt+a.cfg.ResendAfterBlocks {
		return
	}
	msg := ledger.NewMsg(contest.MsgTypeAttestReveal, contest.MsgAttestReveal{Contest: id.contest, Round: id.round, Scores: p.Scores, Salt: p.Salt})
	if _, err := a.host.Submit(ctx, msg); err != nil {
		a.log.Warn("contest agent: attest_reveal not accepted", "contest", id.contest, "round", id.round, "err", err)
		return
	}
	p.revealAt = h
	a.log.Info("contest agent: revealed scores", "contest", id.contest, "round", id.round)
}

// waitForSealed reports whether the spec has a sealed dataset that is not
// revealed yet.
func waitForSealed(st roundState) bool {
	for i, d := range st.detail.Spec.Datasets {
		if d.Policy == contest.PolicySealed && st.detail.DatasetCIDs[i] == "" {
			return true
		}
	}
	return false
}

func abstentions(s []contest.Score) int {
	n := 0
	for _, x := range s {
		if x.Abstain {
			n++
		}
	}
	return n
}
