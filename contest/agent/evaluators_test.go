package agent

import (
	"context"
	"errors"
	"testing"

	"github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/ledger/contest"
)

// TestDefaultEvaluatorsOnDemo: the built-in scores the demo's better model
// above its baseline, and unknown or broken evaluators abstain.
func TestDefaultEvaluatorsOnDemo(t *testing.T) {
	ctx := context.Background()
	ev, err := DefaultEvaluators(contest.Evaluator{Builtin: "mlp-accuracy"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := demo.Dataset(1)
	base, err := ev.Evaluate(ctx, demo.BaselineModel(1), data)
	if err != nil {
		t.Fatal(err)
	}
	better, err := ev.Evaluate(ctx, demo.BetterModel(1), data)
	if err != nil || better <= base {
		t.Fatalf("better %d (%v), baseline %d", better, err, base)
	}
	if _, err := DefaultEvaluators(contest.Evaluator{Builtin: "nope"}, nil); !errors.Is(err, eval.ErrAbstain) {
		t.Errorf("unknown built-in: %v", err)
	}
	if _, err := DefaultEvaluators(contest.Evaluator{Wasm: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"}, []byte("not wasm")); !errors.Is(err, eval.ErrAbstain) {
		t.Errorf("bad wasm: %v", err)
	}
}
