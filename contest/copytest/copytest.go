// Package copytest makes the copies a model thief would submit, for the
// tests of the contest copy rules (ledger/contest, e2e/attacks): the same
// weights in another safetensors container, and the weights perturbed by
// small noise.
package copytest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/inferd/inferd/contest/eval/mlp"
)

// Reserialise writes model's tensors into another valid safetensors file:
// tensors in reverse name order, a __metadata__ entry and a longer
// padding. The bytes (and so the CID) differ; the weights do not.
func Reserialise(model []byte) ([]byte, error) {
	ts, err := mlp.ParseSafetensors(model)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	slices.Sort(names)
	slices.Reverse(names)
	var h bytes.Buffer
	h.WriteString(`{"__metadata__":{"format":"pt","source":"re-serialised"}`)
	off := 0
	for _, n := range names {
		t := ts[n]
		q, _ := json.Marshal(n)
		fmt.Fprintf(&h, `,%s:{"data_offsets":[%d,%d],"dtype":"F32","shape":[`, q, off, off+4*len(t.Data))
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		h.WriteString("]}")
		off += 4 * len(t.Data)
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 || h.Len() < 64 {
		h.WriteByte(' ')
	}
	h.WriteString("        ")
	out := binary.LittleEndian.AppendUint64(nil, uint64(h.Len()))
	out = append(out, h.Bytes()...)
	for _, n := range names {
		for _, v := range ts[n].Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out, nil
}

// Perturb adds to every weight and bias of model a uniform noise in
// ±scale × |value| (relative, so small weights stay small), drawn from a
// PCG stream of seed: another model under any digest.
func Perturb(model []byte, seed uint64, scale float64) ([]byte, error) {
	m, err := mlp.ParseModel(model)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e6f697379)) // "noisy"
	noise := func(xs []float32) {
		for i, x := range xs {
			xs[i] = float32(float64(x) * (1 + scale*(2*rng.Float64()-1)))
		}
	}
	for i := range m.Layers {
		noise(m.Layers[i].Weight)
		noise(m.Layers[i].Bias)
	}
	return m.Encode(), nil
}
