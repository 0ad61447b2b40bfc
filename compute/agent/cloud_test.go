package agent

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/compute/container/ocitest"
	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// diskFiles is Files over a directory: content is named by its real
// UnixFS CID (content.Hash, as `inferd add` gives) and kept as a copy.
type diskFiles struct {
	dir     string
	mu      sync.Mutex
	paths   map[string]string
	fetches atomic.Int32
}

func (f *diskFiles) AddPath(ctx context.Context, p string) (cid.Cid, error) {
	c, err := content.Hash(ctx, p, content.AddOptions{})
	if err != nil {
		return c, err
	}
	dst := filepath.Join(f.dir, c.String())
	if out, err := exec.Command("cp", "-a", p, dst).CombinedOutput(); err != nil {
		return c, &failure{"copy", string(out)}
	}
	f.mu.Lock()
	f.paths[c.String()] = dst
	f.mu.Unlock()
	return c, nil
}

func (f *diskFiles) FetchFile(_ context.Context, c cid.Cid, p string) error {
	f.fetches.Add(1)
	f.mu.Lock()
	src, ok := f.paths[c.String()]
	f.mu.Unlock()
	if !ok {
		return os.ErrNotExist
	}
	if out, err := exec.Command("cp", "-a", src, p).CombinedOutput(); err != nil {
		return &failure{"copy", string(out)}
	}
	return nil
}

// cloudRig is a chain with a container provider (hosts[2]) and its Cloud
// agent on a real podman.
type cloudRig struct {
	*rig
	cloud *Cloud
	files *diskFiles
	image cid.Cid
}

func newCloudRig(t testing.TB) *cloudRig {
	if os.Geteuid() != 0 {
		t.Skip("container jobs need root (podman with runc and cgroup limits)")
	}
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed; .ci/run installs busybox-static")
	}
	// podman refuses a runroot longer than 50 characters.
	storage, err := os.MkdirTemp("", "cloud-")
	if err != nil {
		t.Fatal(err)
	}
	runner, err := container.New(container.Config{Root: filepath.Join(storage, "root"), RunRoot: filepath.Join(storage, "run")})
	if err != nil {
		t.Skip("podman/runc not installed (" + err.Error() + "); .ci/run installs them")
	}
	t.Cleanup(func() {
		exec.Command("podman", "--root", filepath.Join(storage, "root"), "--runroot", filepath.Join(storage, "run"), "rm", "-a", "-f", "-t", "0").Run()
		exec.Command("podman", "--root", filepath.Join(storage, "root"), "--runroot", filepath.Join(storage, "run"), "rmi", "-a", "-f").Run()
		exec.Command("umount", "-R", filepath.Join(storage, "root", "overlay")).Run()
		os.RemoveAll(storage)
	})
	// No Wasm provider agent: the Cloud agent alone. Its account misses
	// the Wasm epochs, so the jail threshold is lifted, or the provider
	// would be jailed (and get no jobs) from block ~30 on.
	r := newRigParams(t, strings.Replace(testParams, "{", `{"downtime_jail_threshold":1000000,`, 1), nil)
	r.provs = nil
	prov := r.hosts[0]
	files := &diskFiles{dir: t.TempDir(), paths: map[string]string{}}
	cloud, err := NewCloud(prov, CloudConfig{Runner: runner, Files: files, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	prov.Submit(context.Background(), ledger.NewMsg(ledgercompute.MsgTypeSetResources, ledgercompute.MsgSetResources{Resources: ledgercompute.Resources{
		Containers: true, MilliCPU: 2000, MemoryBytes: 1 << 30, LeasePrice: 5}}))
	rootfs, err := ocitest.BusyboxRootfs(bb)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "bb.tar")
	if err := ocitest.WriteOCIArchive(rootfs, archive); err != nil {
		t.Fatal(err)
	}
	img, err := files.AddPath(context.Background(), archive)
	if err != nil {
		t.Fatal(err)
	}
	return &cloudRig{rig: r, cloud: cloud, files: files, image: img}
}

// stepCloud applies a block and lets the Cloud agent finish what it starts.
func (r *cloudRig) stepCloud(ctx context.Context) {
	r.step(ctx)
	r.cloud.Step(ctx, r.n.height)
	r.cloud.Wait()
}

func (r *cloudRig) submit(ctx context.Context, s *jobspec.Spec) {
	b, err := jobspec.Encode(s)
	if err != nil {
		r.n.t.Fatal(err)
	}
	r.user.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobSubmitContainer, ledgercompute.MsgJobSubmitContainer{Spec: b}))
}

func (r *cloudRig) batch(image cid.Cid, script string) *jobspec.Spec {
	return &jobspec.Spec{Kind: jobspec.KindBatch, Image: jobspec.Image{CID: image.String()},
		Command: []string{"/bin/sh", "-c"}, Args: []string{script},
		Resources: jobspec.Resources{MilliCPU: 500, MemoryBytes: 64 << 20}, TimeLimit: 60, MaxPrice: 1000}
}

// waitJob steps until job id leaves assigned/open, at most 40 blocks.
func (r *cloudRig) waitJob(ctx context.Context, id uint64, want string) ledgercompute.Job {
	for i := 0; i < 40; i++ {
		r.stepCloud(ctx)
		if j := r.job(id); j.Status == want {
			return j
		}
	}
	r.n.t.Fatalf("job %d never became %s: %+v", id, want, r.job(id))
	return ledgercompute.Job{}
}

func (r *cloudRig) read(c string, rel string) string {
	r.files.mu.Lock()
	p := r.files.paths[c]
	r.files.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(p, rel))
	if err != nil {
		r.n.t.Fatalf("read %s/%s: %v", c, rel, err)
	}
	return string(b)
}

func TestCloudBatchJobs(t *testing.T) {
	r := newCloudRig(t)
	ctx := context.Background()
	r.stepCloud(ctx) // registration and resources
	in := filepath.Join(t.TempDir(), "data")
	os.WriteFile(in, []byte("hello world"), 0o644)
	input, _ := r.files.AddPath(ctx, in)
	s := r.batch(r.image, "wc -c < /in/data > /out/count.txt; cat /in/data; echo >&2 done")
	s.Inputs = []jobspec.Input{{CID: input.String(), Path: "/in/data"}}
	s.Outputs = []string{"/out/count.txt"}
	r.submit(ctx, s)
	j := r.waitJob(ctx, 1, ledgercompute.JobDone)
	if j.Failure != ledgercompute.FailNone || j.Outputs == "" || j.Logs == "" {
		t.Fatalf("job 1: %+v", j)
	}
	// The user gets the output bytes back by CID.
	if got := r.read(j.Outputs, "count.txt"); strings.TrimSpace(got) != "11" {
		t.Fatalf("outputs %s count.txt = %q", j.Outputs, got)
	}
	if logs := r.read(j.Logs, ""); !strings.Contains(logs, "hello world") || !strings.Contains(logs, "done") {
		t.Fatalf("logs %q", logs)
	}
	fetched := r.files.fetches.Load()

	// Same image again, exiting 3: no new image fetch (cached by CID).
	r.submit(ctx, r.batch(r.image, "echo failing; exit 3"))
	j = r.waitJob(ctx, 2, ledgercompute.JobFailed)
	if j.Failure != ledgercompute.FailExitNonzero || j.ExitCode != 3 || j.Charged == 0 {
		t.Fatalf("job 2: %+v", j)
	}
	if n := r.files.fetches.Load(); n != fetched {
		t.Fatalf("the cached image was fetched again (%d fetches, was %d)", n, fetched)
	}
	if logs := r.read(j.Logs, ""); !strings.Contains(logs, "failing") || !strings.Contains(logs, "code 3") {
		t.Fatalf("job 2 logs %q", logs)
	}

	// An image CID that is not an OCI archive: image_invalid.
	notImage, _ := r.files.AddPath(ctx, in)
	r.submit(ctx, r.batch(notImage, "true"))
	j = r.waitJob(ctx, 3, ledgercompute.JobFailed)
	if j.Failure != ledgercompute.FailImageInvalid {
		t.Fatalf("job 3: %+v", j)
	}
	if logs := r.read(j.Logs, ""); !strings.Contains(logs, "not an OCI image archive") {
		t.Fatalf("job 3 logs %q", logs)
	}
}

func TestCloudLease(t *testing.T) {
	r := newCloudRig(t)
	ctx := context.Background()
	r.stepCloud(ctx)
	s := &jobspec.Spec{Kind: jobspec.KindService, Image: jobspec.Image{CID: r.image.String()},
		Command: []string{"/bin/sh", "-c"}, Args: []string{"mkdir -p /tmp/w && echo ok > /tmp/w/healthz && exec httpd -f -p 8080 -h /tmp/w"},
		Resources: jobspec.Resources{MilliCPU: 500, MemoryBytes: 64 << 20},
		Service:   &jobspec.Service{Port: 8080, HealthPath: "/healthz", DurationBlocks: 100, PricePerBlock: 10}}
	r.submit(ctx, s)
	j := r.waitJob(ctx, 1, ledgercompute.JobRunning)
	addr, health, ok := r.cloud.Target(1)
	if !ok || health != "/healthz" {
		t.Fatalf("lease running on-chain (%+v) but no target: %q %q %v", j.Lease, addr, health, ok)
	}
	resp, err := http.Get("http://" + addr + health)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok\n" {
		t.Fatalf("health: %q", b)
	}
	// The validator's prober attests each window; healthy windows are
	// charged and credited.
	prober := NewProber(r.val, func(ctx context.Context, j ledgercompute.Job) (bool, error) {
		addr, health, ok := r.cloud.Target(j.ID)
		if !ok {
			return false, nil
		}
		resp, err := http.Get("http://" + addr + health)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == 200, nil
	})
	for i := 0; i < 25; i++ {
		r.stepCloud(ctx)
		prober.Step(ctx, r.n.height)
		prober.Wait()
	}
	if l := r.job(1).Lease; l.HealthyBlocks == 0 || l.LastHealth != ledgercompute.HealthOK {
		t.Fatalf("lease after probed windows: %+v", l)
	}
	// The container dies: the agent notices within checkEvery blocks and
	// starts it again, with no new lease/start.
	r.cloud.mu.Lock()
	first := r.cloud.services[1].svc
	r.cloud.mu.Unlock()
	first.Stop(ctx)
	restarted := false
	for i := 0; i < 3*checkEvery && !restarted; i++ {
		r.stepCloud(ctx)
		r.cloud.mu.Lock()
		s := r.cloud.services[1]
		restarted = s != nil && s.svc != nil && s.svc != first
		r.cloud.mu.Unlock()
	}
	if !restarted {
		t.Fatal("the dead lease container was not started again")
	}
	addr, health, _ = r.cloud.Target(1)
	if resp, err := http.Get("http://" + addr + health); err != nil || resp.StatusCode != 200 {
		t.Fatalf("restarted service: %v %v", resp, err)
	}
	if j := r.job(1); j.Status != ledgercompute.JobRunning {
		t.Fatalf("lease after the restart: %s", j.Status)
	}
	r.user.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeLeaseClose, ledgercompute.MsgLeaseClose{Lease: 1}))
	r.stepCloud(ctx)
	r.stepCloud(ctx)
	if j := r.job(1); j.Lease.EndReason != ledgercompute.LeaseEndClosed {
		t.Fatalf("lease after close: %+v %+v", j, j.Lease)
	}
	if _, _, ok := r.cloud.Target(1); ok {
		t.Fatal("the closed lease still has a target")
	}
	time.Sleep(500 * time.Millisecond) // the stop runs in the background
	r.cloud.stopAll()
}

// TestCloudLiveLogs: a running batch job's output is followed live; the
// reader ends when the job does.
func TestCloudLiveLogs(t *testing.T) {
	r := newCloudRig(t)
	ctx := context.Background()
	r.stepCloud(ctx)
	r.submit(ctx, r.batch(r.image, "echo first; sleep 1; echo second"))
	r.step(ctx)
	r.cloud.Step(ctx, r.n.height)
	defer r.cloud.Wait()
	var rd io.ReadCloser
	var err error
	for i := 0; i < 100; i++ {
		if rd, err = r.cloud.Logs(ctx, 1); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("live logs: %v", err)
	}
	b, err := io.ReadAll(rd)
	if err != nil || !strings.Contains(string(b), "first\n") || !strings.Contains(string(b), "second\n") {
		t.Fatalf("followed %q %v", b, err)
	}
	r.cloud.Wait()
	if _, err := r.cloud.Logs(ctx, 1); err != ErrNoLiveLogs {
		t.Fatalf("logs after the end: %v", err)
	}
}

// TestCloudResendsReport: a result whose transaction is refused, or
// accepted and then lost (evicted from the mempool), is sent again; the
// job ends done, not missed.
func TestCloudResendsReport(t *testing.T) {
	r := newCloudRig(t)
	ctx := context.Background()
	r.stepCloud(ctx)
	prov := r.hosts[0]
	r.submit(ctx, r.batch(r.image, "echo once >> /out/o; echo ran"))
	prov.mu.Lock()
	prov.refuse = true
	prov.mu.Unlock()
	r.stepCloud(ctx) // assigned, run, report refused
	prov.mu.Lock()
	prov.refuse = false
	prov.mu.Unlock()
	r.stepCloud(ctx) // sent again, accepted ...
	r.n.mu.Lock()
	r.n.txs = nil // ... and lost before the next block
	r.n.mu.Unlock()
	prov.mu.Lock()
	prov.nonce-- // the node's agent host falls back to the ledger's nonce
	prov.mu.Unlock()
	j := r.waitJob(ctx, 1, ledgercompute.JobDone)
	if j.Failure != ledgercompute.FailNone || strings.Count(r.read(j.Outputs, "o"), "once") != 1 {
		t.Fatalf("resent job: %+v", j)
	}
}
