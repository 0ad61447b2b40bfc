package container

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// unmountStorage detaches the overlay mount podman's storage driver
// makes of its own directory, so the runner's Root can be removed after
// the node stops (a test's temporary home, a deleted node home).
func (r *Runner) unmountStorage() {
	if r.cfg.Root != "" {
		syscall.Unmount(filepath.Join(r.cfg.Root, "overlay"), syscall.MNT_DETACH)
	}
}

// waitRunRootIdle waits, up to limit, until no other process has runRoot
// on its command line (conmon, and the `podman container cleanup` it runs
// when a container exits), polling /proc.
func waitRunRootIdle(runRoot string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for usesRunRoot(runRoot) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

func usesRunRoot(runRoot string) bool {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	self := os.Getpid()
	needle := []byte(runRoot)
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmd, needle) {
			return true
		}
	}
	return false
}
