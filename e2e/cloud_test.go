package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/compute/container/ocitest"
)

// TestCloudEndToEnd runs the inference cloud on two node processes: v0
// is a validator and a container provider, the user talks to v1. A batch
// job from a CID image (added on v1, fetched by v0 over bitswap) reads a
// mounted input and writes an output the user gets back by CID with its
// logs; a service lease is forwarded to over libp2p from v1's side and
// answers plain HTTP, a stranger's key is refused, v1's validator probes
// it healthy, and closing it refunds the rest. Needs root and podman.
func TestCloudEndToEnd(t *testing.T) {
	skipShort(t)
	if os.Geteuid() != 0 {
		t.Skip("container jobs need root (rootful podman)")
	}
	for _, bin := range []string{"podman", "busybox"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed; .ci/run installs podman, runc and busybox-static", bin)
		}
	}
	tn := newNet(t, 2, 300*time.Millisecond)
	prov := tn.info.Nodes[0]
	p0 := startProvider(t, prov.Home, prov.API)
	tn.procs = append(tn.procs, p0, tn.start(1))
	t.Cleanup(func() {
		// Stop the nodes, then release the provider's podman storage
		// (its overlay mount would keep the temp dir from being removed).
		// The provider's node removes its containers and releases its
		// podman storage when it stops (else the temp dir stays busy).
		tn.stopAll()
		sum := sha256.Sum256([]byte(prov.Home)) // cmd/inferd runRoot
		os.RemoveAll(filepath.Join(os.TempDir(), "inferd-run-"+hex.EncodeToString(sum[:6])))
	})
	api0, api1 := prov.API, tn.info.Nodes[1].API
	waitHeight(t, api1, 2, time.Minute)
	kh := []string{"--home", tn.dir, "--keyring-backend", "test"}
	cli := func(args ...string) (string, error) {
		cmd := exec.Command(inferdBin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := cli(args...)
		if err != nil {
			t.Fatalf("inferd %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	must(append([]string{"tx", "compute", "register", "--price", "2000", "--capacity", "2", "--bond", "100inf", "--from", prov.Moniker, "--node", api0}, kh...)...)
	// The provider's node publishes its resources once it is registered.
	waitCloud(t, 2*time.Minute, "provider resources on-chain", func() bool {
		var ps struct {
			Providers []struct {
				Resources struct{ Containers bool } `json:"resources"`
			} `json:"providers"`
		}
		getJSON(api1+"/providers", &ps)
		return len(ps.Providers) == 1 && ps.Providers[0].Resources.Containers
	})

	dir := t.TempDir()
	bb, _ := exec.LookPath("busybox")
	rootfs, err := ocitest.BusyboxRootfs(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := ocitest.WriteOCIArchive(rootfs, filepath.Join(dir, "bb.tar")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "data"), []byte("hello world"), 0o644)
	image := lastLine(must("add", filepath.Join(dir, "bb.tar"), "--node", api1))
	input := lastLine(must("add", filepath.Join(dir, "data"), "--node", api1))

	batch := fmt.Sprintf(`kind = "batch"
command = ["/bin/sh", "-c"]
args = ["wc -c < /in/data > /out/count.txt; echo counted"]
time_limit = "60s"
max_price = "5000uinf"
outputs = ["/out/count.txt"]
[image]
cid = %q
[resources]
cpu = 0.5
memory = "64MiB"
[[inputs]]
cid = %q
path = "/in/data"
`, image, input)
	os.WriteFile(filepath.Join(dir, "batch.toml"), []byte(batch), 0o644)
	must(append([]string{"job", "submit", filepath.Join(dir, "batch.toml"), "--from", "demo", "--node", api1}, kh...)...)
	job := waitJob(t, api1, 1, "done")
	if job.Failure != "none" || job.Outputs == "" {
		t.Fatalf("batch job: %+v", job)
	}
	out := filepath.Join(dir, "result")
	must("job", "get", "1", "-o", out, "--node", api1)
	if b, _ := os.ReadFile(filepath.Join(out, "count.txt")); strings.TrimSpace(string(b)) != "11" {
		t.Fatalf("outputs count.txt = %q", b)
	}
	if logs := must("job", "logs", "1", "--node", api1); !strings.Contains(logs, "counted") {
		t.Fatalf("job logs: %q", logs)
	}

	// A running job's logs, followed live from the provider by its owner.
	slow := strings.Replace(batch, `args = ["wc -c < /in/data > /out/count.txt; echo counted"]`, `args = ["echo live-1; sleep 2; echo live-2 > /out/count.txt; echo live-2"]`, 1)
	os.WriteFile(filepath.Join(dir, "slow.toml"), []byte(slow), 0o644)
	must(append([]string{"job", "submit", filepath.Join(dir, "slow.toml"), "--from", "demo", "--node", api1}, kh...)...)
	waitJob(t, api1, 2, "assigned")
	if logs := must(append([]string{"job", "logs", "2", "--from", "demo", "--node", api1}, kh...)...); !strings.Contains(logs, "live-1") || !strings.Contains(logs, "live-2") {
		t.Fatalf("live logs: %q", logs)
	}
	waitJob(t, api1, 2, "done")

	service := fmt.Sprintf(`kind = "service"
command = ["/bin/sh", "-c"]
args = ["mkdir -p /tmp/w && echo ok > /tmp/w/healthz && echo '{\"prediction\":42}' > /tmp/w/predict && exec httpd -f -p 8080 -h /tmp/w"]
[image]
cid = %q
[resources]
cpu = 0.5
memory = "64MiB"
[service]
port = 8080
health = "/healthz"
duration_blocks = 400
price_per_block = "10uinf"
`, image)
	os.WriteFile(filepath.Join(dir, "service.toml"), []byte(service), 0o644)
	must(append([]string{"job", "submit", filepath.Join(dir, "service.toml"), "--from", "demo", "--node", api1}, kh...)...)
	waitJob(t, api1, 3, "running")

	if _, err := tn.kr.Add("stranger", ""); err != nil {
		t.Fatal(err)
	}
	refused, err := cli(append([]string{"lease", "forward", "3", "--listen", "127.0.0.1:0", "--from", "stranger", "--node", api1}, kh...)...)
	if err == nil || !strings.Contains(refused, "may not connect to lease 3") {
		t.Fatalf("a stranger's forward: %v\n%s", err, refused)
	}

	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fwd := exec.CommandContext(ctx, inferdBin, append([]string{"lease", "forward", "3", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--from", "demo", "--node", api1}, kh...)...)
	stdout, _ := fwd.StdoutPipe()
	fwd.Stderr = os.Stderr
	if err := fwd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); fwd.Wait() }()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if !strings.Contains(line, "forwarding") {
		t.Fatalf("lease forward printed %q", line)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/predict", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"prediction":42`) {
		t.Fatalf("forwarded GET /predict: %d %q", resp.StatusCode, body)
	}

	// v1's validator probes the lease; healthy windows are charged.
	waitCloud(t, 2*time.Minute, "a healthy attested window", func() bool {
		j := jobOf(api1, 3)
		return j.Lease != nil && j.Lease.HealthyBlocks > 0
	})
	must(append([]string{"tx", "lease", "close", "3", "--from", "demo", "--node", api1}, kh...)...)
	j := waitJob(t, api1, 3, "done", "expired", "failed")
	if j.Lease == nil || j.Lease.EndReason != "closed" || j.Refunded == 0 || j.Charged+j.Refunded != j.MaxPrice {
		t.Fatalf("closed lease: %+v %+v", j, j.Lease)
	}
}

func startProvider(t *testing.T, home, api string) *proc {
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(inferdBin, "run", "--home", home, "--provider", "--provider.lease-price", "5uinf")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, home: home, api: api, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	return p
}

type cloudJob struct {
	Status   string `json:"status"`
	Failure  string `json:"failure"`
	Outputs  string `json:"outputs"`
	Logs     string `json:"logs"`
	MaxPrice uint64 `json:"max_price"`
	Charged  uint64 `json:"charged"`
	Refunded uint64 `json:"refunded"`
	Lease    *struct {
		HealthyBlocks uint64 `json:"healthy_blocks"`
		EndReason     string `json:"end_reason"`
	} `json:"lease"`
}

func jobOf(api string, id int) cloudJob {
	var j cloudJob
	getJSON(fmt.Sprintf("%s/jobs/%d", api, id), &j)
	return j
}

func waitJob(t *testing.T, api string, id int, statuses ...string) cloudJob {
	t.Helper()
	var j cloudJob
	waitCloud(t, 3*time.Minute, fmt.Sprintf("job %d %v", id, statuses), func() bool {
		j = jobOf(api, id)
		for _, s := range statuses {
			if j.Status == s {
				return true
			}
		}
		return false
	})
	return j
}

func waitCloud(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
