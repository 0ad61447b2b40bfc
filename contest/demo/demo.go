// Package demo generates the devnet demo contest's data: a small
// classification dataset (2-D points in 3 overlapping clusters), a weak
// baseline model and a better one trained by plain SGD, all byte-for-byte
// the same for a seed on every platform.
//
// Determinism: random numbers come from PCG (integer arithmetic) turned
// into uniform floats exactly; the clusters' noise is a sum of uniforms, not
// a Gaussian (whose Exp/Log may differ by an ulp between CPUs); training
// uses only +, -, × with each product explicitly rounded (Go may fuse a*b+c
// into one FMA on some CPUs otherwise) and a squared loss (no Exp).
package demo

import (
	"math"
	"math/rand/v2"

	"github.com/inferd/inferd/contest/eval/mlp"
)

// Shape of the demo problem.
const (
	Rows     = 300
	Classes  = 3
	Features = 2
	Hidden   = 16
)

// Training schedule of BetterModel.
const (
	epochs       = 40
	learningRate = 0.02
)

// centers of the three classes; the noise makes neighbours overlap a little,
// so no model scores 100%.
var centers = [Classes][Features]float64{{0, 2}, {-1.8, -1}, {1.8, -1}}

// PCG streams, so the dataset and the models draw independent numbers.
const (
	streamData  = 0x64656d6f2d64 // "demo-d"
	streamModel = 0x64656d6f2d6d // "demo-m"
)

// points is the demo dataset for seed, values rounded to 4 decimals so the
// CSV carries them exactly.
func points(seed uint64) *mlp.Dataset {
	rng := rand.New(rand.NewPCG(seed, streamData))
	d := &mlp.Dataset{Features: []string{"x", "y"}}
	for i := range Rows {
		class := i % Classes
		for f := range Features {
			// Sum of 4 uniforms: bell-shaped, mean 0, sd ≈ 0.58 before scaling.
			n := rng.Float64() + rng.Float64() + rng.Float64() + rng.Float64() - 2
			v := centers[class][f] + float64(1.7*n)
			d.X = append(d.X, math.Round(v*1e4)/1e4)
		}
		d.Y = append(d.Y, float64(class))
	}
	return d
}

// Dataset is the demo dataset in the CSV format of contest/eval: columns
// x, y, label (0, 1 or 2), Rows rows.
func Dataset(seed uint64) []byte { return points(seed).Encode() }

// net is a Features→Hidden→Classes MLP in float64, for training.
type net struct {
	w0 [Hidden][Features]float64
	b0 [Hidden]float64
	w1 [Classes][Hidden]float64
	b1 [Classes]float64
}

func initNet(seed uint64) *net {
	rng := rand.New(rand.NewPCG(seed, streamModel))
	u := func(scale float64) float64 { return float64((2*rng.Float64() - 1) * scale) }
	n := &net{}
	for h := range Hidden {
		for f := range Features {
			n.w0[h][f] = u(1)
		}
		n.b0[h] = u(0.5)
	}
	for c := range Classes {
		for h := range Hidden {
			n.w1[c][h] = u(0.3)
		}
	}
	return n
}

func (n *net) forward(x []float64, h *[Hidden]float64, o *[Classes]float64) {
	for j := range Hidden {
		acc := n.b0[j]
		for f := range Features {
			acc += float64(n.w0[j][f] * x[f])
		}
		h[j] = max(acc, 0)
	}
	for c := range Classes {
		acc := n.b1[c]
		for j := range Hidden {
			acc += float64(n.w1[c][j] * h[j])
		}
		o[c] = acc
	}
}

// step is one SGD step on the squared error against the one-hot label.
func (n *net) step(x []float64, label int) {
	var h [Hidden]float64
	var o [Classes]float64
	n.forward(x, &h, &o)
	var do [Classes]float64
	for c := range Classes {
		target := 0.0
		if c == label {
			target = 1
		}
		do[c] = o[c] - target
	}
	var dh [Hidden]float64
	for j := range Hidden {
		if h[j] <= 0 {
			continue // ReLU passes no gradient
		}
		for c := range Classes {
			dh[j] += float64(n.w1[c][j] * do[c])
		}
	}
	for c := range Classes {
		for j := range Hidden {
			n.w1[c][j] -= float64(learningRate * float64(do[c]*h[j]))
		}
		n.b1[c] -= float64(learningRate * do[c])
	}
	for j := range Hidden {
		for f := range Features {
			n.w0[j][f] -= float64(learningRate * float64(dh[j]*x[f]))
		}
		n.b0[j] -= float64(learningRate * dh[j])
	}
}

func (n *net) model() *mlp.Model {
	l0 := mlp.Layer{In: Features, Out: Hidden}
	for j := range Hidden {
		for f := range Features {
			l0.Weight = append(l0.Weight, float32(n.w0[j][f]))
		}
		l0.Bias = append(l0.Bias, float32(n.b0[j]))
	}
	l1 := mlp.Layer{In: Hidden, Out: Classes}
	for c := range Classes {
		for j := range Hidden {
			l1.Weight = append(l1.Weight, float32(n.w1[c][j]))
		}
		l1.Bias = append(l1.Bias, float32(n.b1[c]))
	}
	return &mlp.Model{Layers: []mlp.Layer{l0, l1}}
}

// BaselineModel is the untrained network (random weights) as safetensors:
// the weak model the demo contest starts from.
func BaselineModel(seed uint64) []byte { return initNet(seed).model().Encode() }

// BetterModel is the same network trained by SGD on Dataset(seed), as
// safetensors. It takes a few milliseconds.
func BetterModel(seed uint64) []byte {
	d := points(seed)
	n := initNet(seed)
	rng := rand.New(rand.NewPCG(seed, streamModel+1))
	for range epochs {
		for _, i := range rng.Perm(d.Rows()) {
			n.step(d.Row(i), int(d.Y[i]))
		}
	}
	return n.model().Encode()
}
