package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/ledger/contest"
)

// score evaluates every scored submission of the round, in order. Any
// failure is an abstention: for one submission (its model), or for all
// (datasets, evaluator).
func (a *Agent) score(ctx context.Context, st roundState) []contest.Score {
	out := make([]contest.Score, len(st.round.Scored))
	abstainAll := func(why string, err error) []contest.Score {
		a.log.Warn("contest agent: abstaining on the whole round", "contest", st.detail.ID, "round", st.round.Round, "why", why, "err", err)
		for i := range out {
			out[i] = contest.Score{Abstain: true}
		}
		return out
	}
	// Stop evaluating one block before the attest-commit window ends: the
	// commit must still land; what is not scored by then is abstained on.
	// Submissions are evaluated a few at a time, and everything still
	// running at the deadline is cancelled, so one model that is slow to
	// fetch or to evaluate cannot use up the window of the others.
	last := st.round.AttestCommit.End - 1
	bounded := st.round.AttestCommit.End > st.round.AttestCommit.Start
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if bounded {
		go func() {
			t := time.NewTicker(deadlinePoll)
			defer t.Stop()
			for {
				if a.host.LatestHeight() >= last {
					cancel()
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	datasets, err := a.datasets(ctx, st)
	if err != nil {
		return abstainAll("datasets", err)
	}
	var wasm []byte
	if w := st.detail.Spec.Evaluator.Wasm; w != "" {
		if wasm, err = a.fetch(ctx, w); err != nil {
			return abstainAll("wasm evaluator", err)
		}
	}
	ev, err := a.cfg.Evaluators(st.detail.Spec.Evaluator, wasm)
	if err != nil {
		return abstainAll("evaluator", err)
	}
	for j := range out {
		out[j] = contest.Score{Abstain: true} // until scored
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(evalWorkers, len(out)) {
		wg.Go(func() {
			for j := range next {
				if ctx.Err() != nil || (bounded && a.host.LatestHeight() >= last) {
					continue
				}
				idx := st.round.Scored[j]
				if int(idx) >= len(st.round.Submissions) {
					continue
				}
				sub := st.round.Submissions[idx]
				v, dg, err := a.evaluate(ctx, ev, sub.Model, datasets)
				if err != nil {
					a.log.Info("contest agent: abstaining on a submission", "contest", st.detail.ID, "round", st.round.Round, "index", idx, "model", sub.Model, "err", err)
					continue
				}
				out[j] = contest.Score{Value: v, Digest: dg}
			}
		})
	}
	for j := range out {
		next <- j
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil && bounded {
		a.log.Warn("contest agent: out of time; unscored submissions abstained on", "contest", st.detail.ID, "round", st.round.Round, "height", a.host.LatestHeight())
	}
	return out
}

// evalWorkers is how many submissions one agent evaluates at once;
// deadlinePoll is how often it looks at the height while it does.
const (
	evalWorkers  = 4
	deadlinePoll = 200 * time.Millisecond
)

// datasets fetches the evaluation datasets: the sealed ones if the spec
// has any, else every public one.
func (a *Agent) datasets(ctx context.Context, st roundState) ([][]byte, error) {
	spec := st.detail.Spec
	sealed := false
	for _, d := range spec.Datasets {
		sealed = sealed || d.Policy == contest.PolicySealed
	}
	var out [][]byte
	for i, d := range spec.Datasets {
		if sealed && d.Policy != contest.PolicySealed {
			continue
		}
		c := st.detail.DatasetCIDs[i]
		if c == "" {
			return nil, fmt.Errorf("dataset %q is not revealed", d.Name)
		}
		b, err := a.fetch(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("dataset %q: %w", d.Name, err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no dataset to evaluate on")
	}
	return out, nil
}

// evaluate scores model on every dataset (the floor of the mean) and
// computes its digest, which the ledger compares across submissions to
// find the same weights under another CID.
func (a *Agent) evaluate(ctx context.Context, ev Evaluator, model string, datasets [][]byte) (int64, []byte, error) {
	m, err := a.fetch(ctx, model)
	if err != nil {
		return 0, nil, err
	}
	dg := eval.FileDigest(m)
	if d, ok := ev.(eval.Digester); ok {
		if dg, err = d.Digest(m); err != nil {
			return 0, nil, err
		}
	}
	var sum int64
	for _, d := range datasets {
		v, err := a.evalOne(ctx, ev, m, d)
		if err != nil {
			return 0, nil, err
		}
		if v < -contest.MaxScore || v > contest.MaxScore {
			return 0, nil, fmt.Errorf("score %d outside ±%d", v, int64(contest.MaxScore))
		}
		sum += v // at most 16 datasets of ±1e15: no overflow
	}
	n := int64(len(datasets))
	mean := sum / n
	if sum%n != 0 && sum < 0 {
		mean-- // toward negative infinity, the same on every machine
	}
	return mean, dg, nil
}

// evalOne runs one evaluation under the timeout, turning a panic in the
// evaluator into an error.
func (a *Agent) evalOne(ctx context.Context, ev Evaluator, model, dataset []byte) (v int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.EvalTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("evaluator panicked: %v", r)
		}
	}()
	return ev.Evaluate(ctx, model, dataset)
}

// fetch gets a file by CID under the fetch timeout.
func (a *Agent) fetch(ctx context.Context, s string) ([]byte, error) {
	c, err := contest.ParseCID(s)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.FetchTimeout)
	defer cancel()
	return a.host.Fetch(ctx, c)
}
