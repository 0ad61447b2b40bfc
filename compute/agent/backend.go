package agent

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/inferd/inferd/compute/matmul"
)

// ErrNoGPU is returned for --provider.backend gpu: this binary has no GPU
// backend built in.
var ErrNoGPU = errors.New("gpu backend not built in this binary; use --provider.backend cpu")

// NewBackend returns the matmul backend by name: "cpu" is compute/matmul's
// CPU backend on all cores (workers <= 0) or on workers goroutines.
func NewBackend(name string, workers int) (matmul.Backend, error) {
	switch name {
	case "cpu", "":
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		return matmul.CPU{Workers: workers}, nil
	case "gpu":
		return nil, ErrNoGPU
	}
	return nil, fmt.Errorf("compute agent: unknown backend %q; use cpu or gpu", name)
}
