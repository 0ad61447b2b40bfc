package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/compute/container/ocitest"
	"github.com/inferd/inferd/ledger"
)

// What the cloud tests share: the devnet keyring's CLI, a provider node
// with containers, a busybox image added by CID, and the views of jobs,
// providers and the supply they check.

// skipNoContainers skips a test that runs containers where it cannot.
func skipNoContainers(t *testing.T) {
	t.Helper()
	skipShort(t)
	if os.Geteuid() != 0 {
		t.Skip("container jobs need root (rootful podman)")
	}
	for _, bin := range []string{"podman", "busybox"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed; .ci/run installs podman, runc and busybox-static", bin)
		}
	}
}

// setParams overrides some of a module's genesis parameters.
func setParams(t *testing.T, g *ledger.Genesis, module string, set map[string]any) {
	t.Helper()
	p := map[string]any{}
	if raw := g.Params[module]; raw != nil {
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range set {
		p[k] = v
	}
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	g.Params[module] = raw
}

// cloudRig runs the CLI against the devnet's keyring.
type cloudRig struct {
	t  *testing.T
	kh []string // --home and --keyring-backend of the devnet keyring
}

func newCloudRig(t *testing.T, tn *testNet) *cloudRig {
	return &cloudRig{t: t, kh: []string{"--home", tn.dir, "--keyring-backend", "test"}}
}

func (r *cloudRig) cli(args ...string) (string, error) {
	cmd := exec.Command(inferdBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (r *cloudRig) must(args ...string) string {
	r.t.Helper()
	out, err := r.cli(args...)
	if err != nil {
		r.t.Fatalf("inferd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// signed runs a command that signs with a devnet key.
func (r *cloudRig) signed(args ...string) string {
	r.t.Helper()
	return r.must(append(args, r.kh...)...)
}

// registerProvider registers the operator of the node at provAPI as the
// network's only provider and waits until api shows its containers.
func (r *cloudRig) registerProvider(moniker, provAPI, api string) {
	r.t.Helper()
	r.signed("tx", "compute", "register", "--price", "2000", "--capacity", "2", "--bond", "100inf", "--from", moniker, "--node", provAPI)
	var id struct {
		ID string `json:"id"`
	}
	if _, err := getJSON(provAPI+"/net/id", &id); err != nil || id.ID == "" {
		r.t.Fatalf("the provider node's peer ID: %q, %v", id.ID, err)
	}
	// The provider's node publishes its resources once it is registered,
	// with its peer ID and addresses (lease clients dial them).
	waitCloud(r.t, 2*time.Minute, "provider resources on-chain", func() bool {
		ps := providersOf(api)
		return len(ps) == 1 && ps[0].Resources.Containers
	})
	if res := providersOf(api)[0].Resources; res.PeerID != id.ID || len(res.Addrs) == 0 {
		r.t.Fatalf("GET /providers resources: peer_id %q addrs %q; want the provider node's %s and its addresses", res.PeerID, res.Addrs, id.ID)
	}
}

// busyboxImage writes a busybox OCI archive to dir, adds it through api
// and returns its CID.
func (r *cloudRig) busyboxImage(dir, api string) string {
	r.t.Helper()
	bb, _ := exec.LookPath("busybox")
	rootfs, err := ocitest.BusyboxRootfs(bb)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := ocitest.WriteOCIArchive(rootfs, filepath.Join(dir, "bb.tar")); err != nil {
		r.t.Fatal(err)
	}
	return lastLine(r.must("add", filepath.Join(dir, "bb.tar"), "--node", api))
}

// submit writes spec to dir/name and submits it from the demo key.
func (r *cloudRig) submit(dir, name, spec, api string) {
	r.t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.signed("job", "submit", path, "--from", "demo", "--node", api)
}

// httpdService is a service lease of busybox httpd answering /healthz and
// /predict on port 8080.
func httpdService(image string, blocks int) string {
	return fmt.Sprintf(`kind = "service"
command = ["/bin/sh", "-c"]
args = ["mkdir -p /tmp/w && echo ok > /tmp/w/healthz && echo '{\"prediction\":42}' > /tmp/w/predict && exec httpd -f -p 8080 -h /tmp/w"]
[image]
cid = %q
[resources]
cpu = 0.5
memory = "64MiB"
[service]
port = 8080
health = "/healthz"
duration_blocks = %d
price_per_block = "10uinf"
`, image, blocks)
}

// checkRunRootGone: a provider's node that stopped removed its containers
// and released its podman storage (cmd/inferd runRoot), else the temp dir
// stays busy.
func checkRunRootGone(t *testing.T, home string) {
	if _, err := os.Stat(providerRunRoot(home)); err == nil {
		t.Error("the provider's podman run root was left behind")
	}
}

// providerRunRoot is the podman run root of the provider node at home
// (cmd/inferd runRoot).
func providerRunRoot(home string) string {
	sum := sha256.Sum256([]byte(home))
	return filepath.Join(os.TempDir(), "inferd-run-"+hex.EncodeToString(sum[:6]))
}

// startProvider runs a provider's node that takes leases at 5 uinf a block.
func startProvider(t *testing.T, home, api string) *proc {
	return startProc(t, home, api, "--provider", "--provider.lease-price", "5uinf")
}

type cloudLease struct {
	PricePerBlock uint64 `json:"price_per_block"`
	ProbeBlocks   uint64 `json:"probe_blocks"`
	Started       uint64 `json:"started_height"`
	ChargedBlocks uint64 `json:"charged_blocks"`
	FreeBlocks    uint64 `json:"free_blocks"`
	HealthyBlocks uint64 `json:"healthy_blocks"`
	DownWindows   uint64 `json:"down_windows"`
	Ended         uint64 `json:"ended_height"`
	EndReason     string `json:"end_reason"`
}

type cloudJob struct {
	Status   string      `json:"status"`
	Failure  string      `json:"failure"`
	Outputs  string      `json:"outputs"`
	Logs     string      `json:"logs"`
	MaxPrice uint64      `json:"max_price"`
	Charged  uint64      `json:"charged"`
	Refunded uint64      `json:"refunded"`
	Lease    *cloudLease `json:"lease"`
}

func jobOf(api string, id int) cloudJob {
	var j cloudJob
	getJSON(fmt.Sprintf("%s/jobs/%d", api, id), &j)
	return j
}

func waitJob(t *testing.T, api string, id int, statuses ...string) cloudJob {
	t.Helper()
	var j cloudJob
	waitCloud(t, 3*time.Minute, fmt.Sprintf("job %d %v", id, statuses), func() bool {
		j = jobOf(api, id)
		for _, s := range statuses {
			if j.Status == s {
				return true
			}
		}
		return false
	})
	return j
}

type cloudProvider struct {
	Address    string `json:"address"`
	ActiveJobs uint32 `json:"active_jobs"`
	Downtime   uint64 `json:"downtime"`
	Missed     uint64 `json:"missed"`
	Jailed     bool   `json:"jailed"`
	Resources  struct {
		Containers bool     `json:"containers"`
		PeerID     string   `json:"peer_id"`
		Addrs      []string `json:"addrs"`
	} `json:"resources"`
}

func providersOf(api string) []cloudProvider {
	var ps struct {
		Providers []cloudProvider `json:"providers"`
	}
	getJSON(api+"/providers", &ps)
	return ps.Providers
}

// checkSupply is the invariant every uinf is accounted for by: minted -
// burned = balances + bonded + unbonding + escrowed + pools.
func checkSupply(t *testing.T, api string) {
	t.Helper()
	var s struct {
		Height      uint64            `json:"height"`
		Minted      uint64            `json:"minted"`
		Burned      uint64            `json:"burned"`
		Circulating uint64            `json:"circulating"`
		Held        map[string]uint64 `json:"held"`
	}
	if _, err := getJSON(api+"/supply", &s); err != nil {
		t.Fatal(err)
	}
	var held uint64
	for _, v := range s.Held {
		held += v
	}
	if s.Minted < s.Burned || s.Minted-s.Burned != held || s.Circulating != held {
		t.Fatalf("supply at %d: minted %d - burned %d != held %d (%v)", s.Height, s.Minted, s.Burned, held, s.Held)
	}
}

func waitCloud(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
