package attacks

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	computedemo "github.com/inferd/inferd/compute/demo"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
)

func init() {
	extraAccounts = append(extraAccounts, "faker", "lazy", "jobuser", "liar", "liaruser")
}

// jobFiles are the demo job's workload and input, added to node 0.
func jobFiles(m map[string][]byte) map[string][]byte {
	m["workload"], m["input"] = computedemo.Workload, computedemo.Input
	return m
}

// wealth is what an account holds that a provider can lose: its balance
// and its provider bond, at height h.
func (d *devnet) wealth(t *testing.T, s *sender, h uint64) (bal, bond uint64) {
	bal = d.balance(s.addr, h)
	if p, err := d.cl.Provider(context.Background(), s.addr, h); err == nil {
		bond = p.Bond
	}
	return bal, bond
}

// attackFakeFLOPs: a provider that does not compute its challenge: its
// backend returns zeros (e2e/attacks/internal/badprovider), it commits the
// root of that and opens the selected rows with valid Merkle proofs. The
// validators recompute the rows, attest wrong_row, and the close slashes
// slash_wrong_row_ppm of its bond and credits no operations. The honest
// provider, over the same blocks, is paid for its verified operations.
func attackFakeFLOPs(t *testing.T, d *devnet) outcome {
	var cp compute.Params
	d.params(compute.Name, &cp)
	bin := filepath.Join(filepath.Dir(inferdBin), "badprovider")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/badprovider").CombinedOutput(); err != nil {
		t.Fatalf("build badprovider: %v\n%s", err, out)
	}
	faker, honest := d.sender("faker"), d.sender(honestProvs)
	bond := 2 * cp.MinBond
	home := d.providerHome(t, "faker")
	d.startCmd(home, bin, "--home", home, "--keyring", filepath.Join(d.dir, "keyring"), "--key", "faker")
	d.waitSynced(t)
	faker.mustSend(ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 3_000, Tier: 0, Capacity: 1, Bond: bond}))
	h0 := d.height()
	fb0, fbond0 := d.wealth(t, faker, h0)
	hb0, hbond0 := d.wealth(t, honest, h0)
	var h1 uint64
	var p api.ProviderResponse
	if err := poll(4*time.Minute, func() (bool, error) {
		var err error
		p, err = d.cl.Provider(context.Background(), faker.addr, api.Latest)
		if err != nil || p.Bond == bond {
			return false, nil
		}
		h1 = p.Height
		return true, nil
	}); err != nil {
		t.Fatalf("the faker was not slashed: %+v (%v)", p.ProviderInfo, err)
	}
	slash := share(bond, cp.SlashWrongRowPPM)
	t.Logf("faker at %d: bond %d -> %d, verified ops %d, downtime %d", h1, bond, p.Bond, p.VerifiedOps, p.Downtime)
	if p.Bond != bond-slash || p.VerifiedOps != 0 {
		t.Fatalf("faker: bond %d (want %d - %d), ops %d (want 0)", p.Bond, bond, slash, p.VerifiedOps)
	}
	fb1, fbond1 := d.wealth(t, faker, h1)
	fees := int64(d.nonce(faker.addr, h1)-d.nonce(faker.addr, h0)) * minFee // its agent's txs
	hb1, hbond1 := d.wealth(t, honest, h1)
	o := outcome{attack: "fake FLOPs (zero product)",
		attacker:   int64(fb1+fbond1) - int64(fb0+fbond0),
		honest:     int64(hb1+hbond1) - int64(hb0+hbond0),
		defendedBy: fmt.Sprintf("spot check of k=%d rows recomputed by validators; wrong_row slashes slash_wrong_row_ppm %d of the bond", cp.RowsChecked, cp.SlashWrongRowPPM),
	}
	o.check = func(a int64) error {
		if a != -int64(slash)-fees {
			return fmt.Errorf("the faker's wealth moved %d, want -%d slashed - %d fees (nothing earned)", a, slash, fees)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	o.exact = true
	o.planted = o.honest // had it been paid as the honest provider was
	o.attackerProfits = o.attacker > 0
	return o
}

// attackLazyJob: a provider asks the lowest price, so jobs go to it, and
// never runs them (no process at all). At the deadline the job is missed:
// the user is refunded max_price in full and job_slash_ppm of the bond is
// burned. The honest provider's figures are over the same blocks.
func attackLazyJob(t *testing.T, d *devnet) outcome {
	var cp compute.Params
	d.params(compute.Name, &cp)
	lazy, user, honest := d.sender("lazy"), d.sender("jobuser"), d.sender(honestProvs)
	bond := 2 * cp.MinBond
	lazy.mustSend(ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 1_000, Tier: 0, Capacity: 1, Bond: bond}))
	h0 := d.height()
	lb0, lbond0 := d.wealth(t, lazy, h0)
	hb0, hbond0 := d.wealth(t, honest, h0)
	ub0 := d.balance(user.addr, h0)
	uf0 := user.fees
	msg := compute.MsgJobSubmit{Workload: d.files["workload"].String(), Input: d.files["input"].String(), InputSize: uint64(len(computedemo.Input)), MaxPrice: 5_000}
	tv := user.mustSend(ledger.NewMsg(compute.MsgTypeJobSubmit, msg))
	var j api.JobResponse
	if err := poll(30*time.Second, func() (bool, error) {
		js, err := d.cl.Jobs(context.Background(), "", api.Latest)
		if err != nil {
			return false, err
		}
		for _, x := range js.Jobs {
			if x.User == user.addr && x.Submitted >= tv.Height {
				j.Job = x
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("job of block %d: %v", tv.Height, err)
	}
	if err := poll(4*time.Minute, func() (bool, error) {
		var err error
		j, err = d.cl.Job(context.Background(), j.ID, api.Latest)
		return err == nil && !compute.JobInFlight(j.Status), nil
	}); err != nil {
		t.Fatalf("job %d did not end: %+v", j.ID, j.Job)
	}
	t.Logf("job %d: %s, provider %s, charged %d, refunded %d of %d", j.ID, j.Status, j.Provider, j.Charged, j.Refunded, j.MaxPrice)
	if j.Status != compute.JobMissed || j.Provider != lazy.addr || j.Refunded != j.MaxPrice || j.Charged != 0 {
		t.Fatalf("job %d: %+v", j.ID, j.Job)
	}
	h1 := j.Deadline // a missed job ends in its deadline's end-block
	if got, want := int64(d.balance(user.addr, h1))-int64(ub0), -int64(user.fees-uf0); got != want {
		t.Fatalf("the user moved %d, want %d (its fee; the escrow refunded)", got, want)
	}
	slash := share(bond, cp.JobSlashPPM)
	lb1, lbond1 := d.wealth(t, lazy, h1)
	fees := int64(d.nonce(lazy.addr, h1)-d.nonce(lazy.addr, h0)) * minFee // none: it runs nothing
	hb1, hbond1 := d.wealth(t, honest, h1)
	o := outcome{attack: "lazy job provider",
		attacker:   int64(lb1+lbond1) - int64(lb0+lbond0),
		honest:     int64(hb1+hbond1) - int64(hb0+hbond0),
		defendedBy: fmt.Sprintf("job deadline (job_deadline_blocks %d): a missed job is refunded in full and slashes job_slash_ppm %d of the bond", cp.JobDeadlineBlocks, cp.JobSlashPPM),
	}
	o.check = func(a int64) error {
		if a != -int64(slash)-fees {
			return fmt.Errorf("the lazy provider's wealth moved %d, want -%d slashed - %d fees", a, slash, fees)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	o.exact = true
	o.planted = o.attacker + int64(j.MaxPrice) + int64(slash) // kept the escrow, not slashed
	o.attackerProfits = o.attacker > 0
	return o
}

// submitJob submits the demo job as user and returns it once listed.
func (d *devnet) submitJob(t *testing.T, user *sender, maxPrice uint64) api.JobResponse {
	msg := compute.MsgJobSubmit{Workload: d.files["workload"].String(), Input: d.files["input"].String(), InputSize: uint64(len(computedemo.Input)), MaxPrice: maxPrice}
	tv := user.mustSend(ledger.NewMsg(compute.MsgTypeJobSubmit, msg))
	var j api.JobResponse
	if err := poll(30*time.Second, func() (bool, error) {
		js, err := d.cl.Jobs(context.Background(), "", api.Latest)
		if err != nil {
			return false, err
		}
		for _, x := range js.Jobs {
			if x.User == user.addr && x.Submitted >= tv.Height {
				j.Job = x
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("job of block %d: %v", tv.Height, err)
	}
	return j
}

// attackWrongResult: a provider that passes its challenges (it computes
// them) and runs its jobs, but reports a plausible wrong output: a
// well-formed CID of other bytes (badprovider --mode wrong-result). It asks
// the lowest price, so the job goes to it. The job is settled on the
// report (the price is burned: a provider is never paid a job's price, only
// the compute pool for verified operations), then drawn for re-execution
// with probability reexec_ppm; this devnet sets reexec_ppm to 100% (see
// reexecAll) so the draw is certain. The validators re-run the job, more
// than 2/3 of stake reports another result, the verdict is mismatch and
// slash_wrong_row_ppm of the provider's bond is burned. The user is not
// refunded: it paid the price for a wrong output.
func attackWrongResult(t *testing.T, d *devnet) outcome {
	var cp compute.Params
	d.params(compute.Name, &cp)
	if cp.ReexecPPM != ledger.PPMOne {
		t.Fatalf("reexec_ppm %d: the test devnet sets it to 100%%", cp.ReexecPPM)
	}
	bin := filepath.Join(filepath.Dir(inferdBin), "badprovider")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/badprovider").CombinedOutput(); err != nil {
		t.Fatalf("build badprovider: %v\n%s", err, out)
	}
	liar, user, honest := d.sender("liar"), d.sender("liaruser"), d.sender(honestProvs)
	bond := 2 * cp.MinBond
	home := d.providerHome(t, "liar")
	d.startCmd(home, bin, "--home", home, "--keyring", filepath.Join(d.dir, "keyring"), "--key", "liar", "--mode", "wrong-result")
	d.waitSynced(t)
	liar.mustSend(ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 500, Tier: 0, Capacity: 1, Bond: bond}))
	h0 := d.height()
	lb0, lbond0 := d.wealth(t, liar, h0)
	hb0, hbond0 := d.wealth(t, honest, h0)
	ub0 := d.balance(user.addr, h0)
	uf0 := user.fees
	const maxPrice = 5_000
	j := d.submitJob(t, user, maxPrice)
	if err := poll(4*time.Minute, func() (bool, error) {
		var err error
		j, err = d.cl.Job(context.Background(), j.ID, api.Latest)
		return err == nil && j.Reexec != compute.ReexecNone && j.Reexec != compute.ReexecPending, nil
	}); err != nil {
		t.Fatalf("job %d was not re-executed: %+v", j.ID, j.Job)
	}
	t.Logf("job %d: %s by %s, result %s, charged %d, refunded %d of %d; re-execution %s (window to %d)",
		j.ID, j.Status, j.Provider, j.Result, j.Charged, j.Refunded, j.MaxPrice, j.Reexec, j.ReexecEnd)
	if j.Status != compute.JobDone || j.Provider != liar.addr || j.Reexec != compute.ReexecMismatch {
		t.Fatalf("job %d: %+v", j.ID, j.Job)
	}
	h1 := j.ReexecEnd // the verdict is in the window's end-block
	userMoved := int64(d.balance(user.addr, h1)) - int64(ub0)
	if want := -int64(j.Charged) - int64(user.fees-uf0); j.Refunded != j.MaxPrice-j.Charged || userMoved != want {
		t.Fatalf("the user moved %d, want %d (the price and its fee; no refund on a mismatch)", userMoved, want)
	}
	slash := share(bond, cp.SlashWrongRowPPM)
	lb1, lbond1 := d.wealth(t, liar, h1)
	fees := int64(d.nonce(liar.addr, h1)-d.nonce(liar.addr, h0)) * minFee // its agent's txs: the result, its commits
	earned := int64(lb1) - int64(lb0) + fees                              // compute-pool pay for its (honest) challenges
	hb1, hbond1 := d.wealth(t, honest, h1)
	o := outcome{attack: "wrong job result",
		attacker:   int64(lb1+lbond1) - int64(lb0+lbond0),
		honest:     int64(hb1+hbond1) - int64(hb0+hbond0),
		defendedBy: fmt.Sprintf("re-execution (reexec_ppm %d here, default %d): a mismatch slashes slash_wrong_row_ppm %d of the bond; the user is not refunded", cp.ReexecPPM, compute.DefaultParams().ReexecPPM, cp.SlashWrongRowPPM),
	}
	t.Logf("liar: bond %d -> %d (slashed %d), fees %d, compute-pool pay %d; user paid %d (price %d burned, not refunded)",
		lbond0, lbond1, slash, fees, earned, -userMoved, j.Charged)
	// Expected value of one made-up result at the default draw: the job's
	// price is burned either way (never paid to the provider), so the only
	// money term is the slash, taken with probability reexec_ppm.
	def := compute.DefaultParams()
	ev := -float64(def.ReexecPPM) / 1e6 * float64(share(bond, def.SlashWrongRowPPM))
	missed := -float64(share(bond, def.JobSlashPPM))
	t.Logf("expected value per made-up result at defaults (reexec_ppm %d, slash %d of bond %d): %+.0f uinf, fee income 0 (the price is burned); a missed job: %+.0f; honest: 0 and the compute",
		def.ReexecPPM, def.SlashWrongRowPPM, bond, ev, missed)
	o.check = func(a int64) error {
		if a != -int64(slash)-fees+earned {
			return fmt.Errorf("the liar's wealth moved %d, want -%d slashed - %d fees + %d pool pay", a, slash, fees, earned)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	o.exact = true
	o.planted = o.attacker + int64(slash) // not drawn (or not contradicted): not slashed
	// The lie profits if it cost nothing beyond its fees (its pool pay is
	// for challenges it computed, as any provider's).
	o.attackerProfits = o.attacker-earned+fees >= 0
	return o
}

// share is floor(x * ppm / 10^6), as the ledger rounds.
func share(x uint64, ppm ledger.PPM) uint64 {
	v, err := ledger.MulDiv(x, uint64(ppm), uint64(ledger.PPMOne))
	if err != nil {
		panic(err)
	}
	return v
}
