package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/inferd/inferd/compute/jobspec"
)

func TestParseNvidiaSMI(t *testing.T) {
	out := "NVIDIA H200, 143771 MiB\nNVIDIA GeForce RTX 4090, 24564 MiB\n\n"
	got, err := ParseNvidiaSMI([]byte(out))
	want := []GPUInfo{{"NVIDIA H200", 143771 << 20}, {"NVIDIA GeForce RTX 4090", 24564 << 20}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := ParseNvidiaSMI(nil); err != nil || len(got) != 0 {
		t.Errorf("empty output: %v %v", got, err)
	}
	for _, bad := range []string{"NVIDIA H200", "NVIDIA H200, lots MiB", "NVIDIA H200, 10 parsecs", ", 10 MiB", "NVIDIA H200, [N/A]"} {
		if _, err := ParseNvidiaSMI([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFits(t *testing.T) {
	h := Host{CPUs: 16, MemoryBytes: 128 << 30, GPUs: []GPUInfo{{"NVIDIA H200", 143771 << 20}, {"NVIDIA L4", 23034 << 20}}}
	s := &jobspec.Spec{Resources: jobspec.Resources{MilliCPU: 8000, MemoryBytes: 64 << 30, GPU: &jobspec.GPU{Count: 1, MinVRAMBytes: 80 << 30, Models: []string{"h200"}}}}
	if err := h.Fits(s); err != nil {
		t.Fatal(err)
	}
	s.Resources.GPU.Count = 2 // only one GPU has 80 GiB
	s.Resources.MilliCPU = 16500
	err := h.Fits(s)
	if err == nil || !strings.Contains(err.Error(), "16.500 cores") || !strings.Contains(err.Error(), "2 GPU(s)") {
		t.Errorf("%v", err)
	}
	s.Resources = jobspec.Resources{MilliCPU: 1000, MemoryBytes: 1 << 30, GPU: &jobspec.GPU{Count: 1, Models: []string{"A100"}}}
	if err := h.Fits(s); err == nil {
		t.Error("an A100 job fits a host without one")
	}
	if err := (Host{CPUs: 2, MemoryBytes: 1 << 30}).Fits(&jobspec.Spec{Resources: jobspec.Resources{MilliCPU: 500, MemoryBytes: 2 << 30}}); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("memory: %v", err)
	}
}

func TestParseMeminfo(t *testing.T) {
	n, err := ParseMeminfo([]byte("MemTotal:       24684544 kB\nMemFree:        17657100 kB\n"))
	if err != nil || n != 24684544<<10 {
		t.Fatalf("%d %v", n, err)
	}
	if _, err := ParseMeminfo([]byte("MemFree: 1 kB\n")); err == nil {
		t.Error("no MemTotal accepted")
	}
}

func TestListCDIDevices(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.json"), []byte(`{"cdiVersion":"0.5.0","kind":"vendor.example/gpu","devices":[{"name":"0"},{"name":"1"}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "nvidia.yaml"), []byte(`---
cdiVersion: 0.5.0
containerEdits:
  env:
  - NVIDIA_VISIBLE_DEVICES=void
devices:
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: "0"
- name: GPU-4f2e
  containerEdits: {}
- name: all
kind: nvidia.com/gpu
`), 0o644)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not a spec"), 0o644)
	got, err := ListCDIDevices(dir, filepath.Join(dir, "missing"))
	want := []string{"nvidia.com/gpu=0", "nvidia.com/gpu=GPU-4f2e", "nvidia.com/gpu=all", "vendor.example/gpu=0", "vendor.example/gpu=1"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{`), 0o644)
	if _, err := ListCDIDevices(dir); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("broken spec: %v", err)
	}
}

func TestDetect(t *testing.T) {
	h, err := Detect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h.CPUs < 1 || h.MemoryBytes < 64<<20 {
		t.Errorf("%+v", h)
	}
	t.Logf("this host: %+v", h)
}

// TestGPUThroughCDI gives a job a fake GPU through a CDI spec (podman 4.3
// reads specs only from /etc/cdi and /var/run/cdi; the spec file is removed
// after): /dev/null appears as /dev/fakegpu with an environment variable.
func TestGPUThroughCDI(t *testing.T) {
	r := testRunner(t)
	dir := "/var/run/cdi"
	created := false
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Skipf("cannot create %s: %v", dir, err)
		}
		created = true
	}
	kind := fmt.Sprintf("test.inferd/fakegpu%d", os.Getpid())
	spec := map[string]any{
		"cdiVersion": "0.5.0",
		"kind":       kind,
		"devices": []any{map[string]any{
			"name": "0",
			"containerEdits": map[string]any{
				"env":         []string{"FAKEGPU=visible"},
				"deviceNodes": []any{map[string]any{"path": "/dev/fakegpu", "hostPath": "/dev/null"}},
			},
		}},
	}
	b, _ := json.Marshal(spec)
	file := filepath.Join(dir, fmt.Sprintf("inferd-test-%d.json", os.Getpid()))
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(file)
		if created {
			os.Remove(dir)
		}
	})
	devs, err := ListCDIDevices(dir)
	if err != nil || !strings.Contains(strings.Join(devs, " "), kind+"=0") {
		t.Fatalf("CDI devices %v %v", devs, err)
	}
	gpu := *r
	gpu.cfg.GPUDevices = []string{kind + "=0"}
	s := batch(`test -c /dev/fakegpu && echo "device ok $FAKEGPU"`)
	s.Resources.GPU = &jobspec.GPU{Count: 1}
	res, _ := run(t, &gpu, s, nil)
	if !res.OK() || !strings.Contains(string(res.Logs), "device ok visible") {
		t.Fatalf("the job did not see the CDI device: %+v", res)
	}
	// Without the device the job does not see it.
	res, _ = run(t, r, batch(`test -e /dev/fakegpu && echo SEEN; echo "[$FAKEGPU]"`), nil)
	if strings.Contains(string(res.Logs), "SEEN") || !strings.Contains(string(res.Logs), "[]") {
		t.Errorf("a job without the device saw it: %q", res.Logs)
	}
}
