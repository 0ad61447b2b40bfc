package compute

import (
	"fmt"
	"strings"
	"testing"

	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/ledger"
)

// servedNet: two honest providers (both pass every challenge) with
// container resources at the same price, capacity 1, and a big pool.
func servedNet(t *testing.T) (n *testNet, a, b *sim) {
	n = newNet(t, cloudParams, 3, 3)
	n.mint.perBlck = 1_000_000
	a, b = &sim{a: n.accts[0]}, &sim{a: n.accts[1]}
	mustOK(t, n.block(
		n.tx(a.a, register(1000, 0, 1, 5*ledger.UinfPerINF), setRes(cpuBox(4000, 1<<30))),
		n.tx(b.a, register(1000, 0, 1, 5*ledger.UinfPerINF), setRes(cpuBox(4000, 1<<30))),
	))
	n.nextEpoch()
	n.blocksTo(n.epoch().End) // past the first epoch: the tests run whole epochs from here
	return n, a, b
}

// TestServingProviderEarnsMore: two providers pass the same challenges;
// one serves its job, the other ignores its own. The server earns its
// served reward on top of the same ops share; the ignorer is slashed and
// earns only the ops share.
func TestServingProviderEarnsMore(t *testing.T) {
	n, a, b := servedNet(t)
	user := n.accts[2]
	n.block()
	mustOK(t, n.block(n.tx(user, submitC(batchSpec(t, nil))), n.tx(user, submitC(batchSpec(t, nil)))))
	server, ignorer := a, b
	if n.job(1).Provider != a.a.addr {
		server, ignorer = b, a
	}
	if n.job(2).Provider != ignorer.a.addr {
		t.Fatal("the two jobs did not go to the two providers")
	}
	mustOK(t, n.block(n.tx(server.a, cresult(1, testCID("out"), 0, FailNone))))
	before := map[*sim]uint64{server: n.provider(server.a.addr).Earned, ignorer: n.provider(ignorer.a.addr).Earned}
	v := n.epochRun(randFor(3), []*sim{server, ignorer})
	if v[server] != VerdictPass || v[ignorer] != VerdictPass {
		t.Fatalf("verdicts %v", v)
	}
	n.blocksTo(n.job(2).Deadline)
	if j := n.job(2); j.Status != JobMissed {
		t.Fatalf("ignored job: %s", j.Status)
	}
	ps, pi := n.provider(server.a.addr), n.provider(ignorer.a.addr)
	gotS, gotI := ps.Earned-before[server], pi.Earned-before[ignorer]
	capped := DefaultParams().ServedCapPPM.Of(1000)
	if gotS <= gotI || ps.ServedEarned != capped || ps.ServedFees != 1000 || pi.ServedEarned != 0 {
		t.Fatalf("server earned %d (served %d of fees %d), ignorer %d", gotS, ps.ServedEarned, ps.ServedFees, gotI)
	}
	if gotS-gotI > capped+1 || gotS-gotI < capped-1 {
		t.Fatalf("difference %d, want the served reward %d", gotS-gotI, capped)
	}
	if pi.Bond >= 5*ledger.UinfPerINF {
		t.Fatal("the ignorer was not slashed for the missed job")
	}
}

// TestWashTradingNeverPays: a provider that submits jobs to itself burns
// their price and gets back at most served_cap_ppm of it; the rest of the
// served share goes to the ops split, which both providers share alike.
func TestWashTradingNeverPays(t *testing.T) {
	n, a, b := servedNet(t)
	n.block()
	self := a
	// Only a takes container jobs now, so its own job lands on it.
	mustOK(t, n.block(n.tx(b.a, setRes(Resources{}))))
	mustOK(t, n.block(n.tx(self.a, submitC(batchSpec(t, nil)))))
	if j := n.job(1); j.Provider != self.a.addr || j.User != self.a.addr {
		t.Fatalf("job: %+v", j)
	}
	mustOK(t, n.block(n.tx(self.a, cresult(1, testCID("out"), 0, FailNone))))
	before := [2]uint64{n.provider(a.a.addr).Earned, n.provider(b.a.addr).Earned}
	n.epochRun(randFor(4), []*sim{a, b})
	pa, pb := n.provider(a.a.addr), n.provider(b.a.addr)
	served := pa.ServedEarned
	if served != DefaultParams().ServedCapPPM.Of(1000) || served >= pa.ServedFees {
		t.Fatalf("self-dealer got %d back for %d burned", served, pa.ServedFees)
	}
	opsA, opsB := pa.Earned-before[0]-served, pb.Earned-before[1]
	if d := int64(opsA) - int64(opsB); d < -1 || d > 1 {
		t.Fatalf("ops shares %d vs %d: the unused served share should go to both alike", opsA, opsB)
	}
}

// TestServedPaidWithoutRound: a provider registered mid-epoch has no
// round to pass, but the work it served in that epoch is paid at its close.
func TestServedPaidWithoutRound(t *testing.T) {
	n := newNet(t, cloudParams, 1, 3)
	n.mint.perBlck = 1_000_000
	first, late, user := n.accts[0], n.accts[1], n.accts[2]
	mustOK(t, n.block(n.tx(first, register(5, 0, 1, 5*ledger.UinfPerINF))))
	e := n.nextEpoch()
	mustOK(t, n.block(n.tx(late, register(1000, 0, 1, 5*ledger.UinfPerINF), setRes(cpuBox(4000, 1<<30)))))
	mustOK(t, n.block(n.tx(user, submitC(batchSpec(t, nil)))))
	if j := n.job(1); j.Provider != late.addr {
		t.Fatalf("job on %s", j.Provider)
	}
	mustOK(t, n.block(n.tx(late, cresult(1, testCID("out"), 0, FailNone))))
	if _, err := n.challenge(late.addr); err == nil {
		t.Fatal("a provider registered mid-epoch has a round")
	}
	n.blocksTo(e.End)
	p := n.provider(late.addr)
	if want := DefaultParams().ServedCapPPM.Of(1000); p.ServedEarned != want || p.Earned != want || p.ServedFees != 1000 {
		t.Fatalf("late provider: served earned %d, earned %d, fees %d; want %d", p.ServedEarned, p.Earned, p.ServedFees, want)
	}
	if got := n.balance(late.addr); got != acctBalance-5*ledger.UinfPerINF-2*testFee+p.Earned {
		t.Fatalf("balance %d: the served reward was not paid", got)
	}
}

// TestCloudParamsChecked: each cloud parameter out of range is refused
// by name.
func TestCloudParamsChecked(t *testing.T) {
	for key, edit := range map[string]func(*Params){
		"max_spec_bytes":            func(p *Params) { p.MaxSpecBytes = jobspec.MaxSpecBytes + 1 },
		"container_deadline_blocks": func(p *Params) { p.ContainerDeadlineBlocks = 1 },
		"max_lease_blocks":          func(p *Params) { p.MaxLeaseBlocks = 0 },
		"lease_probe_blocks":        func(p *Params) { p.LeaseProbeBlocks = 0 },
		"lease_down_windows":        func(p *Params) { p.LeaseDownWindows = 0 },
		"served_share_ppm":          func(p *Params) { p.ServedSharePPM = ledger.PPMOne + 1 },
		"served_cap_ppm":            func(p *Params) { p.ServedCapPPM = ledger.PPMOne + 1 },
	} {
		p := DefaultParams()
		edit(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", key, err)
		}
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestPlantedLeaseBugIsCaught: a lease charge that is not burned (a
// planted bookkeeping bug: the job says charged, the escrow total is not
// reduced) is caught by the harness's recount in the same block.
func TestPlantedLeaseBugIsCaught(t *testing.T) {
	n := newNet(t, patient(cloudParams), 1, 3)
	_, _, _ = startedLease(t, n)
	n.mint.hook = func(ctx *ledger.Context) {
		j, _ := n.cm.job(ctx, 1)
		j.Charged += 7 // charged without subTotal/NoteBurned
		n.cm.putJob(ctx, j)
	}
	rec := &recorder{TB: t}
	n.t = rec
	func() {
		defer func() {
			if r := recover(); r != nil && r != errFatal {
				panic(r)
			}
		}()
		n.block()
	}()
	n.t = t
	if !strings.Contains(rec.msg, "escrowed") {
		t.Fatalf("the planted unburned charge was not caught (%q)", rec.msg)
	}
}

// recorder is a testing.TB whose Fatal stops the check and records why.
type recorder struct {
	testing.TB
	msg string
}

var errFatal = fmt.Errorf("fatal")

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, a ...any) {
	r.msg = fmt.Sprintf(f, a...)
	panic(errFatal)
}
func (r *recorder) Fatal(a ...any) { r.msg = fmt.Sprint(a...); panic(errFatal) }
