package agent

import (
	"context"
	"testing"
	"time"

	"github.com/inferd/inferd/wasmrun"
	"github.com/inferd/inferd/wasmrun/wasmtest"
)

// TestRunnerEvictionSparesRunningModules: while a job runs, more distinct
// workloads than the cache keeps are compiled and run; the running job's
// module is not closed under it (before the fix the eviction closed it and
// the run ended with a transient error, so the job was dropped and tried
// again, and with 9+ workloads in rotation never finished). Idle modules
// are evicted down to the cache size, which is at least MaxJobs.
func TestRunnerEvictionSparesRunningModules(t *testing.T) {
	ctx := context.Background()
	n, hosts := newTestNet(t, testParams, 1)
	h := hosts[0]
	r := newRunner(wasmrun.Limits{MemoryBytes: 16 << 20, Timeout: 1500 * time.Millisecond}, 1)
	defer r.close(ctx)
	input := n.put([]byte("x"))
	loop := n.put(wasmtest.Loop())
	type res struct {
		out Outcome
		err error
	}
	done := make(chan res, 1)
	go func() {
		out, err := r.Execute(ctx, h, loop.String(), input.String(), 1<<20)
		done <- res{out, err}
	}()
	// Wait until the loop's module is cached and in use.
	for {
		r.mu.Lock()
		c, ok := r.mods[string(loop.KeyString())]
		busy := ok && c.refs > 0
		r.mu.Unlock()
		if busy {
			break
		}
		time.Sleep(time.Millisecond)
	}
	for i := uint32(1); i <= keepModules+2; i++ {
		w := n.put(wasmtest.BigMemory(i))
		out, err := r.Execute(ctx, h, w.String(), input.String(), 1<<20)
		if err != nil || out.Result == "" {
			t.Fatalf("workload %d: %+v %v", i, out, err)
		}
	}
	got := <-done
	if got.err != nil || !got.out.Timeout {
		t.Fatalf("the running job: %+v %v (its module was closed under it)", got.out, got.err)
	}
	r.mu.Lock()
	size := len(r.mods)
	r.mu.Unlock()
	if size > keepModules {
		t.Fatalf("cache holds %d idle modules, keeps %d", size, keepModules)
	}
	if p := NewProvider(h, ProviderConfig{MaxJobs: 3 * keepModules}); p.run.keep < 3*keepModules {
		t.Fatalf("cache of %d for %d jobs", p.run.keep, 3*keepModules)
	}
}
