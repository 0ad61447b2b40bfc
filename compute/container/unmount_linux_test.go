package container

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Shutdown waits for the processes that still name the run root (conmon's
// cleanup) before it removes the directory they would make again.
func TestWaitRunRootIdle(t *testing.T) {
	root := filepath.Join(t.TempDir(), "inferd-run-test")
	cmd := exec.Command("sh", "-c", "sleep 0.4", root) // root is its $0
	if err := cmd.Start(); err != nil {
		t.Skip("no sh:", err)
	}
	go cmd.Wait()
	if !usesRunRoot(root) {
		t.Fatal("a process with the run root on its command line was not seen")
	}
	start := time.Now()
	waitRunRootIdle(root, 10*time.Second)
	if usesRunRoot(root) {
		t.Fatal("waitRunRootIdle returned while the process still ran")
	}
	if time.Since(start) >= 10*time.Second {
		t.Fatal("waitRunRootIdle waited for its limit, not for the process")
	}
}
