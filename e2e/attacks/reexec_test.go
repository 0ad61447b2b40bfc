package attacks

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
)

func init() { extraAccounts = append(extraAccounts, "lazyuser") }

// lazyValidator is the devnet validator the lazy re-executor replaces.
const lazyValidator = 3

// attackLazyReexec: validator 3's node is restarted as the lazy verifier
// (e2e/attacks/internal/lazyverifier): it attests rows honestly but never
// re-executes a job; it commits and reveals the provider's result as the
// ledger shows it (sealed during the commit window: it commits a failure). A
// job goes to the wrong-result provider of the previous attack (still the
// cheapest); the three honest validators re-run it and reveal the real
// result, the verdict is mismatch, and only reveals that agree with it are
// credited verification work, paid at the next compute epoch close from
// validator_share_ppm of the pool. Measured: the lazy validator's balance
// against honest validator 0's, from before the job to that close. Under
// the planted figure (the lazy one paid as the honest one, as when the
// pay did not depend on agreeing with the verdict) the check fails.
// Runs after wrong_result (make attacks only).
func attackLazyReexec(t *testing.T, d *devnet) outcome {
	var cp compute.Params
	d.params(compute.Name, &cp)
	bin := filepath.Join(filepath.Dir(inferdBin), "lazyverifier")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/lazyverifier").CombinedOutput(); err != nil {
		t.Fatalf("build lazyverifier: %v\n%s", err, out)
	}
	nd := d.info.Nodes[lazyValidator]
	p := d.procs[lazyValidator]
	p.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done[lazyValidator]:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not stop", nd.Moniker)
	}
	d.startCmd(nd.Home, bin, "--home", nd.Home, "--keyring", filepath.Join(d.dir, "keyring"), "--key", nd.Moniker)
	cl := d.cls[lazyValidator]
	if err := poll(2*time.Minute, func() (bool, error) {
		st, err := cl.Status(context.Background())
		return err == nil && st.Height+2 >= d.height(), nil
	}); err != nil {
		t.Fatalf("the lazy validator did not catch up: %v", err)
	}
	lazy, honest, user := d.sender(nd.Moniker), d.sender(d.info.Nodes[0].Moniker), d.sender("lazyuser")
	h0 := d.height()
	l0, hn0 := d.balance(lazy.addr, h0), d.balance(honest.addr, h0)
	j := d.submitJob(t, user, 5_000)
	if err := poll(4*time.Minute, func() (bool, error) {
		var err error
		j, err = d.cl.Job(context.Background(), j.ID, api.Latest)
		return err == nil && j.Reexec != compute.ReexecNone && j.Reexec != compute.ReexecPending, nil
	}); err != nil {
		t.Fatalf("job %d was not re-executed: %+v", j.ID, j.Job)
	}
	t.Logf("job %d: %s by %s, result %s; re-execution %s (window to %d)", j.ID, j.Status, j.Provider, j.Result, j.Reexec, j.ReexecEnd)
	if j.Reexec != compute.ReexecMismatch || j.Provider != d.sender("liar").addr {
		t.Fatalf("job %d: want the liar's job contradicted, got %+v", j.ID, j.Job)
	}
	// The close that pays the credit: the end of the epoch in progress at
	// the tally. (The epoch itself, not a provider's challenge: a provider
	// that was not live when the epoch started has no round in it.)
	ps, err := d.cl.Providers(context.Background(), j.ReexecEnd)
	if err != nil || ps.Epoch == nil || ps.Epoch.End < j.ReexecEnd {
		t.Fatalf("no compute epoch in progress at %d: %v %+v", j.ReexecEnd, err, ps.Epoch)
	}
	h1 := ps.Epoch.End
	d.waitHeight(h1, 3*time.Minute)
	o := outcome{attack: "lazy re-executor",
		attacker:   int64(d.balance(lazy.addr, h1)) - int64(l0),
		honest:     int64(d.balance(honest.addr, h1)) - int64(hn0),
		defendedBy: fmt.Sprintf("commit-reveal of re-executions; verifier pay (validator_share_ppm %d) only for reveals agreeing with the verdict", cp.ValidatorSharePPM),
	}
	t.Logf("blocks %d..%d (epoch close at %d): lazy validator %+d uinf, honest validator %+d uinf", h0, h1, h1, o.attacker, o.honest)
	o.check = func(a int64) error {
		if a >= o.honest {
			return fmt.Errorf("the lazy validator moved %+d, the honest one %+d: copying paid as well as re-executing", a, o.honest)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	o.planted = o.honest
	o.attackerProfits = o.attacker >= o.honest
	return o
}
