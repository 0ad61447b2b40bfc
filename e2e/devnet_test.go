package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/node"
)

// The README's path: `inferd devnet` (what `make run` runs), then the three
// commands it suggests; Ctrl-C stops every node; running it again resumes.
func TestDevnetCommandAndQuickStart(t *testing.T) {
	skipShort(t)
	dir := filepath.Join(t.TempDir(), "devnet")
	base := freeBasePort(t, 4)
	start := func() (*exec.Cmd, *bytes.Buffer) {
		var out bytes.Buffer
		cmd := exec.Command(inferdBin, "devnet", "--home", dir, "--base-port", fmt.Sprint(base), "--commit-delay", "200ms")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stopDevnet(cmd, dir) })
		return cmd, &out
	}
	cmd, out := start()
	api0 := fmt.Sprintf("http://127.0.0.1:%d", base+1)
	api3 := fmt.Sprintf("http://127.0.0.1:%d", base+31)
	waitHeight(t, api0, 2, 60*time.Second)
	info, err := node.LoadDevnet(dir)
	if err != nil || len(info.Nodes) != 4 || info.Nodes[0].PID == 0 {
		t.Fatalf("devnet.json: %+v %v", info, err)
	}
	cli := func(args ...string) string {
		t.Helper()
		c := exec.Command(inferdBin, args...)
		b, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("inferd %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(cli("status", "--node", api0, "-o", "json")), &st); err != nil || st["chain_id"] != node.DevnetChainID {
		t.Fatalf("status: %v %v", st, err)
	}
	sent := cli("tx", "bank", "send", "node0", "5inf", "--from", "demo", "--home", dir, "--keyring-backend", "test", "--node", api0, "-o", "json")
	if !strings.Contains(sent, `"ok": true`) {
		t.Fatalf("tx bank send: %s", sent)
	}
	var sup struct {
		Burned uint64 `json:"burned"`
	}
	if err := json.Unmarshal([]byte(cli("query", "supply", "--node", api3, "-o", "json")), &sup); err != nil || sup.Burned == 0 {
		t.Fatalf("supply through node 3 shows no burned fee: %+v %v", sup, err)
	}
	before, _ := statusOf(api0)

	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("devnet did not stop on Ctrl-C:\n%s", out)
	}
	for _, nd := range info.Nodes {
		if err := syscall.Kill(nd.PID, 0); err == nil {
			t.Fatalf("%s (pid %d) still running after Ctrl-C", nd.Moniker, nd.PID)
		}
	}
	if _, err := statusOf(api0); err == nil {
		t.Fatal("node 0 still answers after Ctrl-C")
	}

	cmd2, out2 := start()
	after := waitHeight(t, api0, before.Height+2, 60*time.Second)
	if !strings.Contains(out2.String(), "Resuming") {
		t.Fatalf("second run did not resume:\n%s", out2)
	}
	if b := blockAt(t, api0, before.Height); b.Hash != before.BlockHash {
		t.Fatalf("after resuming, block %d is %s, was %s (at %d now)", before.Height, b.Hash, before.BlockHash, after.Height)
	}

	// The devnet command killed outright: its nodes must not live on.
	info, err = node.LoadDevnet(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmd2.Process.Kill()
	cmd2.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for _, nd := range info.Nodes {
		for syscall.Kill(nd.PID, 0) == nil {
			if time.Now().After(deadline) {
				t.Fatalf("%s (pid %d) still running 20 s after its devnet command was killed", nd.Moniker, nd.PID)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
