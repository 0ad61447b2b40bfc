package mlp

import (
	"context"
	"math"
)

// checkEvery is how many rows pass between looks at the context.
const checkEvery = 256

func compatible(m *Model, d *Dataset) error {
	if m.Inputs() != len(d.Features) {
		return badModel("layer0 takes %d inputs, the dataset has %d features", m.Inputs(), len(d.Features))
	}
	return nil
}

// Accuracy is the share of rows whose label is the index of the model's
// largest output (class logits; on a tie the lowest index wins). Labels
// must be class indices 0..Outputs()-1. Errors wrap ErrBadModel,
// ErrBadDataset or the context's error.
func Accuracy(ctx context.Context, m *Model, d *Dataset) (float64, error) {
	if err := compatible(m, d); err != nil {
		return 0, err
	}
	if m.Outputs() < 2 {
		return 0, badModel("accuracy needs class logits (2 or more outputs), the model has %d", m.Outputs())
	}
	for i, y := range d.Y {
		if y < 0 || y != math.Trunc(y) {
			return 0, badData(i+2, "label %v is not a class index (0, 1, 2, ...)", y)
		}
		if y >= float64(m.Outputs()) {
			return 0, badModel("the dataset has class %v (line %d), the model only %d outputs", y, i+2, m.Outputs())
		}
	}
	f := newForwarder(m)
	correct := 0
	for i := range d.Rows() {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		if float64(Argmax(f.forward(d.Row(i)))) == d.Y[i] {
			correct++
		}
	}
	return float64(correct) / float64(d.Rows()), nil
}

// MSE is the mean over rows of (output - label)², for a model with one
// output. Errors wrap ErrBadModel or the context's error.
func MSE(ctx context.Context, m *Model, d *Dataset) (float64, error) {
	if err := compatible(m, d); err != nil {
		return 0, err
	}
	if m.Outputs() != 1 {
		return 0, badModel("mse needs one output, the model has %d", m.Outputs())
	}
	f := newForwarder(m)
	var sum float64
	for i := range d.Rows() {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		e := f.forward(d.Row(i))[0] - d.Y[i]
		sum += float64(e * e) // rounded first: no FMA
	}
	mse := sum / float64(d.Rows())
	if math.IsInf(mse, 0) || math.IsNaN(mse) {
		return 0, badModel("the model's outputs overflow: mse is %v", mse)
	}
	return mse, nil
}
