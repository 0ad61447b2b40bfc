package mlp

import (
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// rawST assembles a safetensors file from a header string and data bytes.
func rawST(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestSafetensorsRoundTrip(t *testing.T) {
	in := map[string]Tensor{
		"b": {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, -6.5}},
		"a": {Shape: []int{1}, Data: []float32{0.25}},
		"s": {Shape: []int{}, Data: []float32{7}}, // a scalar
	}
	enc := EncodeSafetensors(in)
	if n := binary.LittleEndian.Uint64(enc); n%8 != 0 {
		t.Fatalf("header length %d is not padded to 8", n)
	}
	out, err := ParseSafetensors(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: %v != %v", out, in)
	}
	// A file written by the reference implementation (Python safetensors,
	// save_file({"w": torch.tensor([1.0, 2.0])})) with __metadata__.
	ref := rawST(`{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32s(1, 2))
	got, err := ParseSafetensors(ref)
	if err != nil || !reflect.DeepEqual(got["w"].Data, []float32{1, 2}) {
		t.Fatalf("reference file: %v, %v", got, err)
	}
}

const okHeader = `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`

// malformedST are files ParseSafetensors refuses, with what it says: the
// table of TestSafetensorsMalformed and seeds of FuzzParseSafetensors.
var malformedST = func() []struct {
	name string
	file []byte
	want string
} {
	ok := okHeader
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	return []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "3 bytes, shorter than the 8-byte header length"},
		{"header too big", append(huge, "{}"...), "exceeds the 1048576-byte cap"},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 100), "{}"...), "header length 100 runs past the end"},
		{"not an object", rawST(`["w"]`, nil), "does not start with '{'"},
		{"bad json", rawST(`{"w":{"dtype":"F32",}}`, nil), "header: value of \"w\""},
		{"not utf-8", rawST("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"trailing junk", rawST(ok+"x", f32s(1, 2)), "unexpected bytes after the object"},
		{"duplicate tensor", rawST(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), `duplicate key "w"`},
		{"duplicate field", rawST(`{"w":{"dtype":"F32","dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, nil), `duplicate key "dtype"`},
		{"wrong case", rawST(`{"w":{"DTYPE":"F32","shape":[2],"data_offsets":[0,8]}}`, f32s(1, 2)), `unknown key "DTYPE"`},
		{"missing offsets", rawST(`{"w":{"dtype":"F32","shape":[2]}}`, f32s(1, 2)), `tensor "w": missing "data_offsets"`},
		{"null shape", rawST(`{"w":{"dtype":"F32","shape":null,"data_offsets":[0,8]}}`, f32s(1, 2)), "shape: is null"},
		{"three offsets", rawST(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}`, f32s(1, 2)), "has 3 numbers, want 2"},
		{"f16", rawST(`{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, []byte{0, 0, 0, 0}), `dtype "F16" not supported (only F32)`},
		{"negative dim", rawST(`{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32s(1, 2)), "negative dimension -2"},
		{"too many elements", rawST(`{"w":{"dtype":"F32","shape":[65536,65536],"data_offsets":[0,8]}}`, f32s(1, 2)), "has more than 4194304 elements"},
		{"size mismatch", rawST(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32s(1, 2)), "span 8 bytes, shape [3] of F32 needs 12"},
		{"past buffer", rawST(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32s(1, 2)), "end 12 past the 8-byte data buffer"},
		{"reversed", rawST(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32s(1, 2)), "end before they begin"},
		{"gap", rawST(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32s(1, 2)), "starts at byte 4 of the data buffer, expected 0"},
		{"overlap", rawST(`{"v":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32s(1, 2)), `tensor "w" starts at byte 4 of the data buffer, expected 8`},
		{"trailing data", rawST(ok, f32s(1, 2, 3)), "4 trailing bytes after the last tensor"},
		{"nan", rawST(ok, f32s(1, float32(math.NaN()))), `tensor "w": element 1 is NaN`},
		{"inf", rawST(ok, f32s(float32(math.Inf(-1)), 1)), `element 0 is -Inf`},
		{"bad metadata", rawST(`{"__metadata__":{"n":1}}`, nil), "__metadata__ must map strings to strings"},
	}
}()

func TestSafetensorsMalformed(t *testing.T) {
	for _, tc := range malformedST {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSafetensors(tc.file)
			if !errors.Is(err, ErrBadModel) {
				t.Fatalf("got %v, want ErrBadModel", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// FuzzParseSafetensors: any input gives a result or an ErrBadModel error,
// never a panic; a result is within the caps (tensors, elements, no NaN or
// Inf) and survives a round trip through EncodeSafetensors; a model that
// parses survives one through Encode. Seeds: the round-trip files and every
// malformed file of TestSafetensorsMalformed.
func FuzzParseSafetensors(f *testing.F) {
	f.Add(EncodeSafetensors(map[string]Tensor{"layer0.weight": {Shape: []int{1, 2}, Data: []float32{1, 2}}}))
	f.Add(rawST(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32s(1)))
	f.Add(rawST(`{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32s(1, 2)))
	f.Add(identity2().Encode())
	for _, tc := range malformedST {
		f.Add(tc.file)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := ParseSafetensors(b)
		if err != nil && !errors.Is(err, ErrBadModel) {
			t.Fatalf("error %v does not wrap ErrBadModel", err)
		}
		if err == nil {
			if len(ts) > MaxTensors {
				t.Fatalf("%d tensors, over MaxTensors", len(ts))
			}
			total := 0
			for name, x := range ts {
				n := 1
				for _, d := range x.Shape {
					n *= d
				}
				if n != len(x.Data) {
					t.Fatalf("tensor %q: shape %v but %d values", name, x.Shape, len(x.Data))
				}
				for i, v := range x.Data {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("tensor %q: element %d is %v", name, i, v)
					}
				}
				total += n
			}
			if total > MaxElements {
				t.Fatalf("%d elements, over MaxElements", total)
			}
			again, err := ParseSafetensors(EncodeSafetensors(ts))
			if err != nil || !reflect.DeepEqual(again, ts) {
				t.Fatalf("round trip: %v (%v != %v)", err, again, ts)
			}
		}
		m, err := ParseModel(b)
		if err != nil && !errors.Is(err, ErrBadModel) {
			t.Fatalf("error %v does not wrap ErrBadModel", err)
		}
		if err == nil {
			again, err := ParseModel(m.Encode())
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("model round trip: %v", err)
			}
		}
	})
}
