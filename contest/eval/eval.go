package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/inferd/inferd/contest/eval/mlp"
)

// ErrAbstain is wrapped by every error Evaluate returns: the validator
// attests no score for the submission.
var ErrAbstain = errors.New("evaluator abstains")

// MicroUnit is how many score units make 1.0 of the metric.
const MicroUnit = 1_000_000

// maxScore keeps score × MicroUnit well inside int64.
const maxScore = 9e12

// Evaluator scores a model on a dataset. Score is in micro-units; a
// non-nil error always wraps ErrAbstain.
type Evaluator interface {
	Evaluate(ctx context.Context, model, dataset []byte) (score int64, err error)
}

// Micro converts a metric value to micro-units, rounding half away from
// zero. It fails for NaN, infinities and magnitudes of 9e12 or more.
func Micro(score float64) (int64, error) {
	if math.IsNaN(score) || math.IsInf(score, 0) || math.Abs(score) >= maxScore {
		return 0, fmt.Errorf("score %v cannot be expressed in micro-units (need a finite value below %g in magnitude)", score, maxScore)
	}
	return int64(math.Round(score * MicroUnit)), nil
}

// metric computes a score from a parsed model and dataset.
type metric func(context.Context, *mlp.Model, *mlp.Dataset) (float64, error)

var builtins = map[string]metric{
	"mlp-accuracy": mlp.Accuracy,
	"mlp-mse":      mlp.MSE,
}

// BuiltinNames lists the built-in evaluators, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Builtin returns the built-in evaluator called name.
func Builtin(name string) (Evaluator, bool) {
	m, ok := builtins[name]
	if !ok {
		return nil, false
	}
	return builtinEval{name: name, metric: m}, true
}

type builtinEval struct {
	name   string
	metric metric
}

// Evaluate parses the model (mlp.ParseModel) and the dataset
// (mlp.ParseDataset) and computes the metric.
func (b builtinEval) Evaluate(ctx context.Context, model, dataset []byte) (int64, error) {
	m, err := mlp.ParseModel(model)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrAbstain, b.name, err)
	}
	d, err := mlp.ParseDataset(dataset)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrAbstain, b.name, err)
	}
	score, err := b.metric(ctx, m, d)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrAbstain, b.name, err)
	}
	micro, err := Micro(score)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrAbstain, b.name, err)
	}
	return micro, nil
}
