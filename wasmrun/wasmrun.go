// Package wasmrun runs an untrusted WebAssembly module, a WASI preview1
// command (built with GOOS=wasip1 GOARCH=wasm or any WASI toolchain), with
// wazero, deterministically and under caps.
//
// Determinism: the guest sees no real clock (a fake clock that starts at
// 2000-01-01T00:00:00Z and moves 1µs per reading, and by the requested
// amount on sleep), no real randomness (a fixed-seed ChaCha8 stream), no
// network, no environment variables and no host file system: only the files
// of Input, read-only, under "/". The same module given the same Input
// prints the same bytes on every machine.
//
// Caps: linear memory (Limits.MemoryBytes, enforced by wazero's memory page
// limit), wall time (Limits.Timeout, enforced by closing the module when
// its context ends) and standard output (Limits.MaxOutput). A broken cap, a
// trap and a non-zero exit each return an error wrapping one of the
// sentinels below; the host never panics or hangs because of a guest.
//
// A guest learns that the memory cap is reached only as a failing
// memory.grow; what it does then is up to it. Run reports ErrMemory when the
// guest says "out of memory" on stderr (as Go's runtime does) or declares
// more memory than the cap; other guests usually trap (ErrTrap).
//
// Wall time is not deterministic across machines: a guest near its time cap
// may finish on one validator and not on another. Keep caps well above the
// expected run time.
package wasmrun

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
)

// Sentinel errors. Every error Run returns because of the guest wraps
// exactly one of them.
var (
	// ErrInvalidModule: the bytes are not a WebAssembly module, or not a
	// WASI command wazero can run (no _start, imports other than WASI).
	ErrInvalidModule = errors.New("invalid wasm module")
	// ErrTimeout: the guest ran past Limits.Timeout.
	ErrTimeout = errors.New("wasm guest ran out of time")
	// ErrMemory: the guest needed more linear memory than Limits.MemoryBytes.
	ErrMemory = errors.New("wasm guest ran out of memory")
	// ErrTrap: the guest trapped (unreachable, out-of-bounds access,
	// stack overflow, ...).
	ErrTrap = errors.New("wasm guest trapped")
	// ErrExit: the guest exited with a non-zero status (a Go guest that
	// panics exits with status 2).
	ErrExit = errors.New("wasm guest exited with non-zero status")
	// ErrOutputTooLarge: the guest wrote more than Limits.MaxOutput bytes
	// to standard output.
	ErrOutputTooLarge = errors.New("wasm guest output too large")
)

// Defaults used for zero fields of Limits.
const (
	DefaultMemoryBytes = 256 << 20
	DefaultTimeout     = 10 * time.Second
	DefaultMaxOutput   = 64 << 10
)

// maxMemoryBytes is the most a 32-bit wasm memory can address.
const maxMemoryBytes = 65536 * pageSize

const pageSize = 65536

// Limits caps one run. Zero fields take the defaults above.
type Limits struct {
	// MemoryBytes caps the guest's linear memory, rounded down to whole
	// 64 KiB pages (at least one page, at most 4 GiB).
	MemoryBytes uint64
	// Timeout caps the run's wall time, start-up included.
	Timeout time.Duration
	// MaxOutput caps standard output in bytes.
	MaxOutput int
}

// Resolve returns l with zero fields set to their defaults and the memory
// cap clamped to 4 GiB, or an error naming a field that cannot be used.
func (l Limits) Resolve() (Limits, error) {
	if l.MemoryBytes == 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxOutput == 0 {
		l.MaxOutput = DefaultMaxOutput
	}
	switch {
	case l.MemoryBytes < pageSize:
		return l, fmt.Errorf("wasmrun: memory limit %d bytes is below one 64 KiB page", l.MemoryBytes)
	case l.Timeout < 0:
		return l, fmt.Errorf("wasmrun: negative timeout %v", l.Timeout)
	case l.MaxOutput < 0:
		return l, fmt.Errorf("wasmrun: negative output limit %d", l.MaxOutput)
	}
	if l.MemoryBytes > maxMemoryBytes {
		l.MemoryBytes = maxMemoryBytes
	}
	return l, nil
}

func (l Limits) pages() uint32 { return uint32(l.MemoryBytes / pageSize) }

// Input is what the guest sees.
type Input struct {
	// Stdin is the guest's standard input.
	Stdin []byte
	// Files are read-only files visible at "/<name>". A name is a
	// slash-separated relative path (io/fs.ValidPath), e.g. "model" or
	// "data/train.csv".
	Files map[string][]byte
	// Args follow argv[0], which is always "wasm".
	Args []string
}

// wasiModule is the only import module a guest may use.
const wasiModule = "wasi_snapshot_preview1"

// Module is a compiled, validated WASI command. It is safe for concurrent
// use by several goroutines, and runs under any Limits: keep one per
// module, as compiling the same bytes into another Module compiles them
// again. Close releases its compiled code (wazero unmaps it once the closed
// runtimes are garbage collected); a Module dropped without Close is
// closed when garbage collected, never during one of its runs.
type Module struct {
	*state
}

type state struct {
	wasm []byte

	// cache holds this module's compiled machine code, shared by its
	// runtimes (one per memory limit): it is compiled once however many
	// limits it runs under. It is the module's own, never shared with
	// another Module: wazero's in-memory cache releases code only when a
	// CompiledModule is closed or the cache itself is, and a runtime's
	// Close does neither, so a process-wide cache kept the code of every
	// module ever compiled until the process exited. close closes it.
	cache wazero.CompilationCache

	// stop is cancelled by close, ending runs in flight promptly.
	stop       context.Context
	cancelStop context.CancelFunc
	// running is read-held by every run and write-held by close while it
	// closes the runtimes and the cache: closing a runtime closes every
	// module instance in it with exit status 0 (which a looping guest
	// would report as a success), and the code must not be released
	// under a guest.
	running sync.RWMutex

	mu       sync.Mutex
	closed   bool
	runtimes map[uint32]*pagedRuntime // by memory limit in pages
}

// errClosed: the module was closed before or during the run.
var errClosed = errors.New("wasmrun: module is closed")

// pagedRuntime is one wazero runtime with its memory page limit, holding the
// module compiled under it (and WASI instantiated in it).
type pagedRuntime struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
}

// Compile checks that wasm is a WASI command and compiles it. The error
// wraps ErrInvalidModule when it is not.
func Compile(ctx context.Context, wasm []byte) (*Module, error) {
	if err := checkHeader(wasm); err != nil {
		return nil, err
	}
	st := &state{
		wasm:     append([]byte(nil), wasm...),
		cache:    wazero.NewCompilationCache(),
		runtimes: map[uint32]*pagedRuntime{},
	}
	st.stop, st.cancelStop = context.WithCancel(context.Background())
	m := &Module{st}
	runtime.AddCleanup(m, func(st *state) { _ = st.close(context.Background()) }, st)
	// Compiling under the largest limit validates everything but the
	// memory size, which each Run checks against its own limit.
	if _, err := m.runtime(ctx, maxMemoryBytes/pageSize); err != nil {
		_ = m.Close(ctx)
		return nil, err
	}
	return m, nil
}

// MaxModuleBytes caps a module's size: compiling is not under the run's
// time limit, and its cost grows with the size.
const MaxModuleBytes = 64 << 20

func checkHeader(wasm []byte) error {
	magic := []byte{0x00, 'a', 's', 'm'}
	switch {
	case len(wasm) > MaxModuleBytes:
		return fmt.Errorf("%w: %d bytes, over the %d-byte cap", ErrInvalidModule, len(wasm), MaxModuleBytes)
	case len(wasm) < 8:
		return fmt.Errorf("%w: not a WebAssembly module: %d bytes, shorter than the 8-byte header", ErrInvalidModule, len(wasm))
	case string(wasm[:4]) != string(magic):
		return fmt.Errorf("%w: not a WebAssembly module: starts with %q, want \"\\x00asm\"", ErrInvalidModule, wasm[:4])
	case wasm[4] != 1 || wasm[5] != 0 || wasm[6] != 0 || wasm[7] != 0:
		return fmt.Errorf("%w: not a WebAssembly module: version % x, want 01 00 00 00", ErrInvalidModule, wasm[4:8])
	}
	return nil
}

// runtime returns (creating once) the runtime for a memory limit in pages.
func (m *state) runtime(ctx context.Context, pages uint32) (*pagedRuntime, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errClosed
	}
	if pr, ok := m.runtimes[pages]; ok {
		return pr, nil
	}
	cfg := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(pages).
		WithCloseOnContextDone(true).
		WithCompilationCache(m.cache)
	// Compilation is not under the caller's time limit: it is bounded by
	// the module's size, which the caller already accepted.
	rt := wazero.NewRuntimeWithConfig(context.WithoutCancel(ctx), cfg)
	compiled, err := rt.CompileModule(ctx, m.wasm)
	if err != nil {
		_ = rt.Close(ctx)
		if strings.Contains(err.Error(), "over limit") {
			return nil, fmt.Errorf("%w: %v", ErrMemory, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidModule, err)
	}
	if err := checkCommand(compiled); err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	if err := instantiateWASI(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	pr := &pagedRuntime{rt: rt, compiled: compiled}
	m.runtimes[pages] = pr
	return pr, nil
}

// checkCommand rejects what is not a WASI command: no _start to run, or
// imports from anything but WASI preview1 (they would fail to link).
func checkCommand(c wazero.CompiledModule) error {
	start, ok := c.ExportedFunctions()["_start"]
	if !ok {
		return fmt.Errorf("%w: no exported _start function: not a WASI command", ErrInvalidModule)
	}
	if len(start.ParamTypes()) != 0 || len(start.ResultTypes()) != 0 {
		return fmt.Errorf("%w: _start must take and return nothing", ErrInvalidModule)
	}
	for _, f := range c.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != wasiModule {
			return fmt.Errorf("%w: imports %s.%s: only %s is available", ErrInvalidModule, mod, name, wasiModule)
		}
	}
	for _, mem := range c.ImportedMemories() {
		mod, name, _ := mem.Import()
		return fmt.Errorf("%w: imports memory %s.%s: the module must define its own", ErrInvalidModule, mod, name)
	}
	return nil
}

// Close releases the compiled code. Runs in flight end at once with an
// error (wrapping no sentinel: the guest is not at fault); Close returns
// once they have.
func (m *Module) Close(ctx context.Context) error { return m.close(ctx) }

func (m *state) close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancelStop()
	m.running.Lock()
	defer m.running.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for pages, pr := range m.runtimes {
		errs = append(errs, pr.rt.Close(ctx))
		delete(m.runtimes, pages)
	}
	// No runtime uses the cache any more (m.closed stops new ones): its
	// engine drops the compiled code, which wazero unmaps once the
	// closed runtimes are collected.
	errs = append(errs, m.cache.Close(ctx))
	return errors.Join(errs...)
}
