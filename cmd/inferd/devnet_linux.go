package main

import "syscall"

// nodeProcAttr puts a devnet node in its own process group (Ctrl-C reaches
// the devnet command, which stops the nodes in order) and has the kernel
// send it SIGTERM if the devnet command dies without stopping it (killed,
// or its parent killed), so that no node is left running on its own.
func nodeProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
