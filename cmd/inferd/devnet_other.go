//go:build !linux

package main

import "syscall"

// nodeProcAttr puts a devnet node in its own process group: Ctrl-C reaches
// the devnet command, which stops the nodes in order.
func nodeProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
