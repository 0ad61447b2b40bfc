// Package mlp reads and writes the formats of the built-in contest
// evaluators: a small multi-layer perceptron stored as safetensors, and a
// CSV dataset; and computes their metrics. It uses only the standard
// library, so a Go evaluator built for wasip1 can import it too.
//
// Arithmetic is float64 with every product explicitly rounded before it is
// added (Go may otherwise fuse a*b+c into one FMA on some CPUs), so a score
// is bit-for-bit the same on every platform, wasm included.
package mlp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// ErrBadModel: the model bytes are not a valid model for the evaluator.
var ErrBadModel = errors.New("bad model")

// Caps on a safetensors file, so a hostile file cannot make the reader
// allocate or loop without bound.
const (
	MaxHeaderBytes = 1 << 20
	MaxTensors     = 64
	MaxElements    = 4 << 20 // float32 values in all tensors together
)

// Tensor is one F32 tensor: Data holds the values in row-major order.
type Tensor struct {
	Shape []int
	Data  []float32
}

func badModel(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadModel, fmt.Sprintf(format, args...))
}

// ParseSafetensors reads a safetensors file: an 8-byte little-endian header
// length N, N bytes of JSON header {name: {"dtype", "shape",
// "data_offsets": [begin, end]}, optional "__metadata__": {string: string}}
// padded with spaces, then the byte buffer the offsets point into. It is
// strict: only dtype F32, exact key names, no duplicate keys, tensors that
// tile the buffer exactly (no gaps, overlaps or trailing bytes) and finite
// values. Errors wrap ErrBadModel.
func ParseSafetensors(b []byte) (map[string]Tensor, error) {
	if len(b) < 8 {
		return nil, badModel("safetensors: %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	switch {
	case n < 2:
		return nil, badModel("safetensors: header length %d is too short for a JSON object", n)
	case n > MaxHeaderBytes:
		return nil, badModel("safetensors: header length %d exceeds the %d-byte cap", n, MaxHeaderBytes)
	case n > uint64(len(b)-8):
		return nil, badModel("safetensors: header length %d runs past the end of the %d-byte file", n, len(b))
	}
	header, buf := b[8:8+n], b[8+n:]
	if !utf8.Valid(header) {
		return nil, badModel("safetensors: header is not valid UTF-8")
	}
	if header[0] != '{' {
		return nil, badModel("safetensors: header does not start with '{'")
	}
	keys, vals, err := objectFields(bytes.TrimRight(header, " "))
	if err != nil {
		return nil, badModel("safetensors: header: %v", err)
	}
	type span struct {
		name       string
		begin, end uint64
	}
	var spans []span
	out := map[string]Tensor{}
	total := 0
	for i, name := range keys {
		if name == "__metadata__" {
			var meta map[string]string
			if err := json.Unmarshal(vals[i], &meta); err != nil {
				return nil, badModel("safetensors: __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		if name == "" {
			return nil, badModel("safetensors: a tensor has an empty name")
		}
		if len(out) == MaxTensors {
			return nil, badModel("safetensors: more than %d tensors", MaxTensors)
		}
		dtype, shape, offs, err := tensorInfo(vals[i])
		if err != nil {
			return nil, badModel("safetensors: tensor %q: %v", name, err)
		}
		if dtype != "F32" {
			return nil, badModel("safetensors: tensor %q: dtype %q not supported (only F32)", name, dtype)
		}
		numel := 1
		for _, d := range shape {
			if d < 0 {
				return nil, badModel("safetensors: tensor %q: negative dimension %d in shape %v", name, d, shape)
			}
			if d > 0 && numel > MaxElements/d {
				return nil, badModel("safetensors: tensor %q: shape %v has more than %d elements", name, shape, MaxElements)
			}
			numel *= d
		}
		total += numel
		if total > MaxElements {
			return nil, badModel("safetensors: more than %d elements in all tensors", MaxElements)
		}
		begin, end := offs[0], offs[1]
		switch {
		case begin > end:
			return nil, badModel("safetensors: tensor %q: data_offsets [%d, %d] end before they begin", name, begin, end)
		case end > uint64(len(buf)):
			return nil, badModel("safetensors: tensor %q: data_offsets end %d past the %d-byte data buffer", name, end, len(buf))
		case end-begin != uint64(numel)*4:
			return nil, badModel("safetensors: tensor %q: data_offsets span %d bytes, shape %v of F32 needs %d", name, end-begin, shape, numel*4)
		}
		data := make([]float32, numel)
		for j := range data {
			v := math.Float32frombits(binary.LittleEndian.Uint32(buf[begin+uint64(4*j):]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, badModel("safetensors: tensor %q: element %d is %v", name, j, v)
			}
			data[j] = v
		}
		out[name] = Tensor{Shape: shape, Data: data}
		spans = append(spans, span{name, begin, end})
	}
	// The spec asks the tensors to tile the buffer: anything else hides
	// bytes no reader looks at.
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			return cmpU64(a.begin, b.begin)
		}
		return cmpU64(a.end, b.end)
	})
	var at uint64
	for _, s := range spans {
		if s.begin != at {
			return nil, badModel("safetensors: tensor %q starts at byte %d of the data buffer, expected %d (gap or overlap)", s.name, s.begin, at)
		}
		at = s.end
	}
	if at != uint64(len(buf)) {
		return nil, badModel("safetensors: %d trailing bytes after the last tensor's data", uint64(len(buf))-at)
	}
	return out, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// tensorInfo reads {"dtype": s, "shape": [ints], "data_offsets": [b, e]}
// with exactly these keys.
func tensorInfo(raw json.RawMessage) (dtype string, shape []int, offs [2]uint64, err error) {
	keys, vals, err := objectFields(raw)
	if err != nil {
		return "", nil, offs, err
	}
	seen := map[string]bool{}
	for i, k := range keys {
		switch k {
		case "dtype":
			err = json.Unmarshal(vals[i], &dtype)
		case "shape":
			err = json.Unmarshal(vals[i], &shape)
			if err == nil && shape == nil {
				err = errors.New("is null")
			}
		case "data_offsets":
			var o []uint64
			err = json.Unmarshal(vals[i], &o)
			if err == nil && len(o) != 2 {
				err = fmt.Errorf("has %d numbers, want 2", len(o))
			}
			if err == nil {
				offs = [2]uint64{o[0], o[1]}
			}
		default:
			return "", nil, offs, fmt.Errorf("unknown key %q (want dtype, shape, data_offsets)", k)
		}
		if err != nil {
			return "", nil, offs, fmt.Errorf("%s: %v", k, err)
		}
		seen[k] = true
	}
	for _, k := range []string{"dtype", "shape", "data_offsets"} {
		if !seen[k] {
			return "", nil, offs, fmt.Errorf("missing %q", k)
		}
	}
	return dtype, shape, offs, nil
}

// objectFields splits a JSON object into its keys and raw values, in order,
// rejecting duplicate keys (encoding/json would keep the last silently) and
// anything after the closing brace.
func objectFields(b []byte) ([]string, []json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	var keys []string
	var vals []json.RawMessage
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("object key %v is not a string", tok)
		}
		if seen[k] {
			return nil, nil, fmt.Errorf("duplicate key %q", k)
		}
		seen[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("value of %q: %v", k, err)
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	if dec.More() || dec.InputOffset() != int64(len(b)) {
		return nil, nil, fmt.Errorf("unexpected bytes after the object at offset %d", dec.InputOffset())
	}
	return keys, vals, nil
}

// EncodeSafetensors writes tensors as safetensors with names in sorted
// order and the header padded with spaces to a multiple of 8 bytes, so the
// same tensors always give the same bytes.
func EncodeSafetensors(tensors map[string]Tensor) []byte {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	var h bytes.Buffer
	h.WriteByte('{')
	var off int
	for i, n := range names {
		t := tensors[n]
		if i > 0 {
			h.WriteByte(',')
		}
		q, _ := json.Marshal(n)
		h.Write(q)
		h.WriteString(`:{"dtype":"F32","shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, off+4*len(t.Data))
		off += 4 * len(t.Data)
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	out := make([]byte, 8, 8+h.Len()+off)
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	out = append(out, h.Bytes()...)
	for _, n := range names {
		for _, v := range tensors[n].Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out
}
