package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/ledger"
)

// TestCloudProviderKilled kills a lease's provider (SIGKILL) while it
// serves: the provider's node is one of four validators (1/4 of the
// stake, so the chain goes on without it). The other validators' probes
// find nobody serving the lease and attest it unhealthy; after
// lease_down_windows such windows the lease ends, the windows after the
// kill are free, the rest of the escrow goes back to the owner and the
// provider is counted down. Needs root and podman.
func TestCloudProviderKilled(t *testing.T) {
	skipNoContainers(t)
	const probeBlocks, downWindows = 8, 2 // short health windows: the test's wall time
	tn := newNetGenesis(t, 4, 300*time.Millisecond, func(g *ledger.Genesis) {
		setParams(t, g, "compute", map[string]any{"lease_probe_blocks": probeBlocks, "lease_down_windows": downWindows})
	})
	prov := tn.info.Nodes[0]
	p0 := startProvider(t, prov.Home, prov.API)
	tn.procs = append(tn.procs, p0)
	for i := 1; i < len(tn.info.Nodes); i++ {
		tn.procs = append(tn.procs, tn.start(i))
	}
	api := tn.info.Nodes[1].API
	killed := false
	t.Cleanup(func() {
		if killed {
			restartToCleanUp(t, tn, 0)
		}
		tn.stopAll()
		checkRunRootGone(t, prov.Home)
	})
	waitHeight(t, api, 2, time.Minute)
	r := newCloudRig(t, tn)
	r.registerProvider(prov.Moniker, prov.API, api)
	dir := t.TempDir()
	r.submit(dir, "service.toml", httpdService(r.busyboxImage(dir, api), 400), api)
	waitJob(t, api, 1, "running")
	waitCloud(t, 2*time.Minute, "a healthy attested window", func() bool {
		j := jobOf(api, 1)
		return j.Lease != nil && j.Lease.HealthyBlocks > 0
	})
	before := providersOf(api)
	owner := accountOf(t, api, tn.info.DemoAddress)

	p0.kill(syscall.SIGKILL)
	killed = true
	st, err := statusOf(api)
	if err != nil {
		t.Fatal(err)
	}
	killH := st.Height // the kill happened at or before this height

	j := waitJob(t, api, 1, "done", "expired", "failed")
	l := j.Lease
	if l == nil || j.Status != "done" || (l.EndReason != "unhealthy" && l.EndReason != "provider_gone") {
		t.Fatalf("lease of a killed provider: status %s, lease %+v", j.Status, l)
	}
	t.Logf("lease ended %q at %d (killed by %d): %d blocks charged, %d free, charged %d, refunded %d of %d",
		l.EndReason, l.Ended, killH, l.ChargedBlocks, l.FreeBlocks, j.Charged, j.Refunded, j.MaxPrice)
	if j.Charged+j.Refunded != j.MaxPrice || j.Refunded == 0 || j.Charged != l.ChargedBlocks*l.PricePerBlock || l.HealthyBlocks == 0 {
		t.Fatalf("money of the ended lease: charged %d + refunded %d of %d; %d blocks charged at %d",
			j.Charged, j.Refunded, j.MaxPrice, l.ChargedBlocks, l.PricePerBlock)
	}
	// Every window that began after the kill is free: nobody served it.
	killWindowEnd := l.Started + ((killH-l.Started)/l.ProbeBlocks+1)*l.ProbeBlocks - 1
	if l.ChargedBlocks > killWindowEnd-l.Started+1 {
		t.Fatalf("%d blocks charged; only the %d up to the end of the kill's window (height %d) may be",
			l.ChargedBlocks, killWindowEnd-l.Started+1, killWindowEnd)
	}
	if l.EndReason == "unhealthy" {
		// Decided window by window up to its end: each block charged or free.
		if l.FreeBlocks < downWindows*probeBlocks || l.ChargedBlocks+l.FreeBlocks != l.Ended-l.Started+1 {
			t.Fatalf("unhealthy end at %d (started %d): %d blocks charged, %d free; want at least %d free",
				l.Ended, l.Started, l.ChargedBlocks, l.FreeBlocks, downWindows*probeBlocks)
		}
	}
	if got := accountOf(t, api, tn.info.DemoAddress).Balance; got != owner.Balance+j.Refunded {
		t.Fatalf("owner's balance %d after the refund of %d; was %d", got, j.Refunded, owner.Balance)
	}
	after := providersOf(api)
	if len(before) != 1 || len(after) != 1 || after[0].Downtime <= before[0].Downtime || after[0].ActiveJobs != 0 {
		t.Fatalf("the killed provider is not counted down or still holds the lease: before %+v, after %+v", before, after)
	}
	checkSupply(t, api)
}

// restartToCleanUp starts node i again as the provider and stops it: a
// node killed with SIGKILL left its lease's container running and its
// podman storage mounted, which a provider's node removes when it starts
// and releases when it stops.
func restartToCleanUp(t *testing.T, tn *testNet, i int) {
	nd := tn.info.Nodes[i]
	var tip uint64
	for _, other := range tn.info.Nodes {
		if st, err := statusOf(other.API); err == nil && st.Height > tip {
			tip = st.Height
		}
	}
	tn.procs[i] = startProvider(t, nd.Home, nd.API)
	deadline := time.Now().Add(time.Minute)
	for {
		// Caught up, and its cloud agent has removed the orphan (else a
		// stop right now could come before the agent runs at all).
		if st, err := statusOf(nd.API); err == nil && st.Height >= tip && noLeaseContainers(nd.Home) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the restarted provider %s did not reach height %d within a minute", nd.Moniker, tip)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// noLeaseContainers reports whether podman, in the provider node's own
// storage (cmd/inferd: data/cloud/storage and runRoot), lists no lease
// container.
func noLeaseContainers(home string) bool {
	out, err := exec.Command("podman", "--root", filepath.Join(home, "data", "cloud", "storage"),
		"--runroot", providerRunRoot(home),
		"ps", "-a", "-q", "--filter", "label=inferd.lease=1").Output()
	return err == nil && strings.TrimSpace(string(out)) == ""
}
