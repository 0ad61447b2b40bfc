package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/node"
)

// `make run` stops its devnet, nodes included, on Ctrl-C (SIGINT to the
// foreground process group) and on SIGTERM to make itself.
func TestMakeRunStops(t *testing.T) {
	skipShort(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	for _, c := range []struct {
		name  string
		group bool
		sig   syscall.Signal
	}{{"ctrl-c to the group", true, syscall.SIGINT}, {"sigterm to make", false, syscall.SIGTERM}} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "devnet")
			base := freeBasePort(t, 1)
			bin := filepath.Join(t.TempDir(), "inferd")
			cmd := exec.Command("make", "-s", "-C", "..", "run", "BIN="+bin,
				fmt.Sprintf("ARGS=--home %s --base-port %d --validators 1 --no-demo --commit-delay 100ms", dir, base))
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a process group of its own, as a terminal's job
			out := &lockedBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { stopDevnet(cmd, dir) })
			waitHeight(t, fmt.Sprintf("http://127.0.0.1:%d", base+1), 1, 90*time.Second)
			info, err := node.LoadDevnet(dir)
			if err != nil || len(info.Nodes) != 1 || info.Nodes[0].PID == 0 {
				t.Fatalf("devnet.json: %+v %v", info, err)
			}
			if c.group {
				syscall.Kill(-cmd.Process.Pid, c.sig)
			} else {
				cmd.Process.Signal(c.sig)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("make run did not stop on %v:\n%s", c.sig, out)
			}
			deadline := time.Now().Add(15 * time.Second)
			for syscall.Kill(info.Nodes[0].PID, 0) == nil {
				if time.Now().After(deadline) {
					t.Fatalf("node pid %d still runs after make run stopped", info.Nodes[0].PID)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
