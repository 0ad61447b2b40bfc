// Package wasmtest builds Go programs into WASI modules for tests.
package wasmtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type result struct {
	wasm []byte
	skip string
	err  error
}

var (
	mu    sync.Mutex
	built = map[string]*result{}
	// once per directory, so parallel tests wait for one build
	onces = map[string]*sync.Once{}
)

// Build compiles the Go main package in dir (a path relative to the test's
// working directory, e.g. "testdata/guest") with GOOS=wasip1 GOARCH=wasm
// and returns the module's bytes. The build runs once per test binary and
// directory. The test is skipped, with the reason, only when no Go
// toolchain able to target wasip1 is available.
func Build(tb testing.TB, dir string) []byte {
	tb.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatalf("wasmtest: %v", err)
	}
	mu.Lock()
	once, ok := onces[abs]
	if !ok {
		once = new(sync.Once)
		onces[abs] = once
	}
	mu.Unlock()
	once.Do(func() {
		r := build(abs)
		mu.Lock()
		built[abs] = r
		mu.Unlock()
	})
	mu.Lock()
	r := built[abs]
	mu.Unlock()
	switch {
	case r.skip != "":
		tb.Skip(r.skip)
	case r.err != nil:
		tb.Fatal(r.err)
	}
	return r.wasm
}

func build(dir string) *result {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return &result{skip: "wasmtest: no Go toolchain on PATH to build wasip1 test modules: " + err.Error()}
	}
	outDir, err := os.MkdirTemp("", "wasmtest-")
	if err != nil {
		return &result{err: err}
	}
	defer os.RemoveAll(outDir)
	out := filepath.Join(outDir, "module.wasm")
	// -s -w drops symbols and DWARF: a smaller module compiles faster.
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := stderr.String()
		if strings.Contains(msg, "unsupported GOOS/GOARCH") {
			return &result{skip: "wasmtest: this Go toolchain cannot target wasip1/wasm: " + strings.TrimSpace(msg)}
		}
		return &result{err: fmt.Errorf("wasmtest: building %s for wasip1: %v\n%s", dir, err, msg)}
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		return &result{err: err}
	}
	if len(wasm) < 8 {
		return &result{err: errors.New("wasmtest: build produced no module")}
	}
	return &result{wasm: wasm}
}
