package wasmrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// stderrKeep is how much of the guest's standard error is kept to explain
// a failure.
const stderrKeep = 512

// Run runs the module's _start once with in, under lim, and returns what it
// wrote to standard output. A guest failure returns an error wrapping
// ErrTimeout, ErrMemory, ErrTrap, ErrExit or ErrOutputTooLarge; bad
// arguments and a cancelled ctx return an error wrapping none of them.
func (m *Module) Run(ctx context.Context, in Input, lim Limits) (stdout []byte, err error) {
	lim, err = lim.Resolve()
	if err != nil {
		return nil, err
	}
	fsys, err := inputFS(in.Files)
	if err != nil {
		return nil, err
	}
	for i, a := range in.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, fmt.Errorf("wasmrun: argument %d contains a NUL byte", i+1)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wasmrun: %w", err)
	}
	m.running.RLock()
	defer m.running.RUnlock()
	// Keep m reachable to the end, the caller may hold it no longer: its
	// cleanup would close its runtimes mid-run, which ends the guest with
	// exit status 0, a false success (a loop "returned" at once). The
	// cleanup then waits on running for this run to end.
	defer runtime.KeepAlive(m)
	pr, err := m.runtime(ctx, lim.pages())
	if err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	defer context.AfterFunc(m.stop, cancel)()
	out := &capWriter{max: lim.MaxOutput, onOverflow: cancel}
	errOut := &capWriter{max: stderrKeep}
	clock := &fakeClock{}
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous, so concurrent runs do not clash
		WithArgs(append([]string{"wasm"}, in.Args...)...).
		WithStdin(bytes.NewReader(in.Stdin)).
		WithStdout(out).
		WithStderr(errOut).
		WithFSConfig(wazero.NewFSConfig().WithFSMount(fsys, "/")).
		WithWalltime(clock.walltime, 1000).
		WithNanotime(clock.nanotime, 1000).
		WithNanosleep(clock.sleep).
		WithOsyield(func() {}).
		WithRandSource(rand.NewChaCha8(randSeed))

	defer func() {
		// wazero recovers guest faults itself; this guards the host
		// against a bug in a host function all the same.
		if r := recover(); r != nil {
			stdout, err = nil, fmt.Errorf("%w: host panic while running guest: %v", ErrTrap, r)
		}
	}()
	alloc := &runAllocator{}
	// Deferred after the recover above, so it runs first, and after the
	// guest has returned: nothing can run on its memory any more.
	defer alloc.release()
	mod, runErr := pr.rt.InstantiateModule(experimental.WithMemoryAllocator(runCtx, alloc), pr.compiled, cfg)
	if mod != nil {
		_ = mod.Close(context.WithoutCancel(ctx))
	}
	if m.stop.Err() != nil {
		return nil, errClosed
	}
	if err := classify(ctx, runCtx, runErr, out, errOut.String()); err != nil {
		return nil, err
	}
	return out.buf.Bytes(), nil
}

// classify maps the outcome of a run to a sentinel-wrapped error, or nil.
func classify(ctx, runCtx context.Context, runErr error, out *capWriter, stderr string) error {
	diag := ""
	if stderr != "" {
		diag = fmt.Sprintf(" (stderr: %q)", stderr)
	}
	out.mu.Lock()
	overflow := out.overflow
	out.mu.Unlock()
	if overflow {
		return fmt.Errorf("%w: more than %d bytes on stdout", ErrOutputTooLarge, out.max)
	}
	if runErr == nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		// The caller gave up: not the guest's fault, so no sentinel.
		return fmt.Errorf("wasmrun: run stopped: %w", err)
	}
	var exit *sys.ExitError
	isExit := errors.As(runErr, &exit)
	switch {
	case isExit && exit.ExitCode() == 0:
		return nil
	case runCtx.Err() != nil:
		return fmt.Errorf("%w: %v%s", ErrTimeout, runCtx.Err(), diag)
	case strings.Contains(stderr, "out of memory"):
		// memory.grow failing at the cap shows only as the guest's own
		// reaction: Go's runtime prints this, then exits or traps.
		return fmt.Errorf("%w: %s%s", ErrMemory, firstLine(runErr.Error()), diag)
	case isExit:
		return fmt.Errorf("%w: exit status %d%s", ErrExit, exit.ExitCode(), diag)
	default:
		return fmt.Errorf("%w: %s%s", ErrTrap, firstLine(runErr.Error()), diag)
	}
}

// firstLine drops wazero's wasm stack trace, which can be long.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func instantiateWASI(ctx context.Context, rt wazero.Runtime) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fmt.Errorf("wasmrun: instantiating WASI: %w", err)
	}
	return nil
}

// inputFS is the read-only file tree the guest sees at "/".
func inputFS(files map[string][]byte) (fs.FS, error) {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	fsys := fstest.MapFS{}
	for _, name := range names {
		if !fs.ValidPath(name) || name == "." {
			return nil, fmt.Errorf("wasmrun: input file name %q is not a relative slash-separated path", name)
		}
		if _, clash := fsys[name]; clash {
			return nil, fmt.Errorf("wasmrun: input file name %q given twice", name)
		}
		fsys[name] = &fstest.MapFile{Data: files[name], Mode: 0o444}
	}
	// A name that is both a file and a directory ("a" and "a/b") would
	// leave the guest an inconsistent tree.
	for _, name := range names {
		for dir := parentDir(name); dir != "."; dir = parentDir(dir) {
			if _, isFile := fsys[dir]; isFile {
				return nil, fmt.Errorf("wasmrun: input file %q is also the directory of %q", dir, name)
			}
		}
	}
	return fsys, nil
}

func parentDir(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return "."
}

// capWriter keeps at most max bytes. Past max it records the overflow and
// calls onOverflow (which ends the run), so a guest cannot spin writing.
type capWriter struct {
	mu         sync.Mutex
	buf        bytes.Buffer
	max        int
	overflow   bool
	onOverflow func()
}

var errOutputCap = errors.New("output limit reached")

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	room := w.max - w.buf.Len()
	if len(p) <= room {
		return w.buf.Write(p)
	}
	w.buf.Write(p[:room])
	if w.onOverflow != nil && !w.overflow {
		w.overflow = true
		w.onOverflow()
	}
	return room, errOutputCap
}

func (w *capWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// randSeed fixes the guest's "random" bytes: the same on every run.
var randSeed = [32]byte([]byte("inferd/wasmrun: fixed rand seed."))

// epoch2000 is the fake wall clock's start, 2000-01-01T00:00:00Z.
const epoch2000 = 946684800

// fakeClock is a per-run clock that depends only on what the guest does:
// each reading moves it 1µs (so spin-waits on the clock end) and a sleep
// moves it by the time asked (so sleeps return at once).
type fakeClock struct {
	mu  sync.Mutex
	now int64 // nanoseconds since epoch2000
}

func (c *fakeClock) tick(d int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now += d
	}
	return c.now
}

func (c *fakeClock) nanotime() int64 { return c.tick(1000) }

func (c *fakeClock) walltime() (int64, int32) {
	n := c.tick(1000)
	return epoch2000 + n/1e9, int32(n % 1e9)
}

func (c *fakeClock) sleep(ns int64) { c.tick(ns) }
