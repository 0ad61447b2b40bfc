package serveimage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/compute/serve"
	contestdemo "github.com/inferd/inferd/contest/demo"
	"github.com/inferd/inferd/contest/eval"
)

const (
	imageKey = "bafkreiaffx7xeewoyxgaz5ezoraqhd5ihsr3t4uobwnrtgjxjwbc2gf4qu"
	inputCID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
)

// podmanOrSkip returns a runner on private storage (removed at the end),
// or skips with one line saying why podman cannot run here.
func podmanOrSkip(t *testing.T) (*container.Runner, []string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("container tests need root (podman with runc and cgroup limits); run them as root")
	}
	storage := t.TempDir()
	root, run := filepath.Join(storage, "root"), filepath.Join(storage, "run")
	r, err := container.New(container.Config{Root: root, RunRoot: run})
	if err != nil {
		t.Skip("podman/runc not installed (" + err.Error() + "); .ci/run installs them: apt-get install -y podman runc")
	}
	global := []string{"--runtime", "/usr/sbin/runc", "--root", root, "--runroot", run}
	if out, err := exec.Command("podman", append(global, "info", "--format", "{{.Host.OCIRuntime.Name}}")...).CombinedOutput(); err != nil {
		t.Skipf("podman cannot run here: %v %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("podman", append(global, "rm", "-a", "-f", "-t", "0")...).Run()
		exec.Command("podman", append(global, "rmi", "-a", "-f")...).Run()
		exec.Command("umount", "-R", filepath.Join(root, "overlay")).Run()
	})
	return r, global
}

// TestImageUnderPodman builds inferd-serve from this module, makes its
// image, loads it with compute/container, then (1) runs the server
// container as a lease would (read-only, no capabilities, the model
// mounted read-only, the port published on 127.0.0.1) and asks it for a
// prediction over HTTP, and (2) runs the batch mode as a batch job through
// Runner.Run and checks its outputs against the contest's evaluator.
func TestImageUnderPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and runs containers; skipped with -short")
	}
	r, global := podmanOrSkip(t)
	ctx := context.Background()
	dir := t.TempDir()
	mod, err := FindModule(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, BinaryName)
	if err := BuildBinary(ctx, mod, bin); err != nil {
		t.Fatal(err)
	}
	arch, err := WriteArchive(bin, dir)
	if err != nil {
		t.Fatal(err)
	}
	image, err := r.LoadArchive(ctx, imageKey, arch)
	if err != nil {
		t.Fatal(err)
	}
	modelBytes := contestdemo.BetterModel(1)
	model := filepath.Join(dir, "model.safetensors")
	data := filepath.Join(dir, "points.csv")
	os.WriteFile(model, modelBytes, 0o644)
	os.WriteFile(data, contestdemo.Dataset(1), 0o644)

	t.Run("service", func(t *testing.T) {
		port := freePort(t)
		name := fmt.Sprintf("inferd-serve-test-%d", port)
		args := append(global, "run", "-d", "--name", name, "--pull", "never", "--read-only",
			"--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--pids-limit", "64",
			"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--memory", "64m",
			"-p", fmt.Sprintf("127.0.0.1:%d:%d", port, Port),
			"--mount", "type=bind,src="+model+",dst="+ModelPath+",ro=true", image)
		if out, err := exec.Command("podman", args...).CombinedOutput(); err != nil {
			t.Fatalf("podman run: %v: %s", err, out)
		}
		defer exec.Command("podman", append(global, "rm", "-f", "-t", "0", name)...).Run()
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(url + HealthPath)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				logs, _ := exec.Command("podman", append(global, "logs", name)...).CombinedOutput()
				t.Fatalf("server not healthy after 30s (%v); logs: %s", err, logs)
			}
			time.Sleep(200 * time.Millisecond)
		}
		// A point at the first class's centre (0, 2) is class 0.
		resp, err := http.Post(url+"/v1/predict", "application/json", strings.NewReader(`{"features": [0, 2]}`))
		if err != nil {
			t.Fatal(err)
		}
		var pr serve.PredictResponse
		json.NewDecoder(resp.Body).Decode(&pr)
		resp.Body.Close()
		if resp.StatusCode != 200 || pr.Class != 0 || len(pr.Scores) != 3 {
			t.Fatalf("predict: %d %+v", resp.StatusCode, pr)
		}
		resp, _ = http.Post(url+"/v1/predict", "application/json", strings.NewReader(`{"features": [0]}`))
		if resp.StatusCode != 400 {
			t.Fatalf("wrong feature count: %d", resp.StatusCode)
		}
		resp.Body.Close()
	})

	t.Run("batch", func(t *testing.T) {
		s := BatchJob(imageKey, inputCID, inputCID, 1)
		out := t.TempDir()
		res, err := r.Run(ctx, container.Job{Spec: s, Image: image, OutputDir: out, Inputs: map[string]string{ModelPath: model, DataPath: data}})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() {
			t.Fatalf("batch job failed: %s; logs %s", res.Reason, res.Logs)
		}
		var sum serve.Summary
		b, _ := os.ReadFile(filepath.Join(out, serve.SummaryFile))
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatalf("summary %q: %v", b, err)
		}
		ev, _ := eval.Builtin("mlp-accuracy")
		want, _ := ev.Evaluate(ctx, modelBytes, contestdemo.Dataset(1))
		if sum.AccuracyPPM != want || !bytes.Contains(res.Logs, []byte("rows predicted")) {
			t.Fatalf("summary %+v (evaluator %d); logs %s", sum, want, res.Logs)
		}
	})
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
