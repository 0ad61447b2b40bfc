package eval_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/wasmrun"
	"github.com/inferd/inferd/wasmrun/wasmtest"
)

// testLimits are tight on memory and output, so hostile evaluators fail
// fast, and generous on time, so a loaded machine does not fail the good
// ones; loopLimits cut infinite loops short.
var (
	testLimits = wasmrun.Limits{MemoryBytes: 64 << 20, Timeout: 20 * time.Second, MaxOutput: 1024}
	loopLimits = wasmrun.Limits{MemoryBytes: 64 << 20, Timeout: 500 * time.Millisecond, MaxOutput: 1024}
)

// compiled caches evaluators per source directory and limits across tests:
// wazero takes about a second to compile a Go module.
var (
	compiledMu sync.Mutex
	compiled   = map[string]eval.Evaluator{}
)

func goEvaluator(t testing.TB, dir string) eval.Evaluator {
	t.Helper()
	return goEvaluatorWith(t, dir, testLimits)
}

func goEvaluatorWith(t testing.TB, dir string, lim wasmrun.Limits) eval.Evaluator {
	t.Helper()
	wasm := wasmtest.Build(t, dir)
	compiledMu.Lock()
	defer compiledMu.Unlock()
	key := fmt.Sprint(dir, lim)
	if ev, ok := compiled[key]; ok {
		return ev
	}
	ev, err := eval.Wasm(wasm, lim)
	if err != nil {
		t.Fatal(err)
	}
	compiled[key] = ev
	return ev
}

func TestWasmExampleMatchesBuiltin(t *testing.T) {
	wasmEval := goEvaluator(t, "examples/accuracy")
	acc := builtin(t, "mlp-accuracy")
	ctx := context.Background()
	for seed := range uint64(3) {
		data := demo.Dataset(seed)
		for _, model := range [][]byte{demo.BaselineModel(seed), demo.BetterModel(seed)} {
			want, err := acc.Evaluate(ctx, model, data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := wasmEval.Evaluate(ctx, model, data)
			if err != nil || got != want {
				t.Fatalf("seed %d: wasm evaluator scores %d (%v), built-in %d", seed, got, err, want)
			}
		}
	}
	// A malformed model: the example exits 1 with the reason; the
	// validator abstains.
	_, err := wasmEval.Evaluate(ctx, []byte("junk"), demo.Dataset(0))
	if !errors.Is(err, eval.ErrAbstain) || !errors.Is(err, wasmrun.ErrExit) || !strings.Contains(err.Error(), "bad model") {
		t.Fatalf("malformed model: %v", err)
	}
}

func TestWasmNotAModule(t *testing.T) {
	_, err := eval.Wasm([]byte("print(0.9)"), wasmrun.Limits{})
	if !errors.Is(err, eval.ErrAbstain) || !errors.Is(err, wasmrun.ErrInvalidModule) || !strings.Contains(err.Error(), "not a WebAssembly module") {
		t.Fatalf("got %v", err)
	}
	_, err = eval.Wasm(wasmtest.Empty(), wasmrun.Limits{Timeout: -time.Second})
	if !errors.Is(err, eval.ErrAbstain) || !strings.Contains(err.Error(), "negative timeout") {
		t.Fatalf("bad limits: %v", err)
	}
}

// TestHostileEvaluators: whatever an evaluator does, the validator gets an
// ErrAbstain error promptly, never a crash or a hang, and a well-behaved
// run afterwards still works.
func TestHostileEvaluators(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		wasm  []byte
		model string
		want  error
	}{
		{"asm infinite loop", wasmtest.Loop(), "", wasmrun.ErrTimeout},
		{"asm unreachable", wasmtest.Trap(), "", wasmrun.ErrTrap},
		{"asm grows memory until refused", wasmtest.GrowForever(), "", wasmrun.ErrTrap},
		{"asm 4 GiB memory", wasmtest.BigMemory(65536), "", wasmrun.ErrMemory},
		{"asm prints nothing", wasmtest.Empty(), "", nil},
		{"go infinite loop", nil, "loop", wasmrun.ErrTimeout},
		{"go huge allocation", nil, "alloc", wasmrun.ErrMemory},
		{"go out-of-bounds load", nil, "trap", wasmrun.ErrTrap},
		{"go panic", nil, "panic", wasmrun.ErrExit},
		{"go floods stdout", nil, "spew", wasmrun.ErrOutputTooLarge},
		{"go prints words", nil, "words", nil},
		{"go prints two numbers", nil, "two", nil},
		{"go prints NaN", nil, "nan", nil},
		{"go prints 1e300", nil, "huge", nil},
		{"go prints nothing", nil, "empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := testLimits
			if tc.want == wasmrun.ErrTimeout {
				lim = loopLimits
			}
			var ev eval.Evaluator
			if tc.wasm != nil {
				var err error
				if ev, err = eval.Wasm(tc.wasm, lim); err != nil {
					t.Fatal(err)
				}
			} else {
				ev = goEvaluatorWith(t, "testdata/hostile", lim)
			}
			start := time.Now()
			score, err := ev.Evaluate(ctx, []byte(tc.model), demo.Dataset(0))
			if !errors.Is(err, eval.ErrAbstain) {
				t.Fatalf("score %d, err %v: want ErrAbstain", score, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v does not wrap %v", err, tc.want)
			}
			if d := time.Since(start); d > lim.Timeout+10*time.Second {
				t.Fatalf("took %v under a %v cap", d, lim.Timeout)
			}
		})
	}
	// The hostile module, and the process, are still fine.
	score, err := goEvaluator(t, "testdata/hostile").Evaluate(ctx, []byte("ok"), nil)
	if err != nil || score != 812500 {
		t.Fatalf("well-behaved run after hostile ones: %d, %v", score, err)
	}
}

// TestLoopTimesOutUnderGC: an infinite-loop evaluator that nothing but the
// run refers to times out even when garbage collections run during it. A
// Module found unreachable mid-run was once closed by its cleanup, which
// closed the guest with exit status 0: the loop "succeeded", printing
// nothing, after a few milliseconds.
func TestLoopTimesOutUnderGC(t *testing.T) {
	lim := loopLimits
	lim.Timeout = 200 * time.Millisecond
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				runtime.GC()
			}
		}
	}()
	defer wg.Wait()
	defer close(stop)
	for i := range 5 {
		// The evaluator is not kept: only Evaluate refers to it.
		_, err := evaluateOnce(t, wasmtest.Loop(), lim)
		if !errors.Is(err, eval.ErrAbstain) || !errors.Is(err, wasmrun.ErrTimeout) {
			t.Fatalf("run %d: %v, want a timeout", i, err)
		}
	}
}

func evaluateOnce(t *testing.T, wasm []byte, lim wasmrun.Limits) (int64, error) {
	ev, err := eval.Wasm(wasm, lim)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Evaluate(context.Background(), nil, nil)
}

// BenchmarkEvaluateDemo is the time a validator takes to score the demo
// contest's submission (BetterModel on Dataset, 300 rows): with the
// built-in evaluator, and with the example WebAssembly evaluator (compiled
// once, as a validator keeps it; each run instantiates a fresh module).
func BenchmarkEvaluateDemo(b *testing.B) {
	model, data := demo.BetterModel(1), demo.Dataset(1)
	for _, bc := range []struct {
		name string
		ev   func(b *testing.B) eval.Evaluator
	}{
		{"builtin", func(b *testing.B) eval.Evaluator { return builtin(b, "mlp-accuracy") }},
		{"wasm", func(b *testing.B) eval.Evaluator { return goEvaluator(b, "examples/accuracy") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ev := bc.ev(b)
			if _, err := ev.Evaluate(context.Background(), model, data); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := ev.Evaluate(context.Background(), model, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
