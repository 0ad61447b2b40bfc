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
// module takes about a second and jobs often share a workload.
type runner struct {
	limits wasmrun.Limits
	mu     sync.Mutex
	mods   map[string]*wasmrun.Module
	order  []string
}

const keepModules = 8

func newRunner(l wasmrun.Limits) *runner {
	return &runner{limits: l, mods: map[string]*wasmrun.Module{}}
}

func (r *runner) module(ctx context.Context, key string, wasm []byte) (*wasmrun.Module, error) {
	r.mu.Lock()
	m, ok := r.mods[key]
	r.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := wasmrun.Compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.mods[key]; ok {
		m.Close(ctx)
		return old, nil
	}
	r.mods[key] = m
	r.order = append(r.order, key)
	if len(r.order) > keepModules {
		evict := r.order[0]
		r.order = r.order[1:]
		r.mods[evict].Close(ctx)
		delete(r.mods, evict)
	}
	return m, nil
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
	mod, err := r.module(ctx, wc.KeyString(), wasm)
	if err != nil {
		if f, ok := failureOf(err); ok {
			return Outcome{Failure: f}, nil
		}
		return Outcome{}, fmt.Errorf("compile workload %s: %w", workload, err)
	}
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

func (r *runner) close(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.mods {
		m.Close(ctx)
	}
	r.mods = map[string]*wasmrun.Module{}
	r.order = nil
}
