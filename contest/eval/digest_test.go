package eval_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/inferd/inferd/contest/copytest"
	"github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/contest/eval/mlp"
)

// TestModelDigest: a re-serialised container and a model with -0 weights
// have the original's digest (and its score) though their bytes differ; a
// perturbed copy has another digest; a file that is not a model has none.
func TestModelDigest(t *testing.T) {
	orig := demo.BetterModel(1)
	want, err := eval.ModelDigest(orig)
	if err != nil {
		t.Fatal(err)
	}
	re, err := copytest.Reserialise(orig)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(re, orig) {
		t.Fatal("Reserialise returned the same bytes")
	}
	m, _ := mlp.ParseModel(orig)
	m.Layers[0].Bias[0] = 0
	z := m.Encode()
	m.Layers[0].Bias[0] = float32(negZero())
	negz := m.Encode()
	zd, _ := eval.ModelDigest(z)
	if got, _ := eval.ModelDigest(re); !bytes.Equal(got, want) {
		t.Errorf("re-serialised: digest %x, want %x", got, want)
	}
	if got, _ := eval.ModelDigest(negz); !bytes.Equal(got, zd) {
		t.Errorf("-0 bias: digest %x, want %x (the +0 one)", got, zd)
	}
	if bytes.Equal(eval.FileDigest(re), eval.FileDigest(orig)) || bytes.Equal(eval.FileDigest(negz), eval.FileDigest(z)) {
		t.Error("the file digests should differ (the bytes do)")
	}
	ev, _ := eval.Builtin("mlp-accuracy")
	data := demo.Dataset(1)
	s0, _ := ev.Evaluate(context.Background(), orig, data)
	s1, _ := ev.Evaluate(context.Background(), re, data)
	if s0 != s1 {
		t.Errorf("scores %d and %d", s0, s1)
	}
	noisy, err := copytest.Perturb(orig, 1, 1e-4)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := eval.ModelDigest(noisy); bytes.Equal(got, want) {
		t.Error("a perturbed model has the original's digest")
	}
	if _, err := eval.ModelDigest([]byte("not a model")); !errors.Is(err, eval.ErrAbstain) || !errors.Is(err, mlp.ErrBadModel) {
		t.Errorf("bad model: %v", err)
	}
	if d, ok := ev.(eval.Digester); !ok {
		t.Error("the built-in evaluator is no Digester")
	} else if got, _ := d.Digest(re); !bytes.Equal(got, want) {
		t.Error("Digest differs from ModelDigest")
	}
}

func negZero() float64 { z := 0.0; return -z }
