package eval

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/inferd/inferd/wasmrun"
)

// The files a WebAssembly evaluator reads (at /model and /dataset).
const (
	ModelFile   = "model"
	DatasetFile = "dataset"
)

// Wasm compiles a WebAssembly evaluator (see the package doc for its ABI),
// to run under lim (zero fields take wasmrun's defaults). The error wraps
// ErrAbstain, and wasmrun.ErrInvalidModule when the bytes are not a WASI
// command.
func Wasm(wasmBytes []byte, lim wasmrun.Limits) (Evaluator, error) {
	lim, err := lim.Resolve()
	if err != nil {
		return nil, fmt.Errorf("%w: wasm evaluator: %w", ErrAbstain, err)
	}
	mod, err := wasmrun.Compile(context.Background(), wasmBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: wasm evaluator: %w", ErrAbstain, err)
	}
	return &wasmEval{mod: mod, lim: lim}, nil
}

type wasmEval struct {
	mod *wasmrun.Module
	lim wasmrun.Limits
}

// Evaluate runs the module with model at /model and dataset at /dataset
// and reads the score it prints.
func (w *wasmEval) Evaluate(ctx context.Context, model, dataset []byte) (int64, error) {
	in := wasmrun.Input{Files: map[string][]byte{ModelFile: model, DatasetFile: dataset}}
	out, err := w.mod.Run(ctx, in, w.lim)
	if err != nil {
		return 0, fmt.Errorf("%w: wasm evaluator: %w", ErrAbstain, err)
	}
	score, err := parseScore(out)
	if err != nil {
		return 0, fmt.Errorf("%w: wasm evaluator: %v", ErrAbstain, err)
	}
	return score, nil
}

// decimal is the one form a printed score may take.
var decimal = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// parseScore reads "0.8125" or "0.8125\n" as micro-units.
func parseScore(out []byte) (int64, error) {
	s := bytes.TrimSuffix(out, []byte("\n"))
	if !decimal.Match(s) {
		const show = 64
		if len(out) > show {
			out = out[:show]
		}
		return 0, fmt.Errorf("printed %q, want one decimal number such as \"0.8125\"", out)
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return 0, fmt.Errorf("printed %q: %v", s, err)
	}
	return Micro(f)
}
