package eval_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/contest/eval/mlp"
	"github.com/inferd/inferd/ledger/contest"
)

// The ledger accepts specs naming these built-ins: both lists must agree.
func TestBuiltinNamesMatchLedger(t *testing.T) {
	names := eval.BuiltinNames()
	if !slices.Equal(names, []string{"mlp-accuracy", "mlp-mse"}) {
		t.Fatalf("BuiltinNames = %v", names)
	}
	ledger := slices.Sorted(slices.Values(contest.BuiltinEvaluators))
	if !slices.Equal(names, ledger) {
		t.Fatalf("eval has %v, ledger/contest accepts %v", names, ledger)
	}
	for _, n := range names {
		if _, ok := eval.Builtin(n); !ok {
			t.Fatalf("Builtin(%q) missing", n)
		}
	}
	if _, ok := eval.Builtin("mlp-f1"); ok {
		t.Fatal("unknown built-in found")
	}
}

func TestMicro(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want int64
	}{
		{0.8125, 812500}, {1.0 / 3, 333333}, {2.0 / 3, 666667}, {0, 0},
		{-2.5e-7, 0}, {-5e-7, -1}, {1234.5, 1234500000}, {-13.0 / 3, -4333333},
	} {
		got, err := eval.Micro(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Micro(%v) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), 9e12, -1e300} {
		if _, err := eval.Micro(bad); err == nil {
			t.Errorf("Micro(%v) accepted", bad)
		}
	}
}

func builtin(t testing.TB, name string) eval.Evaluator {
	ev, ok := eval.Builtin(name)
	if !ok {
		t.Fatalf("no built-in %q", name)
	}
	return ev
}

func TestBuiltinAccuracyOnDemo(t *testing.T) {
	data := demo.Dataset(7)
	d, _ := mlp.ParseDataset(data)
	for _, model := range [][]byte{demo.BaselineModel(7), demo.BetterModel(7)} {
		got, err := builtin(t, "mlp-accuracy").Evaluate(context.Background(), model, data)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := mlp.ParseModel(model)
		acc, _ := mlp.Accuracy(context.Background(), m, d)
		if want := int64(math.Round(acc * 1e6)); got != want {
			t.Fatalf("score %d, want %d", got, want)
		}
	}
}

func TestBuiltinMSE(t *testing.T) {
	// out = 2x - 1.
	model := (&mlp.Model{Layers: []mlp.Layer{{In: 1, Out: 1, Weight: []float32{2}, Bias: []float32{-1}}}}).Encode()
	// errors 0, 0.5, -1: mse = 1.25/3 = 0.41666...
	got, err := builtin(t, "mlp-mse").Evaluate(context.Background(), model, []byte("x,label\n1,1\n0,-1.5\n2,4\n"))
	if err != nil || got != 416667 {
		t.Fatalf("mse score %d, %v; want 416667", got, err)
	}
	// The accuracy evaluator refuses a one-output model.
	_, err = builtin(t, "mlp-accuracy").Evaluate(context.Background(), model, []byte("x,label\n1,0\n"))
	if !errors.Is(err, eval.ErrAbstain) || !errors.Is(err, mlp.ErrBadModel) {
		t.Fatalf("accuracy of a regressor: %v", err)
	}
}

func TestBuiltinMalformedInputs(t *testing.T) {
	good := demo.BetterModel(1)
	data := demo.Dataset(1)
	truncated := good[:len(good)-3]
	for _, tc := range []struct {
		name          string
		model, data   []byte
		want          error
		says          string
		evaluatorName string
	}{
		{"truncated model", truncated, data, mlp.ErrBadModel, "data_offsets end", "mlp-accuracy"},
		{"model is CSV", data, data, mlp.ErrBadModel, "header length", "mlp-accuracy"},
		{"dataset is safetensors", good, good, mlp.ErrBadDataset, "line 1", "mlp-accuracy"},
		{"dataset bad number", good, []byte("x,y,label\n1,2,0\n1,two,0\n"), mlp.ErrBadDataset, `line 3: field 2 ("y"): "two" is not a decimal number`, "mlp-accuracy"},
		{"feature count", good, []byte("x,label\n1,0\n"), mlp.ErrBadModel, "layer0 takes 2 inputs, the dataset has 1 features", "mlp-accuracy"},
		{"mse of classifier", good, data, mlp.ErrBadModel, "mse needs one output, the model has 3", "mlp-mse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := builtin(t, tc.evaluatorName).Evaluate(context.Background(), tc.model, tc.data)
			if !errors.Is(err, eval.ErrAbstain) || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want ErrAbstain and %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), tc.evaluatorName) {
				t.Fatalf("error %q does not name the evaluator and say %q", err, tc.says)
			}
		})
	}
}
