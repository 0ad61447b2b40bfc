package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/go-cid"

	hostapi "github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/wasmrun"
)

// Outcome of running a job's workload.
type Outcome struct {
	// Result is the CID of the output (stdout), when the run succeeded.
	Result string
	// Failure says why the workload cannot run, deterministically (the
	// same on every honest machine): an invalid module, a trap, a non-zero
	// exit, the memory or output cap, an input over max_input_bytes.
	Failure string
	// Timeout: the run hit the time cap, which depends on the machine; a
	// provider reports it as a failure, a verifier does not report it.
	Timeout bool
}

// failure texts are the wasmrun sentinels only (no guest detail), so that
// honest runs agree on them.
func failureOf(err error) (string, bool) {
	for _, s := range []error{wasmrun.ErrInvalidModule, wasmrun.ErrMemory, wasmrun.ErrTrap, wasmrun.ErrExit, wasmrun.ErrOutputTooLarge} {
		if errors.Is(err, s) {
			return s.Error(), true
		}
	}
	return "", false
}

// runner runs workloads, keeping a few compiled modules: compiling a Go
// module takes about a second and jobs often share a workload. A cached
// module is reference-counted and closed only when no run uses it (Close
// would stop the runs in progress), so eviction only ever drops idle
// entries; while every entry is in use the cache may hold more than keep.
type runner struct {
	limits wasmrun.Limits
	keep   int
	mu     sync.Mutex
	mods   map[string]*cached
	order  []string // oldest first
	closed bool
}

type cached struct {
	mod  *wasmrun.Module
	refs int
}

// keepModules is the least the cache holds; a provider's holds at least
// MaxJobs (one per job that can run at once).
const keepModules = 8

func newRunner(l wasmrun.Limits, maxJobs int) *runner {
	return &runner{limits: l, keep: max(keepModules, maxJobs), mods: map[string]*cached{}}
}

// module returns the compiled module of wasm under key and the func to call
// once the run is over.
func (r *runner) module(ctx context.Context, key string, wasm []byte) (*wasmrun.Module, func(), error) {
	if m, release, ok := r.acquire(key); ok {
		return m, release, nil
	}
	m, err := wasmrun.Compile(ctx, wasm)
	if err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		m.Close(ctx)
		return nil, nil, context.Canceled
	}
	if _, ok := r.mods[key]; ok {
		r.mu.Unlock()
		m.Close(ctx)
		if m, release, ok := r.acquire(key); ok {
			return m, release, nil
		}
		return r.module(ctx, key, wasm)
	}
	r.mods[key] = &cached{mod: m, refs: 1}
	r.order = append(r.order, key)
	r.evictLocked(ctx)
	r.mu.Unlock()
	return m, r.releaser(key), nil
}

func (r *runner) acquire(key string) (*wasmrun.Module, func(), bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.mods[key]
	if !ok {
		return nil, nil, false
	}
	c.refs++
	return c.mod, r.releaser(key), true
}

func (r *runner) releaser(key string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if c, ok := r.mods[key]; ok {
				c.refs--
				r.evictLocked(context.Background())
			}
		})
	}
}

// evictLocked closes and drops the oldest idle modules while the cache
// holds more than keep.
func (r *runner) evictLocked(ctx context.Context) {
	for i := 0; len(r.mods) > r.keep && i < len(r.order); {
		key := r.order[i]
		c := r.mods[key]
		if c.refs > 0 {
			i++
			continue
		}
		c.mod.Close(ctx)
		delete(r.mods, key)
		r.order = append(r.order[:i], r.order[i+1:]...)
	}
}

// Execute fetches the workload and the input by CID, runs the workload
// with the input as stdin under the runner's caps and adds the output. An
// error is transient (content not available, cancelled): try again later.
func (r *runner) Execute(ctx context.Context, h hostapi.Host, workload, input string, maxInput uint64) (Outcome, error) {
	wc, err := cid.Decode(workload)
	if err != nil {
		return Outcome{Failure: "invalid workload CID"}, nil
	}
	ic, err := cid.Decode(input)
	if err != nil {
		return Outcome{Failure: "invalid input CID"}, nil
	}
	wasm, err := h.Fetch(ctx, wc)
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: workload %s: %w", errUnavailable, workload, err)
	}
	mod, release, err := r.module(ctx, wc.KeyString(), wasm)
	if err != nil {
		if f, ok := failureOf(err); ok {
			return Outcome{Failure: f}, nil
		}
		return Outcome{}, fmt.Errorf("compile workload %s: %w", workload, err)
	}
	defer release()
	in, err := h.Fetch(ctx, ic)
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: input %s: %w", errUnavailable, input, err)
	}
	if uint64(len(in)) > maxInput {
		return Outcome{Failure: "input larger than max_input_bytes"}, nil
	}
	out, err := mod.Run(ctx, wasmrun.Input{Stdin: in}, r.limits)
	if err != nil {
		if f, ok := failureOf(err); ok {
			return Outcome{Failure: f}, nil
		}
		if errors.Is(err, wasmrun.ErrTimeout) {
			return Outcome{Failure: wasmrun.ErrTimeout.Error(), Timeout: true}, nil
		}
		return Outcome{}, fmt.Errorf("run workload %s: %w", workload, err)
	}
	c, err := h.Add(ctx, out)
	if err != nil {
		return Outcome{}, fmt.Errorf("add output: %w", err)
	}
	return Outcome{Result: c.String()}, nil
}

// close closes the cached modules (the agent's runs are over).
func (r *runner) close(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.mods {
		c.mod.Close(ctx)
	}
	r.mods = map[string]*cached{}
	r.order = nil
	r.closed = true
}
