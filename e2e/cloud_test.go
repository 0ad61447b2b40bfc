package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCloudEndToEnd runs the inference cloud on two node processes: v0
// is a validator and a container provider, the user talks to v1. A batch
// job from a CID image (added on v1, fetched by v0 over bitswap) reads a
// mounted input and writes an output the user gets back by CID with its
// logs; a service lease is forwarded to over libp2p from v1's side and
// answers plain HTTP, a stranger's key is refused, v1's validator probes
// it healthy, and closing it refunds the rest. Needs root and podman.
func TestCloudEndToEnd(t *testing.T) {
	skipNoContainers(t)
	tn := newNet(t, 2, 300*time.Millisecond)
	prov := tn.info.Nodes[0]
	p0 := startProvider(t, prov.Home, prov.API)
	tn.procs = append(tn.procs, p0, tn.start(1))
	t.Cleanup(func() {
		// The provider's node removes its containers and releases its
		// podman storage when it stops (else the temp dir stays busy).
		tn.stopAll()
		checkRunRootGone(t, prov.Home)
	})
	api0, api1 := prov.API, tn.info.Nodes[1].API
	waitHeight(t, api1, 2, time.Minute)
	r := newCloudRig(t, tn)
	r.registerProvider(prov.Moniker, api0, api1)

	dir := t.TempDir()
	image := r.busyboxImage(dir, api1)
	os.WriteFile(filepath.Join(dir, "data"), []byte("hello world"), 0o644)
	input := lastLine(r.must("add", filepath.Join(dir, "data"), "--node", api1))

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
	r.submit(dir, "batch.toml", batch, api1)
	job := waitJob(t, api1, 1, "done")
	if job.Failure != "none" || job.Outputs == "" {
		t.Fatalf("batch job: %+v", job)
	}
	out := filepath.Join(dir, "result")
	r.must("job", "get", "1", "-o", out, "--node", api1)
	if b, _ := os.ReadFile(filepath.Join(out, "count.txt")); strings.TrimSpace(string(b)) != "11" {
		t.Fatalf("outputs count.txt = %q", b)
	}
	if logs := r.must("job", "logs", "1", "--node", api1); !strings.Contains(logs, "counted") {
		t.Fatalf("job logs: %q", logs)
	}

	// A running job's logs, followed live from the provider by its owner.
	slow := strings.Replace(batch, `args = ["wc -c < /in/data > /out/count.txt; echo counted"]`, `args = ["echo live-1; sleep 2; echo live-2 > /out/count.txt; echo live-2"]`, 1)
	r.submit(dir, "slow.toml", slow, api1)
	waitJob(t, api1, 2, "assigned")
	if logs := r.signed("job", "logs", "2", "--from", "demo", "--node", api1); !strings.Contains(logs, "live-1") || !strings.Contains(logs, "live-2") {
		t.Fatalf("live logs: %q", logs)
	}
	waitJob(t, api1, 2, "done")

	r.submit(dir, "service.toml", httpdService(image, 400), api1)
	waitJob(t, api1, 3, "running")

	if _, err := tn.kr.Add("stranger", ""); err != nil {
		t.Fatal(err)
	}
	refused, err := r.cli(append([]string{"lease", "forward", "3", "--listen", "127.0.0.1:0", "--from", "stranger", "--node", api1}, r.kh...)...)
	if err == nil || !strings.Contains(refused, "may not connect to lease 3") {
		t.Fatalf("a stranger's forward: %v\n%s", err, refused)
	}

	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fwd := exec.CommandContext(ctx, inferdBin, append([]string{"lease", "forward", "3", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--from", "demo", "--node", api1}, r.kh...)...)
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
	r.signed("tx", "lease", "close", "3", "--from", "demo", "--node", api1)
	j := waitJob(t, api1, 3, "done", "expired", "failed")
	if j.Lease == nil || j.Lease.EndReason != "closed" || j.Refunded == 0 || j.Charged+j.Refunded != j.MaxPrice {
		t.Fatalf("closed lease: %+v %+v", j, j.Lease)
	}
}
