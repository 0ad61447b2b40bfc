//go:build !linux

package container

func (r *Runner) unmountStorage() {}
