// Command accuracy is an example contest evaluator written in Go and built
// for WebAssembly:
//
//	GOOS=wasip1 GOARCH=wasm go build -o accuracy.wasm ./contest/eval/examples/accuracy
//
// It follows the evaluator ABI (see package contest/eval): it reads the
// model from /model and the dataset from /dataset, prints the score as a
// decimal number on standard output and exits 0; on any error it writes
// the reason to standard error and exits 1, and the validator abstains.
// It computes the same metric as the built-in "mlp-accuracy", so the two
// give the same score.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/inferd/inferd/contest/eval/mlp"
)

func main() {
	score, err := evaluate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "accuracy:", err)
		os.Exit(1)
	}
	// The shortest decimal that reads back as exactly this float64.
	fmt.Println(strconv.FormatFloat(score, 'f', -1, 64))
}

func evaluate() (float64, error) {
	modelBytes, err := os.ReadFile("/model")
	if err != nil {
		return 0, err
	}
	dataBytes, err := os.ReadFile("/dataset")
	if err != nil {
		return 0, err
	}
	model, err := mlp.ParseModel(modelBytes)
	if err != nil {
		return 0, err
	}
	data, err := mlp.ParseDataset(dataBytes)
	if err != nil {
		return 0, err
	}
	return mlp.Accuracy(context.Background(), model, data)
}
