package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/ledger"
)

// buildInferd builds the binary the runner starts.
func buildInferd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "inferd")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/inferd").CombinedOutput(); err != nil {
		t.Fatalf("build inferd: %v\n%s", err, out)
	}
	return bin
}

// TestChaosShort runs manifests/short.toml against real inferd processes:
// four validators, a kill, a pause and a disconnect under load, then the
// fork, app-hash, lost-transaction and recovery checks. Without root (or
// without ip/iptables) the disconnect is skipped, saying so, and the kill
// and pause run on loopback. At the end it plants a transaction that was
// never submitted among the accepted ones and shows the loss check fails.
func TestChaosShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real node processes")
	}
	m, err := LoadManifest("manifests/short.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := netnsUsable(); err != nil {
		t.Logf("SKIPPING the netns part (disconnect): %v; kill and pause run on loopback", err)
		m.Network = "loopback"
		var keep []*Perturbation
		for _, p := range m.Perturbation {
			if !p.netnsOnly() {
				keep = append(keep, p)
			}
		}
		m.Perturbation = keep
	}
	bin := buildInferd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	r, err := newRunner(m, bin, dir, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		r.c.close()
		if m.NeedsNetns() {
			if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), r.c.ns.prefix) {
				t.Errorf("namespaces left behind: %s", out)
			}
		}
		for i := range r.c.names {
			if p := r.c.proc(i); p != nil && p.alive() {
				t.Errorf("%s (pid %d) still running", r.c.names[i], p.cmd.Process.Pid)
			}
		}
	}()
	if err := r.runAll(ctx); err != nil {
		t.Fatal(err)
	}
	rep := r.check(ctx)
	var out strings.Builder
	rep.Print(&out)
	t.Logf("\n%s", out.String())
	if !rep.OK() {
		t.Fatalf("chaos checks failed:\n%s\n%s", out.String(), r.c.tailLogs(20))
	}
	if rep.Heights < 20 || rep.Committed < 50 || len(rep.Faults) != len(m.Perturbation) {
		t.Fatalf("too little happened: %d heights, %d committed, %d faults", rep.Heights, rep.Committed, len(rep.Faults))
	}
	for _, f := range rep.Faults {
		if !f.Done || f.Tip == 0 {
			t.Fatalf("%s: not measured (done %v, tip %d)", f.P, f.Done, f.Tip)
		}
	}

	// A planted loss: a hash no one submitted, counted as accepted.
	planted := ledger.HashTx([]byte("never submitted"))
	r.t.accept(planted, "planted")
	rep2 := &Report{}
	r.checkTxs(ctx, rep2)
	if len(rep2.Lost) != 1 || !strings.Contains(rep2.Lost[0], "planted") || rep2.OK() {
		t.Fatalf("the planted loss was not caught: lost %v, failures %v", rep2.Lost, rep2.Failures)
	}
	if rep2.Committed != rep.Committed {
		t.Fatalf("rechecking counted %d committed, first check %d", rep2.Committed, rep.Committed)
	}
}

// The runner refuses a netns manifest with a reason when it cannot use
// namespaces (run as non-root, for instance), before starting anything.
func TestNetnsRefusedWithReason(t *testing.T) {
	if err := netnsUsable(); err == nil {
		t.Skip("namespaces work here")
	}
	m, err := LoadManifest("manifests/short.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = execute(context.Background(), m, "/nonexistent", t.TempDir(), t.Logf)
	if err == nil || !strings.Contains(err.Error(), "needs network namespaces") {
		t.Fatalf("got %v", err)
	}
}
