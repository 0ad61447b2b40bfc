package compute

import (
	"errors"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/inferd/inferd/compute/matmul"
	"github.com/inferd/inferd/compute/merkle"
	"github.com/inferd/inferd/compute/spotcheck"
	"github.com/inferd/inferd/ledger"
)

// sim is a provider driven by a test: it computes its challenge with the
// real backend, may garble some rows, commits, and answers the check.
type sim struct {
	a       *acct
	garble  int  // rows garbled per epoch
	offline bool // never commits
	c       []int32
	n       int
	tree    *merkle.Tree
}

// epochRun drives one whole epoch through the real proof path:
// challenge -> Solve -> commit_root -> Select -> Answer -> Verify ->
// attest by every validator -> close. It returns the verdicts.
func (n *testNet) epochRun(r *rand.Rand, sims []*sim) map[*sim]string {
	n.t.Helper()
	e := n.nextEpoch()
	var txs [][]byte
	for _, s := range sims {
		ci, err := n.challenge(s.a.addr)
		if err != nil || s.offline {
			continue
		}
		ch, err := ci.Challenge()
		if err != nil {
			n.t.Fatal(err)
		}
		s.n = ci.N
		s.c, _ = spotcheck.Solve(ch, matmul.CPU{})
		for _, i := range r.Perm(s.n)[:s.garble] {
			s.c[i*s.n] ^= 1 // committed honestly to a wrong row
		}
		s.tree = merkle.FromRows(s.c, s.n, s.n)
		root := s.tree.Root()
		txs = append(txs, n.tx(s.a, ledger.NewMsg(MsgTypeCommitRoot, MsgCommitRoot{Epoch: e.Number, Root: root[:]})))
	}
	mustOK(n.t, n.block(txs...))
	n.blocksTo(e.CommitDeadline)
	verdicts := map[*sim]string{}
	txs = nil
	for _, s := range sims {
		ci, err := n.challenge(s.a.addr)
		if err != nil || !ci.Committed() {
			continue
		}
		ch, _ := ci.Challenge()
		rows, proofs := spotcheck.Answer(s.c, s.n, s.tree, ci.Rows)
		v := VerdictPass
		if err := spotcheck.Verify(ch, [32]byte(ci.CheckSeed), ci.K, [32]byte(ci.Root), rows, proofs); err != nil {
			if !errors.Is(err, spotcheck.ErrWrongRow) {
				n.t.Fatalf("verify: %v", err)
			}
			v = VerdictWrongRow
		}
		verdicts[s] = v
		for _, val := range n.vals {
			txs = append(txs, n.tx(val, ledger.NewMsg(MsgTypeAttest, MsgAttest{Provider: s.a.addr, Epoch: e.Number, Verdict: v})))
		}
	}
	mustOK(n.t, n.block(txs...))
	n.blocksTo(e.End)
	return verdicts
}

func TestHonestProviderPassesAndEarns(t *testing.T) {
	n := newNet(t, testParams, 3, 2)
	n.mint.perBlck = 1000
	honest, lazy := &sim{a: n.accts[0]}, &sim{a: n.accts[1], offline: true}
	mustOK(t, n.block(n.tx(honest.a, register(10, 0, 2, 5*ledger.UinfPerINF)), n.tx(lazy.a, register(10, 0, 2, 5*ledger.UinfPerINF))))
	r := rand.New(rand.NewSource(1))
	balBefore := n.balance(honest.a.addr)
	valBefore := n.balance(n.vals[0].addr)
	for ep := 0; ep < 3; ep++ {
		v := n.epochRun(r, []*sim{honest, lazy})
		if v[honest] != VerdictPass {
			t.Fatalf("epoch %d: honest provider verdict %q", ep, v[honest])
		}
		p := n.provider(honest.a.addr)
		if p.LastOutcome != OutcomePass || p.EpochOps != 2*256*256*256 {
			t.Fatalf("outcome %q ops %d", p.LastOutcome, p.EpochOps)
		}
	}
	p := n.provider(honest.a.addr)
	if p.VerifiedOps != 3*2*256*256*256 || p.Uptime != 3 || p.Downtime != 0 {
		t.Fatalf("after 3 epochs: %+v", p)
	}
	if p.Earned == 0 || n.balance(honest.a.addr) != balBefore+p.Earned-3*testFee {
		t.Fatalf("earned %d, balance %d -> %d", p.Earned, balBefore, n.balance(honest.a.addr))
	}
	// 10% to the validators that attested, 90% to the only passing provider.
	if got := n.balance(n.vals[0].addr); got <= valBefore {
		t.Fatalf("validator earned nothing: %d -> %d", valBefore, got)
	}
	if l := n.provider(lazy.a.addr); l.Downtime != 3 || !l.Jailed || l.Earned != 0 {
		t.Fatalf("offline provider: %+v", l)
	}
}

// exactPass is C(n-g, k) / C(n, k): the chance that k distinct uniform
// rows all avoid g garbled ones.
func exactPass(n, g, k int) float64 {
	p := 1.0
	for t := 0; t < k; t++ {
		p *= float64(n-g-t) / float64(n-t)
	}
	return p
}

// TestCheaterCaughtAtPredictedRate: a provider that computes 90% of its
// rows right (230 of 256; 26 garbled per epoch, fresh each time) is
// caught by the real spot check, through the ledger's epochs, at rate
// 1 - C(230,16)/C(256,16) (>= 1 - 0.9^16) within 4 binomial sigmas, and
// each catch burns slash_wrong_row_ppm of its bond.
func TestCheaterCaughtAtPredictedRate(t *testing.T) {
	trials := 400
	if testing.Short() {
		trials = 60
	}
	params := `{"min_bond":1000,"epoch_blocks":5,"commit_deadline_blocks":2,"attest_deadline_blocks":4,"slash_wrong_row_ppm":10000}`
	n := newNet(t, params, 2, 1)
	n.check = false // checked every epoch below; keeps the test fast
	cheat := &sim{a: n.accts[0], garble: 26}
	bond := uint64(1000 * ledger.UinfPerINF)
	mustOK(t, n.block(n.tx(cheat.a, register(10, 0, 1, bond))))
	r := rand.New(rand.NewSource(99))
	caught := 0
	for i := 0; i < trials; i++ {
		burnedBefore := n.supply().Burned
		before := n.provider(cheat.a.addr).Bond
		v := n.epochRun(r, []*sim{cheat})
		p := n.provider(cheat.a.addr)
		n.checkState()
		switch v[cheat] {
		case VerdictWrongRow:
			caught++
			want := before - before/100
			if p.Bond != want || p.LastOutcome != OutcomeWrongRow || p.EpochOps != 0 {
				t.Fatalf("caught: bond %d want %d, outcome %q", p.Bond, want, p.LastOutcome)
			}
			if n.supply().Burned-burnedBefore < before/100 {
				t.Fatal("slash not burned")
			}
		case VerdictPass:
			if p.Bond != before || p.LastOutcome != OutcomePass {
				t.Fatalf("passed but bond %d -> %d, outcome %q", before, p.Bond, p.LastOutcome)
			}
		default:
			t.Fatalf("trial %d: verdict %q", i, v[cheat])
		}
	}
	want := 1 - exactPass(256, 26, 16)
	sigma := math.Sqrt(want * (1 - want) / float64(trials))
	got := float64(caught) / float64(trials)
	t.Logf("caught %d of %d = %.3f, expected %.3f +- %.3f (4 sigma)", caught, trials, got, want, 4*sigma)
	if math.Abs(got-want) > 4*sigma {
		t.Fatalf("catch rate %.3f outside %.3f +- %.3f", got, want, 4*sigma)
	}
	if p := n.provider(cheat.a.addr); p.Bond >= bond {
		t.Fatalf("bond %d not reduced", p.Bond)
	}
}

func TestOfflineJailedThenUnjail(t *testing.T) {
	n := newNet(t, testParams, 1, 1)
	a := n.accts[0]
	off := &sim{a: a, offline: true}
	mustOK(t, n.block(n.tx(a, register(10, 0, 1, 2*ledger.UinfPerINF))))
	r := rand.New(rand.NewSource(3))
	for i := 1; i <= 3; i++ {
		n.epochRun(r, []*sim{off})
		p := n.provider(a.addr)
		if p.Downtime != uint64(i) || p.LastOutcome != OutcomeNoCommit {
			t.Fatalf("epoch %d: %+v", i, p)
		}
		if p.Jailed != (i == 3) {
			t.Fatalf("epoch %d: jailed=%v", i, p.Jailed)
		}
	}
	p := n.provider(a.addr)
	// Jailed: no challenge next epoch, and unjail too early fails.
	n.block()
	if _, err := n.challenge(a.addr); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("jailed provider has a challenge: %v", err)
	}
	mustFail(t, n.block(n.tx(a, ledger.NewMsg(MsgTypeUnjail, MsgUnjail{}))), ErrStillJailed)
	n.blocksTo(p.JailedUntil)
	mustOK(t, n.block(n.tx(a, ledger.NewMsg(MsgTypeUnjail, MsgUnjail{}))))
	mustFail(t, n.block(n.tx(a, ledger.NewMsg(MsgTypeUnjail, MsgUnjail{}))), ErrNotJailed)
	// Back online: passes the next epoch.
	back := &sim{a: a}
	if v := n.epochRun(r, []*sim{back}); v[back] != VerdictPass {
		t.Fatalf("after unjail: %q", v[back])
	}
	if p := n.provider(a.addr); p.Uptime != 1 || p.Missed != 0 || p.Jailed {
		t.Fatalf("after unjail: %+v", p)
	}
}

func TestOutcomeThresholds(t *testing.T) {
	cases := []struct {
		pass, wrong, missing, total uint64
		want                        string
	}{
		{67, 0, 0, 100, OutcomePass},
		{66, 0, 0, 99, OutcomeInconclusive}, // exactly 2/3 is not more than 2/3
		{60, 34, 0, 100, OutcomeWrongRow},
		{66, 33, 0, 99, OutcomeInconclusive}, // exactly 1/3 wrong does not slash
		{0, 0, 51, 100, OutcomeMissing},
		{0, 0, 50, 100, OutcomeInconclusive},
		{10, 10, 10, 0, OutcomeInconclusive},
	}
	for _, c := range cases {
		if got := Outcome(c.pass, c.wrong, c.missing, c.total); got != c.want {
			t.Errorf("Outcome(%d,%d,%d,%d) = %s, want %s", c.pass, c.wrong, c.missing, c.total, got, c.want)
		}
	}
}

func TestContestMessagesRefused(t *testing.T) {
	params := `{"min_bond":1000,"epoch_blocks":14,"commit_deadline_blocks":6,"attest_deadline_blocks":12}`
	n := newNet(t, params, 1, 2)
	a, b := n.accts[0], n.accts[1]
	mustOK(t, n.block(n.tx(a, register(10, 0, 1, 2*ledger.UinfPerINF))))
	e := n.nextEpoch()
	root := make([]byte, 32)
	commit := func(ep uint64, r []byte) ledger.Msg {
		return ledger.NewMsg(MsgTypeCommitRoot, MsgCommitRoot{Epoch: ep, Root: r})
	}
	attest := func(v string) ledger.Msg {
		return ledger.NewMsg(MsgTypeAttest, MsgAttest{Provider: a.addr, Epoch: e.Number, Verdict: v})
	}
	mustFail(t, n.block(n.tx(a, commit(e.Number+1, root))), ErrWrongEpoch)
	mustFail(t, n.block(n.tx(b, commit(e.Number, root))), ErrNoChallenge)
	mustFail(t, n.block(n.tx(a, commit(e.Number, root[:31]))), ledger.ErrInvalidMsg)
	// Attestations before the commit deadline are too early.
	mustFail(t, n.block(n.tx(n.vals[0], attest(VerdictPass))), ErrTooEarly)
	if n.height >= e.CommitDeadline {
		t.Fatalf("test schedule: height %d", n.height)
	}
	n.blocksTo(e.CommitDeadline)
	mustFail(t, n.block(n.tx(a, commit(e.Number, root))), ErrDeadlinePassed)
	mustFail(t, n.block(n.tx(n.vals[0], attest(VerdictPass))), ErrNotCommitted)
	mustFail(t, n.block(n.tx(n.vals[0], attest("maybe"))), ErrBadVerdict)
	mustFail(t, n.block(n.tx(b, attest(VerdictPass))), ErrNotValidator)
	n.blocksTo(e.AttestDeadline)
	mustFail(t, n.block(n.tx(n.vals[0], attest(VerdictPass))), ErrDeadlinePassed)
	// A committed round takes one attestation per validator.
	e = n.nextEpoch()
	mustOK(t, n.block(n.tx(a, commit(e.Number, root))))
	mustFail(t, n.block(n.tx(a, commit(e.Number, root))), ErrAlreadyCommitted)
	n.blocksTo(e.CommitDeadline)
	mustOK(t, n.block(n.tx(n.vals[0], attest(VerdictMissing))))
	mustFail(t, n.block(n.tx(n.vals[0], attest(VerdictPass))), ErrAlreadyAttested)
	n.blocksTo(e.End)
	if p := n.provider(a.addr); p.LastOutcome != OutcomeMissing || p.Downtime == 0 {
		t.Fatalf("missing majority: %+v", p)
	}
}

func randFor(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

// nextEpoch applies blocks up to the first block of the next epoch.
func (n *testNet) nextEpoch() Epoch {
	n.t.Helper()
	for i := 0; i < 10_000; i++ {
		n.block()
		if e := n.epoch(); e.Start == n.height {
			return e
		}
	}
	n.t.Fatal("no epoch started")
	return Epoch{}
}

// TestNoSelfAttestation: a validator that is also a provider cannot vouch
// for its own round or its own job.
func TestNoSelfAttestation(t *testing.T) {
	n := newNet(t, strings.Replace(testParams, `"reexec_window_blocks":3`, `"reexec_window_blocks":3,"reexec_ppm":1000000`, 1), 1, 1)
	v, user := n.vals[0], n.accts[0]
	mustOK(t, n.block(n.tx(v, register(10, 0, 1, 2*ledger.UinfPerINF))))
	e := n.nextEpoch()
	mustOK(t, n.block(n.tx(v, ledger.NewMsg(MsgTypeCommitRoot, MsgCommitRoot{Epoch: e.Number, Root: make([]byte, 32)}))))
	n.blocksTo(e.CommitDeadline)
	mustFail(t, n.block(n.tx(v, ledger.NewMsg(MsgTypeAttest, MsgAttest{Provider: v.addr, Epoch: e.Number, Verdict: VerdictPass}))), ErrSelfAttest)
	// Its own job: drawn for re-execution, it cannot report on it.
	mustOK(t, n.block(n.tx(user, submit(wasmCID, inputCID, 10, 100))))
	if j := n.job(1); j.Provider != v.addr {
		t.Fatalf("job assigned to %s", j.Provider)
	}
	out := testCID("its output")
	mustOK(t, n.block(n.sealResult(v, 1, out)))
	n.block() // the draw
	if j := n.job(1); j.Reexec != ReexecPending {
		t.Fatalf("job not drawn: %q", j.Reexec)
	}
	mustFail(t, n.block(n.commitReexec(v, 1, out)), ErrSelfAttest)
}

// TestValidatorProviderJudgedByOthers: with two equal validators, one of
// them a provider, the other's pass is all of the stake that may attest.
func TestValidatorProviderJudgedByOthers(t *testing.T) {
	n := newNet(t, testParams, 2, 0)
	v := n.vals[0]
	s := &sim{a: v}
	mustOK(t, n.block(n.tx(v, register(10, 0, 1, 2*ledger.UinfPerINF))))
	e := n.nextEpoch()
	ci, _ := n.challenge(v.addr)
	ch, _ := ci.Challenge()
	s.n = ci.N
	s.c, s.tree = spotcheck.Solve(ch, matmul.CPU{})
	root := s.tree.Root()
	mustOK(t, n.block(n.tx(v, ledger.NewMsg(MsgTypeCommitRoot, MsgCommitRoot{Epoch: e.Number, Root: root[:]}))))
	n.blocksTo(e.CommitDeadline)
	mustOK(t, n.block(n.tx(n.vals[1], ledger.NewMsg(MsgTypeAttest, MsgAttest{Provider: v.addr, Epoch: e.Number, Verdict: VerdictPass}))))
	n.blocksTo(e.End)
	if p := n.provider(v.addr); p.LastOutcome != OutcomePass {
		t.Fatalf("outcome %q", p.LastOutcome)
	}
}
