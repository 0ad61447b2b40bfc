package container

import (
	"path/filepath"
	"syscall"
)

// unmountStorage detaches the overlay mount podman's storage driver
// makes of its own directory, so the runner's Root can be removed after
// the node stops (a test's temporary home, a deleted node home).
func (r *Runner) unmountStorage() {
	if r.cfg.Root != "" {
		syscall.Unmount(filepath.Join(r.cfg.Root, "overlay"), syscall.MNT_DETACH)
	}
}
