package mlp

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
)

// FuzzParseDataset: any bytes give a dataset or an ErrBadDataset error,
// never a panic; a dataset is within the caps, holds only finite numbers,
// one row of features per label, and survives a round trip through Encode;
// the metrics run on it (when it fits the two-input test model) without
// panicking and fail only with the package's errors. Seeds: the datasets
// of the other tests and every malformed one of TestDatasetMalformed.
func FuzzParseDataset(f *testing.F) {
	for _, s := range []string{
		"x,y,label\r\n1,-2.5,0\n+3e2,0.5E-1,1\n",
		"a,b,label\n1,0,0\n0,1,1\n2,3,1\n-1,-2,0\n5,1,1\n",
		"x,y,label\n1,1,0\n3,0,1\n0,0,-1\n",
		"x,y,label\n1e300,0,0\n",
		"a,b,label\n1,0,0\n1,0,0.5\n",
	} {
		f.Add([]byte(s))
	}
	for _, tc := range malformedDatasets {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDataset(b)
		if err != nil {
			if !errors.Is(err, ErrBadDataset) {
				t.Fatalf("error %v does not wrap ErrBadDataset", err)
			}
			return
		}
		nf := len(d.Features)
		if nf < 1 || nf > MaxFeatures || d.Rows() < 1 || d.Rows() > MaxRows || len(d.X) != d.Rows()*nf {
			t.Fatalf("%d features, %d rows, %d values", nf, d.Rows(), len(d.X))
		}
		for _, v := range append(append([]float64{}, d.X...), d.Y...) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("value %v", v)
			}
		}
		again, err := ParseDataset(d.Encode())
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Fatalf("round trip: %v", err)
		}
		if nf == 2 {
			for name, metric := range map[string]func(context.Context, *Model, *Dataset) (float64, error){"accuracy": Accuracy, "mse": MSE} {
				if _, err := metric(context.Background(), identity2(), d); err != nil && !errors.Is(err, ErrBadModel) && !errors.Is(err, ErrBadDataset) {
					t.Fatalf("%s: error %v wraps neither ErrBadModel nor ErrBadDataset", name, err)
				}
			}
		}
	})
}
