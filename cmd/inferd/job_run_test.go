package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferd/inferd/content"
)

// TestJobRunLive takes the user's path end to end: an image made with
// podman (import of a busybox root filesystem), saved with `podman save
// --format oci-archive`, named by its CID in a spec, and run by `inferd job
// run` with an input directory; the output comes back.
func TestJobRunLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (podman with runc and cgroup limits)")
	}
	bb, err := exec.LookPath("busybox")
	if _, perr := exec.LookPath("podman"); err != nil || perr != nil {
		t.Skip("needs podman and busybox-static (.ci/run installs them)")
	}
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	defer func() {
		exec.Command("podman", "--root", filepath.Join(storage, "root"), "--runroot", filepath.Join(storage, "run"), "rmi", "-a", "-f").Run()
	}()
	podman := func(args ...string) {
		t.Helper()
		all := append([]string{"--runtime", "/usr/sbin/runc", "--root", filepath.Join(storage, "root"), "--runroot", filepath.Join(storage, "run")}, args...)
		if out, err := exec.Command("podman", all...).CombinedOutput(); err != nil {
			t.Fatalf("podman %v: %v: %s", args, err, out)
		}
	}
	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	bin, _ := os.ReadFile(bb)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755})
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin))})
	tw.Write(bin)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/sh", Linkname: "busybox", Mode: 0o777})
	tw.Close()
	os.WriteFile(filepath.Join(dir, "rootfs.tar"), rootfs.Bytes(), 0o644)
	podman("import", filepath.Join(dir, "rootfs.tar"), "localhost/mine:1")
	archive := filepath.Join(dir, "mine.tar")
	podman("save", "--format", "oci-archive", "-o", archive, "localhost/mine:1")
	podman("rmi", "localhost/mine:1")

	ctx := context.Background()
	imgCID, err := content.Hash(ctx, archive, content.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	os.MkdirAll(data, 0o755)
	os.WriteFile(filepath.Join(data, "words"), []byte("one two three\n"), 0o644)
	dataCID, err := content.Hash(ctx, data, content.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "job.toml")
	os.WriteFile(spec, []byte(fmt.Sprintf(`command = ["/bin/busybox", "sh", "-c"]
args = ["busybox wc -w < /in/data/words > /out/count && echo counted"]
time_limit = "1m"
max_price = "1inf"
outputs = ["/out/count"]
[image]
cid = %q
[resources]
cpu = 1
memory = "64MiB"
[[inputs]]
cid = %q
path = "/in/data"
`, imgCID, dataCID)), 0o644)

	var out bytes.Buffer
	stdout, stderr = &out, &out
	defer func() { stdout, stderr = os.Stdout, os.Stderr }()
	outDir := filepath.Join(dir, "out")
	code := run([]string{"job", "run", spec, "--image", archive, "--input", "/in/data=" + data, "--out", outDir, "--storage", storage})
	if code != 0 || !strings.Contains(out.String(), "counted") || !strings.Contains(out.String(), "job ok") {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	t.Logf("%s", out.String())
	if b, _ := os.ReadFile(filepath.Join(outDir, "count")); strings.TrimSpace(string(b)) != "3" {
		t.Errorf("output %q", b)
	}
	// A job that fails exits non-zero and says why.
	out.Reset()
	os.WriteFile(spec, bytes.Replace(must(os.ReadFile(spec)), []byte("&& echo counted"), []byte("&& exit 4"), 1), 0o644)
	code = run([]string{"job", "run", spec, "--image", archive, "--input", "/in/data=" + data, "--out", filepath.Join(dir, "out2"), "--storage", storage})
	if code == 0 || !strings.Contains(out.String(), "non-zero exit") || !strings.Contains(out.String(), "code 4") {
		t.Errorf("failing job: exit %d: %s", code, out.String())
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
