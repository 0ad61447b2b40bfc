package agent

import (
	"fmt"

	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/wasmrun"
)

// DefaultEvaluators is the EvaluatorFactory a node uses: contest/eval's
// built-ins by name, and WebAssembly evaluators run by wasmrun under
// WasmLimits (zero fields: wasmrun's defaults).
func DefaultEvaluators(e contest.Evaluator, wasm []byte) (Evaluator, error) {
	if e.Wasm != "" {
		return eval.Wasm(wasm, WasmLimits)
	}
	ev, ok := eval.Builtin(e.Builtin)
	if !ok {
		return nil, fmt.Errorf("%w: unknown built-in evaluator %q (this node knows %v)", eval.ErrAbstain, e.Builtin, eval.BuiltinNames())
	}
	return ev, nil
}

// WasmLimits bound every WebAssembly evaluation of DefaultEvaluators.
var WasmLimits = wasmrun.Limits{}
