package wasmrun_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferd/inferd/wasmrun"
	"github.com/inferd/inferd/wasmrun/wasmtest"
)

var sentinels = []error{wasmrun.ErrInvalidModule, wasmrun.ErrTimeout, wasmrun.ErrMemory,
	wasmrun.ErrTrap, wasmrun.ErrExit, wasmrun.ErrOutputTooLarge}

// wantSentinel fails unless err wraps want and no other sentinel.
func wantSentinel(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v does not wrap %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("error %v wraps %v as well as %v", err, s, want)
		}
	}
}

var (
	guestOnce sync.Once
	guestMod  *wasmrun.Module
	guestErr  error
)

// guest compiles testdata/guest once for the whole test binary.
func guest(t *testing.T) *wasmrun.Module {
	t.Helper()
	wasm := wasmtest.Build(t, "testdata/guest")
	guestOnce.Do(func() { guestMod, guestErr = wasmrun.Compile(context.Background(), wasm) })
	if guestErr != nil {
		t.Fatal(guestErr)
	}
	return guestMod
}

func run(t *testing.T, in wasmrun.Input, lim wasmrun.Limits) ([]byte, error) {
	t.Helper()
	return guest(t).Run(context.Background(), in, lim)
}

func TestCompileRejectsNonWasm(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "not a WebAssembly module: 0 bytes"},
		{"text", []byte("#!/bin/sh\necho hi\n"), `not a WebAssembly module: starts with "#!/b"`},
		{"wasm version 2", []byte("\x00asm\x02\x00\x00\x00"), "not a WebAssembly module: version 02 00 00 00"},
		{"truncated section", []byte("\x00asm\x01\x00\x00\x00\x01\x05\x01"), "invalid wasm module"},
		{"no _start", []byte("\x00asm\x01\x00\x00\x00"), "no exported _start function"},
		{"too big", append([]byte("\x00asm\x01\x00\x00\x00"), make([]byte, wasmrun.MaxModuleBytes)...), "over the 67108864-byte cap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wasmrun.Compile(context.Background(), tc.in)
			wantSentinel(t, err, wasmrun.ErrInvalidModule)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestCompileRejectsNonWASIImport(t *testing.T) {
	m := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x04\x01\x60\x00\x00" + // type 0: [] -> []
		"\x02\x09\x01\x03env\x01f\x00\x00" + // import env.f : type 0
		"\x03\x02\x01\x00" + // func 1: type 0
		"\x07\x0a\x01\x06_start\x00\x01" + // export _start = func 1
		"\x0a\x04\x01\x02\x00\x0b") // body of func 1: end
	_, err := wasmrun.Compile(context.Background(), m)
	wantSentinel(t, err, wasmrun.ErrInvalidModule)
	if !strings.Contains(err.Error(), "imports env.f") {
		t.Fatalf("error %q does not name the import", err)
	}
}

func compile(t *testing.T, wasm []byte) *wasmrun.Module {
	t.Helper()
	m, err := wasmrun.Compile(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func TestHandAssembledHostiles(t *testing.T) {
	ctx := context.Background()
	lim := wasmrun.Limits{MemoryBytes: 16 << 20, Timeout: time.Second}
	for _, tc := range []struct {
		name string
		wasm []byte
		want error
	}{
		{"unreachable", wasmtest.Trap(), wasmrun.ErrTrap},
		{"loop", wasmtest.Loop(), wasmrun.ErrTimeout},
		{"memory over cap", wasmtest.BigMemory(1024), wasmrun.ErrMemory},
		{"grow until refused", wasmtest.GrowForever(), wasmrun.ErrTrap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, err := compile(t, tc.wasm).Run(ctx, wasmrun.Input{}, lim)
			wantSentinel(t, err, tc.want)
			if out != nil {
				t.Fatalf("failed run returned output %q", out)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("run took %v, the cap is %v", d, lim.Timeout)
			}
		})
	}
	out, err := compile(t, wasmtest.Empty()).Run(ctx, wasmrun.Input{}, lim)
	if err != nil || len(out) != 0 {
		t.Fatalf("empty command: %q, %v", out, err)
	}
}

// TestGrowingIsCheap: growing memory one page at a time up to a 1 GiB cap
// reaches the cap (a trap after memory.grow fails) in milliseconds on
// Linux (3 s allowed, for loaded machines), where the cap is reserved untouched. With wazero's default
// allocator, which copies on nearly every grow, it took seconds.
func TestGrowingIsCheap(t *testing.T) {
	timeout := 3 * time.Second
	if runtime.GOOS != "linux" {
		timeout = 20 * time.Second // a Go slice that doubles: copies add up
	}
	_, err := compile(t, wasmtest.GrowForever()).Run(context.Background(), wasmrun.Input{},
		wasmrun.Limits{MemoryBytes: 1 << 30, Timeout: timeout})
	wantSentinel(t, err, wasmrun.ErrTrap)
}

func TestEchoAndConcurrentRuns(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := bytes.Repeat([]byte{byte('a' + i)}, 10000+i)
			out, err := guest(t).Run(context.Background(), wasmrun.Input{Args: []string{"echo"}, Stdin: in}, wasmrun.Limits{})
			if err != nil || !bytes.Equal(out, in) {
				t.Errorf("run %d: echo gave %d bytes, %v", i, len(out), err)
			}
		}()
	}
	wg.Wait()
}

func TestFiles(t *testing.T) {
	files := map[string][]byte{"model": []byte("weights"), "data/train.csv": []byte("x,y\n1,2\n")}
	for name, want := range files {
		out, err := run(t, wasmrun.Input{Args: []string{"cat", name}, Files: files}, wasmrun.Limits{})
		if err != nil || !bytes.Equal(out, want) {
			t.Fatalf("cat %s: %q, %v", name, out, err)
		}
	}
	// A file not given does not exist, even one the host has.
	_, err := run(t, wasmrun.Input{Args: []string{"cat", "etc/passwd"}}, wasmrun.Limits{})
	wantSentinel(t, err, wasmrun.ErrExit)
	if !strings.Contains(err.Error(), "No such file") {
		t.Fatalf("error %v does not carry the guest's stderr", err)
	}
	// The files are read-only.
	out, err := run(t, wasmrun.Input{Args: []string{"write", "model"}, Files: files}, wasmrun.Limits{})
	if err != nil || string(out) != "write error: true\n" {
		t.Fatalf("write to a read-only file: %q, %v", out, err)
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		in   wasmrun.Input
		lim  wasmrun.Limits
		want string
	}{
		{wasmrun.Input{Files: map[string][]byte{"/abs": nil}}, wasmrun.Limits{}, `input file name "/abs"`},
		{wasmrun.Input{Files: map[string][]byte{"a/../b": nil}}, wasmrun.Limits{}, `input file name "a/../b"`},
		{wasmrun.Input{Files: map[string][]byte{"a": nil, "a/b": nil}}, wasmrun.Limits{}, `input file "a" is also the directory of "a/b"`},
		{wasmrun.Input{}, wasmrun.Limits{MemoryBytes: 1000}, "memory limit 1000 bytes is below one 64 KiB page"},
		{wasmrun.Input{}, wasmrun.Limits{Timeout: -1}, "negative timeout"},
		{wasmrun.Input{Args: []string{"ok", "a\x00b"}}, wasmrun.Limits{}, "argument 2 contains a NUL byte"},
		{wasmrun.Input{}, wasmrun.Limits{MaxOutput: -1}, "negative output limit"},
	} {
		_, err := compile(t, wasmtest.Empty()).Run(context.Background(), tc.in, tc.lim)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("got %v, want an error saying %q", err, tc.want)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				t.Fatalf("bad argument error %v wraps guest sentinel %v", err, s)
			}
		}
	}
}

func TestGuestFailures(t *testing.T) {
	for _, tc := range []struct {
		args []string
		lim  wasmrun.Limits
		want error
		says string
	}{
		{[]string{"loop"}, wasmrun.Limits{Timeout: 300 * time.Millisecond}, wasmrun.ErrTimeout, "deadline"},
		{[]string{"alloc", "1024"}, wasmrun.Limits{MemoryBytes: 64 << 20}, wasmrun.ErrMemory, "out of memory"},
		{[]string{"panic"}, wasmrun.Limits{}, wasmrun.ErrExit, "boom"},
		{[]string{"exit", "3"}, wasmrun.Limits{}, wasmrun.ErrExit, "exit status 3"},
		{[]string{"trap"}, wasmrun.Limits{}, wasmrun.ErrTrap, "out of bounds memory access"},
		{[]string{"spew"}, wasmrun.Limits{MaxOutput: 1000}, wasmrun.ErrOutputTooLarge, "more than 1000 bytes"},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			start := time.Now()
			out, err := run(t, wasmrun.Input{Args: tc.args}, tc.lim)
			wantSentinel(t, err, tc.want)
			if !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %q does not say %q", err, tc.says)
			}
			if out != nil {
				t.Fatalf("failed run returned %d bytes of output", len(out))
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
	// The same allocation fits a larger cap: the cap, not the program, failed.
	out, err := run(t, wasmrun.Input{Args: []string{"alloc", "32"}}, wasmrun.Limits{MemoryBytes: 64 << 20})
	if err != nil || string(out) != "33554432 1\n" {
		t.Fatalf("32 MiB under a 64 MiB cap: %q, %v", out, err)
	}
	out, err = run(t, wasmrun.Input{Args: []string{"exit", "0"}}, wasmrun.Limits{})
	if err != nil || len(out) != 0 {
		t.Fatalf("exit 0: %q, %v", out, err)
	}
}

// TestDeterministic shows the guest gets no real clock, randomness or
// environment: two runs print the same, and the clock reads year 2000.
func TestDeterministic(t *testing.T) {
	first, err := run(t, wasmrun.Input{Args: []string{"clock"}}, wasmrun.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(first), "2000-01-01T00:00:00") {
		t.Fatalf("guest clock reads %q, want the fake 2000-01-01 clock", first)
	}
	if !strings.Contains(string(first), " true ") {
		t.Fatalf("sleeping an hour did not move the fake clock an hour: %q", first)
	}
	for range 2 {
		again, err := run(t, wasmrun.Input{Args: []string{"clock"}}, wasmrun.Limits{})
		if err != nil || !bytes.Equal(again, first) {
			t.Fatalf("runs differ:\n%s%s(%v)", first, again, err)
		}
	}
	env, err := run(t, wasmrun.Input{Args: []string{"env"}}, wasmrun.Limits{})
	if err != nil || string(env) != "0 2\n" {
		t.Fatalf("guest sees environment/args %q, want no variables and argv [wasm env]: %v", env, err)
	}
}

func TestCancelledContextIsNotAGuestFault(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err := guest(t).Run(ctx, wasmrun.Input{Args: []string{"loop"}}, wasmrun.Limits{Timeout: time.Minute})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			t.Fatalf("caller's cancellation %v blamed on the guest (%v)", err, s)
		}
	}
}

// TestCloseDuringRun: closing a module while a run loops ends the run
// promptly with an error that blames no guest, and does not pull the
// compiled code from under it (which would crash the process).
func TestCloseDuringRun(t *testing.T) {
	m, err := wasmrun.Compile(context.Background(), wasmtest.Loop())
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := m.Run(context.Background(), wasmrun.Input{}, wasmrun.Limits{Timeout: time.Minute})
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "closed") {
			t.Fatalf("run ended with %v, want an error saying the module closed", err)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				t.Fatalf("closing blamed on the guest: %v", err)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run still going 10s after Close")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, err := m.Run(context.Background(), wasmrun.Input{}, wasmrun.Limits{}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("run after Close: %v", err)
	}
}
