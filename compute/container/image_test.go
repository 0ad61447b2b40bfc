package container

import (
	"context"
	"github.com/inferd/inferd/compute/container/ocitest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func busyboxRootfs(bb string) ([]byte, error) { return ocitest.BusyboxRootfs(bb) }

func writeOCIArchive(rootfs []byte, path string) error { return ocitest.WriteOCIArchive(rootfs, path) }

func TestCheckOCIArchive(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.tar")
	rootfs, err := busyboxRootfsOrSkip(t)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(plain, rootfs, 0o644)
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("this is not a tar file at all, just some text"), 0o644)
	for _, p := range []string{plain, junk} {
		if err := CheckOCIArchive(p); err == nil || !strings.Contains(err.Error(), "podman save --format oci-archive") {
			t.Errorf("%s: %v", filepath.Base(p), err)
		}
	}
	arch := filepath.Join(dir, "img.tar")
	if err := writeOCIArchive(rootfs, arch); err != nil {
		t.Fatal(err)
	}
	if err := CheckOCIArchive(arch); err != nil {
		t.Fatal(err)
	}
	if _, err := testRunner(t).LoadArchive(context.Background(), "bafkreiaaaaaaaaaaaaaaaaaaaanotoci", plain); err == nil {
		t.Fatal("rootfs tar loaded as an image")
	}
}

func busyboxRootfsOrSkip(t *testing.T) ([]byte, error) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed; apt-get install -y busybox-static (.ci/run does it)")
	}
	return busyboxRootfs(bb)
}
