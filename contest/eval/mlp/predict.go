package mlp

// Argmax is the index of the largest value (the lowest index on a tie):
// the class a model's logits pick. It is the rule Accuracy scores by, so
// a served prediction is the class the evaluator counted.
func Argmax(out []float64) int {
	best := 0
	for k, v := range out {
		if v > out[best] {
			best = k
		}
	}
	return best
}

// Classify returns the class and the logits of the model for one row of
// features (len(x) must be m.Inputs()). It uses the evaluator's forward
// pass; it is safe for concurrent use.
func (m *Model) Classify(x []float64) (int, []float64) {
	out := m.Forward(x)
	return Argmax(out), out
}
