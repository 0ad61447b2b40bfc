package demo

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/inferd/inferd/wasmrun"
)

// TestWorkloadUppercases runs the embedded module: a rebuilt upper.wasm
// that no longer matches upper.wat's behaviour fails here.
func TestWorkloadUppercases(t *testing.T) {
	ctx := context.Background()
	m, err := wasmrun.Compile(ctx, Workload)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("abc-XYZ 123 "), 20000) // several 64 KiB reads
	for _, in := range [][]byte{Input, nil, big} {
		out, err := m.Run(ctx, wasmrun.Input{Stdin: in}, wasmrun.Limits{MemoryBytes: 16 << 20, Timeout: 10 * time.Second, MaxOutput: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.ToUpper(in); !bytes.Equal(out, want) {
			t.Fatalf("output %q..., want %q...", out[:min(len(out), 40)], want[:min(len(want), 40)])
		}
	}
}
