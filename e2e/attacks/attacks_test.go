package attacks

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/inferd/inferd/ledger"
)

// shortGov makes governance fast enough for a test: 10 s votes, 20 s
// deposit periods (the devnet's min_deposit, 10 INF, is kept).
func shortGov(g *ledger.Genesis) {
	g.Params["gov"] = json.RawMessage(`{"min_deposit":10000000,"max_deposit_period_s":20,"voting_period_s":10}`)
}

// TestAttacks runs the attacks the current rules defend against one
// shared 4-validator devnet, then checks the supply invariant. It is part
// of `make test`; `make attacks` runs it verbosely.
func TestAttacks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real node processes")
	}
	gen := shortGov
	if full() {
		gen = func(g *ledger.Genesis) { shortGov(g); reexecAll(t, g) }
	}
	d := startDevnet(t, 4, jobFiles(contestFiles()), gen)
	var voters []*sender
	for _, nd := range d.info.Nodes {
		voters = append(voters, d.sender(nd.Moniker))
	}
	designer := d.sender(d.info.DesignerKey)
	var outs []outcome
	run := func(name string, f func(t *testing.T) outcome) {
		if !t.Run(name, func(t *testing.T) {
			o := f(t)
			t.Log(o)
			if o.attackerProfits {
				t.Errorf("%s pays the attacker: %+d against honest %+d", o.attack, o.attacker, o.honest)
			}
			outs = append(outs, o)
		}) {
			t.FailNow() // the devnet's state is shared: later attacks would mislead
		}
	}
	run("gov_spam", func(t *testing.T) outcome { return attackGovSpam(t, d, voters) })
	c := createContest(t, d, designer, voters)
	runCopyAttacks(d, c, run)
	run("designer_retire", func(t *testing.T) outcome { return attackRetire(t, d, designer, voters, c) })
	if !full() {
		t.Log("INFERD_ATTACKS=all (make attacks) adds the compute attacks")
	} else {
		runCompute(t, d, run)
	}

	s := d.supply()
	if err := checkSupply(s); err != nil {
		t.Fatal(err)
	}
	var sum []string
	for _, o := range outs {
		sum = append(sum, o.String())
	}
	t.Logf("SUMMARY at height %d (minted %d, burned %d, held = minted - burned):\n%s", s.Height, s.Minted, s.Burned, strings.Join(sum, "\n"))

	// The assertions can fail: the same checks, given figures where
	// money moved the wrong way, report it.
	t.Run("assertions_catch_money", func(t *testing.T) {
		bad := s
		bad.Held = map[string]uint64{}
		for k, v := range s.Held {
			bad.Held[k] = v
		}
		bad.Held["balances"]++ // one uinf from nowhere
		if checkSupply(bad) == nil {
			t.Fatal("the supply check missed a minted uinf")
		}
		for _, o := range outs {
			if err := o.check(o.planted); err == nil {
				t.Errorf("%s: the check passed the planted figure %+d", o.attack, o.planted)
			} else {
				t.Logf("%s, planted %+d: %v", o.attack, o.planted, err)
			}
			if o.exact && o.check(o.attacker+1) == nil {
				t.Errorf("%s: one uinf more to the attacker went unnoticed", o.attack)
			}
		}
	})
}

// reexecAll sets compute reexec_ppm to 100% (default 5%) in the devnet's
// compute params, so that the wrong-result attack's job is re-executed
// for certain: the attack measures what a contradicted job costs.
func reexecAll(t *testing.T, g *ledger.Genesis) {
	var c map[string]any
	if err := json.Unmarshal(g.Params["compute"], &c); err != nil {
		t.Fatal(err)
	}
	c["reexec_ppm"] = 1_000_000
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	g.Params["compute"] = raw
}

// full reports whether the long attacks run too (make attacks).
func full() bool { return os.Getenv("INFERD_ATTACKS") == "all" }
