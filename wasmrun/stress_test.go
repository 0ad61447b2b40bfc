package wasmrun_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/inferd/inferd/wasmrun"
	"github.com/inferd/inferd/wasmrun/wasmtest"
)

// TestStressModulesAndGC runs the hand-assembled Loop, Empty and Trap
// commands concurrently, each from a freshly compiled Module (as
// contest/eval does per evaluator), while other goroutines compile, run,
// close and drop Modules of the same and other bytes and force garbage
// collections, so that Module cleanups close runtimes under the runs. A
// loop must always time out (never end early, and never succeed), an empty
// command always succeed and a trap always trap: a run must never see
// another Module's code, or its runtime closed, or its memory reused.
//
// WASMRUN_STRESS=n multiplies the work (e.g. with GOGC=1 and -cpu 1,2,4).
func TestStressModulesAndGC(t *testing.T) {
	scale := 1
	if s := os.Getenv("WASMRUN_STRESS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("WASMRUN_STRESS=%q: want a positive integer", s)
		}
		scale = n
	}
	rounds := 12 * scale
	if testing.Short() {
		rounds = 4
	}
	const loopTimeout = 60 * time.Millisecond
	ctx := context.Background()
	kinds := []struct {
		name string
		wasm func() []byte
		want error // nil: must succeed with no output
	}{
		{"loop", wasmtest.Loop, wasmrun.ErrTimeout},
		{"empty", wasmtest.Empty, nil},
		{"trap", wasmtest.Trap, wasmrun.ErrTrap},
	}

	stop := make(chan struct{})
	var churn sync.WaitGroup
	// Churners: Modules of every kind (and of memories and growth, which
	// use the run allocator) compiled, run under varied limits, then
	// closed or dropped for their cleanup to close them, with GC forced.
	for c := range 2 {
		churn.Add(1)
		go func() {
			defer churn.Done()
			sources := [][]byte{wasmtest.Loop(), wasmtest.Empty(), wasmtest.Trap(),
				wasmtest.GrowForever(), wasmtest.BigMemory(2)}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m, err := wasmrun.Compile(ctx, sources[(i+c)%len(sources)])
				if err != nil {
					t.Errorf("churn compile: %v", err)
					return
				}
				lim := wasmrun.Limits{MemoryBytes: uint64(1+i%7) << 20, Timeout: 5 * time.Millisecond}
				_, _ = m.Run(ctx, wasmrun.Input{}, lim)
				if i%2 == 0 {
					_ = m.Close(ctx)
				}
				m = nil // dropped: its cleanup closes it
				if i%3 == 0 {
					runtime.GC()
				}
			}
		}()
	}

	var wg sync.WaitGroup
	errc := make(chan error, 4*rounds*len(kinds))
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds * len(kinds) {
				k := kinds[(w+i)%len(kinds)]
				// A memory cap of its own per run: a new runtime, so a
				// compile under it, for most runs.
				// Only loops get a short cap: the others must end by
				// themselves, however loaded the machine.
				lim := wasmrun.Limits{MemoryBytes: uint64(1+(w*7+i)%13) << 20, Timeout: time.Minute}
				if k.want == wasmrun.ErrTimeout {
					lim.Timeout = loopTimeout
				}
				start := time.Now()
				// Half the runs drop the Module as soon as Run starts (as
				// contest/eval's evaluators may be): only Run keeps it alive.
				out, err := compileAndRun(ctx, k.wasm(), lim, i%2 == 0)
				d := time.Since(start)
				switch {
				case k.want == nil && (err != nil || len(out) != 0):
					errc <- fmt.Errorf("%s (worker %d, run %d): got %q, %v after %v, want success with no output", k.name, w, i, out, err, d)
				case k.want != nil && !errors.Is(err, k.want):
					errc <- fmt.Errorf("%s (worker %d, run %d): got %q, %v after %v, want %v", k.name, w, i, out, err, d, k.want)
				case k.want == wasmrun.ErrTimeout && d < loopTimeout*9/10:
					errc <- fmt.Errorf("%s (worker %d, run %d): timed out after %v, under the %v cap", k.name, w, i, d, loopTimeout)
				}
				if i%5 == 0 {
					runtime.GC()
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	churn.Wait()
	close(errc)
	n := 0
	for err := range errc {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("... %d failures in all", n)
	}
}

// compileAndRun compiles wasm and runs it once under lim. With closeAfter
// it closes the Module after the run; without, nothing refers to the
// Module once Run is called but Run itself, and a collection during the
// run may find it unreachable otherwise.
func compileAndRun(ctx context.Context, wasm []byte, lim wasmrun.Limits, closeAfter bool) ([]byte, error) {
	m, err := wasmrun.Compile(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	if !closeAfter {
		return m.Run(ctx, wasmrun.Input{}, lim)
	}
	defer m.Close(ctx)
	return m.Run(ctx, wasmrun.Input{}, lim)
}

// distinct numbers the modules TestClosedModulesReleaseMemory compiles, so
// that each is new to the process, with -count=n too.
var distinct uint32

// TestClosedModulesReleaseMemory: closing (or dropping) a Module releases
// what compiling it took. With one compilation cache shared by the whole
// process, wazero kept every distinct module's code and metadata (about
// 2 KiB of heap and 8 KiB of code even for these tiny modules, megabytes
// for a real evaluator) until the process exited.
func TestClosedModulesReleaseMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles hundreds of modules")
	}
	ctx := context.Background()
	churn := func(n int) {
		for i := range n {
			// BigMemory(k) differ by their minimum memory: distinct bytes.
			distinct++
			m, err := wasmrun.Compile(ctx, wasmtest.BigMemory(distinct))
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				_ = m.Close(ctx)
			}
		}
	}
	liveHeap := func() uint64 {
		var ms runtime.MemStats
		for range 3 { // twice for cleanups queued by the first, once more to be sure
			runtime.GC()
			time.Sleep(10 * time.Millisecond) // cleanups run on their own goroutine
		}
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	churn(100) // one-time allocations
	before := liveHeap()
	const n = 600
	churn(n)
	after := liveHeap()
	t.Logf("live heap %d KiB -> %d KiB after %d more modules", before>>10, after>>10, n)
	if after > before && after-before > n*512 {
		t.Fatalf("live heap grew by %d KiB over %d compiled and released modules: code or metadata kept", (after-before)>>10, n)
	}
}
