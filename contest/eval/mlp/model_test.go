package mlp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// identity2 is 2→2→2 with identity weights: outputs relu(x).
func identity2() *Model {
	id := []float32{1, 0, 0, 1}
	return &Model{Layers: []Layer{
		{In: 2, Out: 2, Weight: id, Bias: []float32{0, 0}},
		{In: 2, Out: 2, Weight: id, Bias: []float32{0, 0}},
	}}
}

func TestModelRoundTripAndForward(t *testing.T) {
	m := &Model{Layers: []Layer{
		{In: 2, Out: 3, Weight: []float32{1, 2, -1, 0, 0.5, 0.5}, Bias: []float32{0, 1, -10}},
		{In: 3, Out: 1, Weight: []float32{1, -1, 2}, Bias: []float32{0.25}},
	}}
	got, err := ParseModel(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip: %+v != %+v", got, m)
	}
	// x=(3,4): hidden = relu(3+8, -3+0+1, 1.5+2-10) = (11, 0, 0); out = 11+0.25.
	if out := m.Forward([]float64{3, 4}); !reflect.DeepEqual(out, []float64{11.25}) {
		t.Fatalf("forward (3,4) = %v, want [11.25]", out)
	}
	// No ReLU after the last layer: a negative output stays negative.
	// x=(-1,0): hidden = relu(-1, 1+1, -0.5-10) = (0, 2, 0); out = -2+0.25.
	if out := m.Forward([]float64{-1, 0}); !reflect.DeepEqual(out, []float64{-1.75}) {
		t.Fatalf("forward (-1,0) = %v, want [-1.75]", out)
	}
}

func TestModelMalformed(t *testing.T) {
	w := func(shape ...int) Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return Tensor{Shape: shape, Data: make([]float32, n)}
	}
	many := map[string]Tensor{}
	for i := range MaxLayers + 1 {
		many[fmt.Sprintf("layer%d.weight", i)] = w(1, 1)
		many[fmt.Sprintf("layer%d.bias", i)] = w(1)
	}
	for _, tc := range []struct {
		name string
		ts   map[string]Tensor
		want string
	}{
		{"empty", map[string]Tensor{}, "no layers"},
		{"stray tensor", map[string]Tensor{"layer0.weight": w(2, 2), "layer0.bias": w(2), "scale": w(1)}, `unexpected tensor "scale"`},
		{"non-canonical index", map[string]Tensor{"layer00.weight": w(2, 2)}, `unexpected tensor "layer00.weight"`},
		{"missing bias", map[string]Tensor{"layer0.weight": w(2, 2)}, "layer0 has a weight or a bias but not both"},
		{"1-d weight", map[string]Tensor{"layer0.weight": w(4), "layer0.bias": w(2)}, "layer0.weight has shape [4], want [out, in]"},
		{"bias shape", map[string]Tensor{"layer0.weight": w(2, 3), "layer0.bias": w(3)}, "layer0.bias has shape [3], want [2]"},
		{"zero width", map[string]Tensor{"layer0.weight": w(0, 3), "layer0.bias": w(0)}, "each dimension must be 1..4096"},
		{"chain mismatch", map[string]Tensor{"layer0.weight": w(4, 2), "layer0.bias": w(4), "layer1.weight": w(1, 3), "layer1.bias": w(1)}, "layer1 takes 3 inputs but layer0 gives 4 outputs"},
		{"gap", map[string]Tensor{"layer0.weight": w(2, 2), "layer0.bias": w(2), "layer2.weight": w(2, 2), "layer2.bias": w(2)}, "numbered 0..0 without gaps"},
		{"too many layers", many, "more than 8 layers"},
		{"too many params", map[string]Tensor{"layer0.weight": w(4096, 1024), "layer0.bias": w(4096)}, "more than 4194304 elements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseModel(EncodeSafetensors(tc.ts))
			if !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrBadModel saying %q", err, tc.want)
			}
		})
	}
}

func TestDatasetParse(t *testing.T) {
	d, err := ParseDataset([]byte("x,y,label\r\n1,-2.5,0\n+3e2,.5e0,1"))
	if err == nil {
		t.Fatalf("'.5e0' accepted: %+v", d)
	}
	d, err = ParseDataset([]byte("x,y,label\r\n1,-2.5,0\n+3e2,0.5E-1,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Dataset{Features: []string{"x", "y"}, X: []float64{1, -2.5, 300, 0.05}, Y: []float64{0, 1}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("parsed %+v, want %+v", d, want)
	}
	again, err := ParseDataset(d.Encode())
	if err != nil || !reflect.DeepEqual(again, d) {
		t.Fatalf("round trip: %+v, %v", again, err)
	}
}

// malformedDatasets are files ParseDataset refuses, with what it says:
// the table of TestDatasetMalformed and seeds of FuzzParseDataset.
var malformedDatasets = []struct{ in, want string }{
	{"", "empty file"},
	{"x,y\n1,2\n", `line 1: header "x,y" must list the features, then "label" last`},
	{"label\n1\n", `line 1: header "label" must list the features`},
	{"x,,label\n1,2,3\n", "line 1: field 2: empty column name"},
	{"x, y,label\n1,2,3\n", `line 1: field 2: column name " y" has spaces`},
	{"x,x,label\n1,2,3\n", `line 1: field 2: column "x" repeats field 1`},
	{"x,label\n", "line 2: no rows after the header"},
	{"x,label\n1,0\n\n2,1\n", "line 3: blank line"},
	{"x,label\n1,0\n2\n", "line 3: 1 fields, the header has 2"},
	{"x,y,label\n1,2,0\n1,abc,0\n", `line 3: field 2 ("y"): "abc" is not a decimal number`},
	{"x,label\nNaN,0\n", `line 2: field 1 ("x"): "NaN" is not a decimal number`},
	{"x,label\n0x10,0\n", `"0x10" is not a decimal number`},
	{"x,label\n1_000,0\n", `"1_000" is not a decimal number`},
	{"x,label\n1e999,0\n", `"1e999" is out of the float64 range`},
	{"x,label\n1, 0\n", `field 2 ("label"): " 0" is not a decimal number`},
	{"x,label\n\"1\",0\n", `"\"1\"" is not a decimal number`},
}

func TestDatasetMalformed(t *testing.T) {
	for _, tc := range malformedDatasets {
		_, err := ParseDataset([]byte(tc.in))
		if !errors.Is(err, ErrBadDataset) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want ErrBadDataset saying %q", tc.in, err, tc.want)
		}
	}
}

func TestAccuracy(t *testing.T) {
	d, err := ParseDataset([]byte("a,b,label\n1,0,0\n0,1,1\n2,3,1\n-1,-2,0\n5,1,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	// relu outputs: (1,0)→0 ✓, (0,1)→1 ✓, (2,3)→1 ✓, (0,0) tie→0 ✓, (5,1)→0 ✗.
	acc, err := Accuracy(context.Background(), identity2(), d)
	if err != nil || acc != 0.8 {
		t.Fatalf("accuracy = %v, %v; want 0.8", acc, err)
	}
	for _, tc := range []struct {
		data string
		want error
		says string
	}{
		{"a,label\n1,0\n", ErrBadModel, "layer0 takes 2 inputs, the dataset has 1 features"},
		{"a,b,label\n1,0,0\n1,0,0.5\n", ErrBadDataset, "line 3: label 0.5 is not a class index"},
		{"a,b,label\n1,0,-1\n", ErrBadDataset, "line 2: label -1 is not a class index"},
		{"a,b,label\n1,0,0\n1,0,2\n", ErrBadModel, "class 2 (line 3), the model only 2 outputs"},
	} {
		d, err := ParseDataset([]byte(tc.data))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Accuracy(context.Background(), identity2(), d)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%q: got %v, want %v saying %q", tc.data, err, tc.want, tc.says)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Accuracy(ctx, identity2(), d); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestMSE(t *testing.T) {
	// out = x - 2y + 1, no hidden layer.
	m := &Model{Layers: []Layer{{In: 2, Out: 1, Weight: []float32{1, -2}, Bias: []float32{1}}}}
	d, err := ParseDataset([]byte("x,y,label\n1,1,0\n3,0,1\n0,0,-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	// outputs 0, 4, 1; errors 0, 3, 2; mse = (0+9+4)/3.
	mse, err := MSE(context.Background(), m, d)
	if err != nil || mse != 13.0/3 {
		t.Fatalf("mse = %v, %v; want %v", mse, err, 13.0/3)
	}
	if _, err := MSE(context.Background(), identity2(), d); !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), "mse needs one output, the model has 2") {
		t.Fatalf("two-output model: %v", err)
	}
	big := &Model{Layers: []Layer{{In: 2, Out: 1, Weight: []float32{math.MaxFloat32, 0}, Bias: []float32{0}}}}
	d2, _ := ParseDataset([]byte("x,y,label\n1e300,0,0\n"))
	if _, err := MSE(context.Background(), big, d2); !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("overflowing model: %v", err)
	}
}
