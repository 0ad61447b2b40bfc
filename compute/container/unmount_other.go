//go:build !linux

package container

import "time"

func (r *Runner) unmountStorage() {}

func waitRunRootIdle(string, time.Duration) {}
