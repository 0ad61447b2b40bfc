package container

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferd/inferd/compute/jobspec"
)

const testCID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

var (
	shared struct {
		once    sync.Once
		r       *Runner
		image   string
		archive string
		skip    string
		err     error
	}
	storage string // the tests' own podman storage, removed by TestMain
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		shared.r.podman(ctx, "rm", "-a", "-f", "-t", "0")
		shared.r.podman(ctx, "rmi", "-a", "-f")
		exec.CommandContext(ctx, "umount", "-R", filepath.Join(storage, "root", "overlay")).Run()
		cancel()
	}
	if storage != "" {
		os.RemoveAll(storage)
	}
	os.Exit(code)
}

// testRunner returns the runner all tests share, with the busybox image
// loaded once from an OCI archive; it skips when podman cannot run here.
func testRunner(t *testing.T) *Runner {
	t.Helper()
	shared.once.Do(func() {
		if os.Geteuid() != 0 {
			shared.skip = "container tests need root (podman with runc and cgroup limits); run them as root"
			return
		}
		r, err := New(Config{})
		if err != nil {
			shared.skip = "podman/runc not installed (" + err.Error() + "); .ci/run installs them: apt-get install -y podman runc busybox-static"
			return
		}
		if _, err := exec.LookPath("busybox"); err != nil {
			shared.skip = "busybox not installed; apt-get install -y busybox-static (.ci/run does it)"
			return
		}
		storage, err = os.MkdirTemp("", "inferd-container-test-")
		if err != nil {
			shared.err = err
			return
		}
		r.cfg.Root, r.cfg.RunRoot = filepath.Join(storage, "root"), filepath.Join(storage, "run")
		ctx := context.Background()
		if out, err := r.podman(ctx, "info", "--format", "{{.Host.OCIRuntime.Name}}"); err != nil {
			shared.skip = fmt.Sprintf("podman cannot run here: %v %s", err, out)
			return
		}
		bb, _ := exec.LookPath("busybox")
		rootfs, err := busyboxRootfs(bb)
		if err != nil {
			shared.err = err
			return
		}
		shared.archive = filepath.Join(storage, "busybox-oci.tar")
		if shared.err = writeOCIArchive(rootfs, shared.archive); shared.err != nil {
			return
		}
		shared.image, shared.err = r.LoadArchive(ctx, testCID, shared.archive)
		shared.r = r
	})
	if shared.skip != "" {
		t.Skip(shared.skip)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.r
}

func batch(script string) *jobspec.Spec {
	return &jobspec.Spec{
		Kind:      jobspec.KindBatch,
		Image:     jobspec.Image{CID: testCID},
		Command:   []string{"/bin/sh", "-c"},
		Args:      []string{script},
		Resources: jobspec.Resources{MilliCPU: 1000, MemoryBytes: 64 << 20},
		TimeLimit: 60,
		MaxPrice:  1,
	}
}

// run runs spec in the shared image with a fresh output directory.
func run(t *testing.T, r *Runner, s *jobspec.Spec, inputs map[string]string) (*Result, string) {
	t.Helper()
	out := t.TempDir()
	res, err := r.Run(context.Background(), Job{Spec: s, Image: shared.image, Inputs: inputs, OutputDir: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: exit %d failure %q reason %q in %v; logs %q", res.Name, res.ExitCode, res.Failure, res.Reason, res.Duration.Round(time.Millisecond), res.Logs)
	if _, err := r.podman(context.Background(), "container", "exists", res.Name); err == nil {
		t.Errorf("container %s still exists after Run", res.Name)
	}
	return res, out
}

func TestBatchInputOutput(t *testing.T) {
	r := testRunner(t)
	in := t.TempDir()
	blob := make([]byte, 1<<20+17)
	rand.Read(blob)
	os.WriteFile(filepath.Join(in, "blob"), blob, 0o644)
	one := filepath.Join(t.TempDir(), "one.txt")
	os.WriteFile(one, []byte("single file input\n"), 0o644)

	s := batch(`cp /in/data/blob /out/blob && cat /in/one > /out/one && echo "$GREETING" > /out/env && echo done`)
	s.Env = map[string]string{"GREETING": "hello from the job"}
	s.Inputs = []jobspec.Input{{CID: testCID, Path: "/in/data"}, {CID: testCID, Path: "/in/one"}}
	s.Outputs = []string{"/out/blob", "/out/one", "/out/env"}
	res, out := run(t, r, s, map[string]string{"/in/data": in, "/in/one": one})
	if !res.OK() || res.ExitCode != 0 {
		t.Fatalf("job failed: %s", res.Reason)
	}
	got, _ := os.ReadFile(filepath.Join(out, "blob"))
	if !bytes.Equal(got, blob) {
		t.Fatalf("output blob differs from input: %d bytes vs %d", len(got), len(blob))
	}
	if b, _ := os.ReadFile(filepath.Join(out, "env")); string(b) != "hello from the job\n" {
		t.Errorf("env output %q", b)
	}
	if len(res.Outputs) != 3 || res.Outputs[0] != filepath.Join(out, "blob") {
		t.Errorf("outputs %v", res.Outputs)
	}
	if res.OutputBytes < int64(len(blob)) || !strings.Contains(string(res.Logs), "done") {
		t.Errorf("output bytes %d, logs %q", res.OutputBytes, res.Logs)
	}

	// Inputs are read-only.
	s = batch(`echo x > /in/data/blob`)
	s.Inputs = []jobspec.Input{{CID: testCID, Path: "/in/data"}}
	res, _ = run(t, r, s, map[string]string{"/in/data": in})
	if res.OK() || !strings.Contains(string(res.Logs), "Read-only file system") {
		t.Errorf("wrote to an input: %+v", res)
	}
	if got, _ := os.ReadFile(filepath.Join(in, "blob")); !bytes.Equal(got, blob) {
		t.Error("input changed on the host")
	}
}

func TestFailures(t *testing.T) {
	r := testRunner(t)
	t.Run("exit", func(t *testing.T) {
		res, _ := run(t, r, batch(`echo about to fail; exit 3`), nil)
		if res.Failure != FailExit || res.ExitCode != 3 || !strings.Contains(res.Reason, "code 3") || !strings.Contains(string(res.Logs), "about to fail") {
			t.Errorf("got %+v", res)
		}
	})
	t.Run("missing output", func(t *testing.T) {
		s := batch(`true`)
		s.Outputs = []string{"/out/never"}
		if res, _ := run(t, r, s, nil); res.Failure != FailMissingOutput {
			t.Errorf("got %+v", res)
		}
	})
	t.Run("symlink output", func(t *testing.T) {
		s := batch(`mkdir /out/model && echo w > /out/model/weights && ln -s /etc/hostname /out/model/link`)
		s.Outputs = []string{"/out/model"}
		res, _ := run(t, r, s, nil)
		if res.Failure != FailBadOutput || !strings.Contains(res.Reason, "/out/model/link") {
			t.Errorf("got %q %s", res.Failure, res.Reason)
		}
	})
	t.Run("memory", func(t *testing.T) {
		s := batch(`head -c 200m /dev/zero | tail > /dev/null`)
		s.Resources.MemoryBytes = 32 << 20
		if res, _ := run(t, r, s, nil); res.Failure != FailOOM {
			t.Errorf("200 MiB in a 32 MiB cap: got %q %s", res.Failure, res.Reason)
		}
	})
	t.Run("time", func(t *testing.T) {
		s := batch(`echo started; sleep 120`)
		s.TimeLimit = 2
		start := time.Now()
		res, _ := run(t, r, s, nil)
		if res.Failure != FailTimeLimit || !strings.Contains(res.Reason, "time limit") {
			t.Errorf("got %q %s", res.Failure, res.Reason)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("a 2 s limit took %v", d)
		}
	})
	t.Run("output too large", func(t *testing.T) {
		small := *r
		small.cfg.MaxOutputBytes = 1 << 20
		if res, _ := run(t, &small, batch(`head -c 3000000 /dev/zero > /out/big`), nil); res.Failure != FailOutputTooLarge || !strings.Contains(res.Reason, "cap") {
			t.Errorf("got %q %s", res.Failure, res.Reason)
		}
	})
	t.Run("output too large while running", func(t *testing.T) {
		small := *r
		small.cfg.MaxOutputBytes = 1 << 20
		s := batch(`head -c 3000000 /dev/zero > /out/big; sleep 60`)
		s.TimeLimit = 30
		res, _ := run(t, &small, s, nil)
		if res.Failure != FailOutputTooLarge || !strings.Contains(res.Reason, "while the job ran") || res.Duration > 20*time.Second {
			t.Errorf("got %q %s after %v", res.Failure, res.Reason, res.Duration)
		}
	})
	t.Run("logs bounded", func(t *testing.T) {
		small := *r
		small.cfg.MaxLogBytes = 1000
		res, _ := run(t, &small, batch(`head -c 100000 /dev/zero | tr '\0' x`), nil)
		if len(res.Logs) != 1000 || res.LogsDropped != 99000 {
			t.Errorf("logs %d bytes, %d dropped", len(res.Logs), res.LogsDropped)
		}
	})
}

func TestRefusals(t *testing.T) {
	r := testRunner(t)
	ctx := context.Background()
	s := batch(`true`)
	s.Network = true
	if _, err := r.Run(ctx, Job{Spec: s, Image: shared.image, OutputDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "does not allow network") {
		t.Errorf("network job on a no-network provider: %v", err)
	}
	s = batch(`true`)
	s.Resources.GPU = &jobspec.GPU{Count: 1}
	if _, err := r.Run(ctx, Job{Spec: s, Image: shared.image, OutputDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no GPU devices") {
		t.Errorf("GPU job on a provider without GPUs: %v", err)
	}
	s = batch(`true`)
	s.Inputs = []jobspec.Input{{CID: testCID, Path: "/in/x"}}
	if _, err := r.Run(ctx, Job{Spec: s, Image: shared.image, OutputDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "not fetched") {
		t.Errorf("missing input: %v", err)
	}
	if _, err := r.Run(ctx, Job{Spec: batch("true"), Image: "localhost/inferd-image/absent:cid", OutputDir: t.TempDir()}); err == nil {
		t.Error("absent image ran")
	}
	svc := batch("true")
	svc.Kind, svc.TimeLimit, svc.MaxPrice = jobspec.KindService, 0, 0
	svc.Service = &jobspec.Service{Port: 8080, DurationBlocks: 10, PricePerBlock: 1}
	if _, err := r.Run(ctx, Job{Spec: svc, Image: shared.image, OutputDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "StartService") {
		t.Errorf("service job: %v", err)
	}
	// The test archive is annotated busybox:test; only the CID's name stays.
	names, err := r.podman(ctx, "images", "--format", "{{.Repository}}:{{.Tag}}")
	if err != nil || !strings.Contains(names, shared.image) || strings.Contains(names, "busybox") {
		t.Errorf("image names in the storage: %q %v", names, err)
	}
	if img, err := r.LocalImage(ctx, batch("true")); err != nil || img != shared.image {
		t.Errorf("LocalImage of the loaded CID: %q %v", img, err)
	}
	absent := batch("true")
	absent.Image = jobspec.Image{Ref: "busybox@sha256:" + strings.Repeat("0", 64)}
	if _, err := r.LocalImage(ctx, absent); err == nil || !strings.Contains(err.Error(), "nothing is pulled") {
		t.Errorf("LocalImage of an absent ref: %v", err)
	}
}

func TestHostile(t *testing.T) {
	r := testRunner(t)
	t.Run("network denied", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		accepted := make(chan struct{}, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- struct{}{}
				c.Close()
			}
		}()
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		res, _ := run(t, r, batch(`wget -T 3 -q -O- http://127.0.0.1:`+port+`/ && echo REACHED; nc -w 3 127.0.0.1 `+port+` </dev/null && echo REACHED; ip addr 2>/dev/null | grep -c inet; exit 0`), nil)
		if strings.Contains(string(res.Logs), "REACHED") {
			t.Error("job reached the host's port")
		}
		select {
		case <-accepted:
			t.Error("the host's listener accepted a connection from the job")
		default:
		}
	})
	t.Run("host proc", func(t *testing.T) {
		res, _ := run(t, r, batch(`ls /proc | grep -E '^[0-9]+$'`), nil)
		if !res.OK() {
			t.Fatal(res.Reason)
		}
		pids := strings.Fields(string(res.Logs))
		if len(pids) == 0 || len(pids) > 10 {
			t.Errorf("container sees %d pids: %v", len(pids), pids)
		}
		for _, p := range pids {
			if p == strconv.Itoa(os.Getpid()) || p == strconv.Itoa(os.Getppid()) {
				t.Errorf("container sees the host pid %s", p)
			}
		}
	})
	t.Run("read-only root and no capabilities", func(t *testing.T) {
		res, _ := run(t, r, batch(`touch /tmp/ok && echo TMP_OK; grep -E 'CapEff|NoNewPrivs|Seccomp:' /proc/self/status; touch /etc/x && echo WROTE_ETC; mount -t tmpfs none /tmp 2>&1 || echo NO_MOUNT`), nil)
		logs := string(res.Logs)
		if !strings.Contains(logs, "TMP_OK") || strings.Contains(logs, "WROTE_ETC") || !strings.Contains(logs, "Read-only file system") {
			t.Errorf("logs %q", logs)
		}
		if !strings.Contains(logs, "CapEff:\t0000000000000000") || !strings.Contains(logs, "NO_MOUNT") || !strings.Contains(logs, "permission denied") {
			t.Errorf("the job has capabilities: %q", logs)
		}
		if !strings.Contains(logs, "NoNewPrivs:\t1") || !strings.Contains(logs, "Seccomp:\t2") {
			t.Errorf("no-new-privileges or seccomp missing: %q", logs)
		}
	})
	t.Run("fork bomb", func(t *testing.T) {
		bomb := *r
		bomb.cfg.PidsLimit = 64
		s := batch(`f(){ f | f & }; f; sleep 2; echo survived`)
		s.TimeLimit = 10
		res, _ := run(t, &bomb, s, nil)
		if res.Duration > 25*time.Second {
			t.Errorf("fork bomb ran %v", res.Duration)
		}
		if err := exec.Command("true").Run(); err != nil {
			t.Errorf("host cannot start a process after the fork bomb: %v", err)
		}
	})
	t.Run("provider home", func(t *testing.T) {
		home := t.TempDir()
		secret := filepath.Join(home, ".inferd", "key")
		os.MkdirAll(filepath.Dir(secret), 0o700)
		os.WriteFile(secret, []byte("PROVIDER-SECRET-KEY"), 0o600)
		t.Setenv("HOME", home)
		res, _ := run(t, r, batch(`cat `+secret+` ; cat $HOME/.inferd/key; ls -a /root; cat /proc/1/environ | tr '\0' '\n'; exit 0`), nil)
		if strings.Contains(string(res.Logs), "PROVIDER-SECRET-KEY") || !strings.Contains(string(res.Logs), "No such file") {
			t.Errorf("the job saw the provider's home: %q", res.Logs)
		}
	})
}

func TestPodmanSavedArchive(t *testing.T) {
	r := testRunner(t)
	ctx := context.Background()
	saved := filepath.Join(t.TempDir(), "saved.tar")
	if _, err := r.podman(ctx, "save", "--format", "oci-archive", "-o", saved, shared.image); err != nil {
		t.Fatal(err)
	}
	const key = "bafkreisavedbypodmansaveformatociarchive"
	defer r.RemoveImage(ctx, key)
	img, err := r.LoadArchive(ctx, key, saved)
	if err != nil {
		t.Fatal(err)
	}
	// The archive carried the shared image's name (it was saved by that
	// name); loading it under another key drops that name, so that no
	// archive can take another CID's name. The shared image then loads
	// again from its own archive.
	if _, err := r.podman(ctx, "image", "exists", shared.image); err == nil {
		t.Error("an archive's name for another CID stayed in the storage")
	}
	defer func() {
		if again, err := r.LoadArchive(ctx, testCID, shared.archive); err != nil || again != shared.image {
			t.Errorf("reload of the shared image: %v", err)
		}
	}()
	res, err := r.Run(ctx, Job{Spec: batch(`echo from saved`), Image: img, OutputDir: t.TempDir()})
	if err != nil || !res.OK() || !strings.Contains(string(res.Logs), "from saved") {
		t.Fatalf("%v %+v", err, res)
	}
	// A cached image is found by its key without reading the archive.
	if again, err := r.LoadArchive(ctx, key, "/nonexistent"); err != nil || again != img {
		t.Errorf("cached load: %q %v", again, err)
	}
}

func TestNetworkAllowed(t *testing.T) {
	r := testRunner(t)
	open := *r
	open.cfg.AllowNetwork = true
	s := batch(`ip -4 addr | grep -c inet`)
	s.Network = true
	res, _ := run(t, &open, s, nil)
	if !res.OK() || strings.TrimSpace(string(res.Logs)) != "2" {
		t.Errorf("allowed network: want loopback and one interface, got %q (%s)", res.Logs, res.Reason)
	}
	res, _ = run(t, r, batch(`ip -4 addr | grep -c inet`), nil)
	if strings.TrimSpace(string(res.Logs)) != "1" {
		t.Errorf("denied network: want loopback only, got %q", res.Logs)
	}
}

func TestCancel(t *testing.T) {
	r := testRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(time.Second, cancel)
	start := time.Now()
	res, err := r.Run(ctx, Job{Spec: batch(`sleep 120`), Image: shared.image, OutputDir: t.TempDir()})
	if err != context.Canceled || res != nil {
		t.Fatalf("cancelled run: %v %+v", err, res)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("cancel took %v", d)
	}
	out, _ := r.podman(context.Background(), "ps", "-a", "-q", "--filter", "label=inferd.job=1")
	if strings.TrimSpace(out) != "" {
		t.Errorf("containers left after cancel: %q", out)
	}
}
