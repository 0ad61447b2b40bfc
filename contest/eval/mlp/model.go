package mlp

import (
	"fmt"
	"strconv"
	"strings"
)

// Caps on a model.
const (
	MaxLayers = 8
	MaxWidth  = 4096        // inputs or outputs of any layer
	MaxParams = MaxElements // weights and biases together: every tensor is a parameter
)

// Layer is a fully connected layer: out = Weight·in + Bias, Weight being
// Out×In in row-major order.
type Layer struct {
	In, Out int
	Weight  []float32
	Bias    []float32
}

// Model is a multi-layer perceptron: layers in order, ReLU between them
// (not after the last).
type Model struct {
	Layers []Layer
}

// Inputs is the number of features the model takes.
func (m *Model) Inputs() int { return m.Layers[0].In }

// Outputs is the size of the model's output.
func (m *Model) Outputs() int { return m.Layers[len(m.Layers)-1].Out }

// ParseModel reads a model from safetensors. The file holds exactly the
// tensors layer<i>.weight, shape [out_i, in_i], and layer<i>.bias, shape
// [out_i], for i = 0..L-1 with 1 <= L <= MaxLayers, and in_{i+1} = out_i.
// Errors wrap ErrBadModel.
func ParseModel(b []byte) (*Model, error) {
	ts, err := ParseSafetensors(b)
	if err != nil {
		return nil, err
	}
	for name := range ts {
		if _, _, ok := layerTensor(name); !ok {
			return nil, badModel("unexpected tensor %q: a model holds only layer<i>.weight and layer<i>.bias", name)
		}
	}
	m := &Model{}
	for i := 0; ; i++ {
		w, hasW := ts[fmt.Sprintf("layer%d.weight", i)]
		bias, hasB := ts[fmt.Sprintf("layer%d.bias", i)]
		if !hasW && !hasB {
			break
		}
		if i == MaxLayers {
			return nil, badModel("more than %d layers", MaxLayers)
		}
		if !hasW || !hasB {
			return nil, badModel("layer%d has a weight or a bias but not both", i)
		}
		if len(w.Shape) != 2 {
			return nil, badModel("layer%d.weight has shape %v, want [out, in]", i, w.Shape)
		}
		out, in := w.Shape[0], w.Shape[1]
		if len(bias.Shape) != 1 || bias.Shape[0] != out {
			return nil, badModel("layer%d.bias has shape %v, want [%d] to match layer%d.weight %v", i, bias.Shape, out, i, w.Shape)
		}
		if out < 1 || in < 1 || out > MaxWidth || in > MaxWidth {
			return nil, badModel("layer%d.weight has shape %v: each dimension must be 1..%d", i, w.Shape, MaxWidth)
		}
		if i > 0 && in != m.Layers[i-1].Out {
			return nil, badModel("layer%d takes %d inputs but layer%d gives %d outputs", i, in, i-1, m.Layers[i-1].Out)
		}
		m.Layers = append(m.Layers, Layer{In: in, Out: out, Weight: w.Data, Bias: bias.Data})
	}
	if len(m.Layers) == 0 {
		return nil, badModel("no layers: want tensors layer0.weight and layer0.bias")
	}
	if got := 2 * len(m.Layers); len(ts) != got {
		// Present but not reached from layer0: e.g. layer0, layer2.
		return nil, badModel("layers must be numbered 0..%d without gaps", len(m.Layers)-1)
	}
	return m, nil
}

// layerTensor splits "layer<i>.weight" / "layer<i>.bias" (i in canonical
// decimal form).
func layerTensor(name string) (int, string, bool) {
	rest, ok := strings.CutPrefix(name, "layer")
	if !ok {
		return 0, "", false
	}
	num, kind, ok := strings.Cut(rest, ".")
	if !ok || (kind != "weight" && kind != "bias") {
		return 0, "", false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 || strconv.Itoa(i) != num {
		return 0, "", false
	}
	return i, kind, true
}

// Encode writes the model as safetensors (see ParseModel).
func (m *Model) Encode() []byte {
	ts := map[string]Tensor{}
	for i, l := range m.Layers {
		ts[fmt.Sprintf("layer%d.weight", i)] = Tensor{Shape: []int{l.Out, l.In}, Data: l.Weight}
		ts[fmt.Sprintf("layer%d.bias", i)] = Tensor{Shape: []int{l.Out}, Data: l.Bias}
	}
	return EncodeSafetensors(ts)
}

// forwarder runs the model on one row at a time, reusing its buffers.
type forwarder struct {
	m        *Model
	cur, nxt []float64
}

func newForwarder(m *Model) *forwarder {
	w := 0
	for _, l := range m.Layers {
		w = max(w, l.In, l.Out)
	}
	return &forwarder{m: m, cur: make([]float64, w), nxt: make([]float64, w)}
}

// forward returns the model's output for x; the slice is reused by the
// next call.
func (f *forwarder) forward(x []float64) []float64 {
	cur := f.cur[:len(x)]
	copy(cur, x)
	nxt := f.nxt
	last := len(f.m.Layers) - 1
	for li, l := range f.m.Layers {
		nxt = nxt[:l.Out]
		for o := range l.Out {
			row := l.Weight[o*l.In : (o+1)*l.In]
			acc := float64(l.Bias[o])
			for j, w := range row {
				// The conversion rounds the product, which forbids
				// fusing it with the add into an FMA.
				acc += float64(float64(w) * cur[j])
			}
			if li != last && acc < 0 {
				acc = 0 // ReLU
			}
			nxt[o] = acc
		}
		cur, nxt = nxt, cur[:cap(cur)]
	}
	return cur
}

// Forward returns the model's output for one row of features.
func (m *Model) Forward(x []float64) []float64 {
	out := newForwarder(m).forward(x)
	return append([]float64(nil), out...)
}
