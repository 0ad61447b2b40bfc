package agent

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/inferd/inferd/compute/matmul"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/wasmrun"
	"github.com/inferd/inferd/wasmrun/wasmtest"
)

// garbler commits to a wrong product: every row's first entry is off.
type garbler struct{ matmul.Backend }

func (g garbler) MatMul(a []int8, m int, b []int8, n int, c []int32) {
	g.Backend.MatMul(a, m, b, n, c)
	for i := 0; i < m; i++ {
		c[i*n] ^= 1
	}
}

type rig struct {
	n        *testNet
	val      *fakeHost
	ver      *Verifier
	provs    []*Provider
	hosts    []*fakeHost
	user     *fakeHost
	received int
}

func newRig(t testing.TB, backends ...matmul.Backend) *rig {
	return newRigParams(t, testParams, backends...)
}

func newRigParams(t testing.TB, params string, backends ...matmul.Backend) *rig {
	n, hosts := newTestNet(t, params, 2+len(backends))
	r := &rig{n: n, val: hosts[0], user: hosts[1]}
	r.ver = NewVerifier(r.val, VerifierConfig{})
	for i, be := range backends {
		h := hosts[2+i]
		r.hosts = append(r.hosts, h)
		r.provs = append(r.provs, NewProvider(h, ProviderConfig{Backend: be, Limits: wasmrun.Limits{MemoryBytes: 16 << 20}}))
		h.Submit(context.Background(), ledger.NewMsg(ledgercompute.MsgTypeRegister, ledgercompute.MsgRegister{
			Price: uint64(10 + i), Tier: 0, Capacity: 2, Bond: 10 * ledger.UinfPerINF}))
	}
	return r
}

// step applies a block, then lets every agent act on it and delivers the
// gossip published meanwhile to the verifier.
func (r *rig) step(ctx context.Context) {
	r.n.block()
	h := r.n.height
	for _, p := range r.provs {
		p.Step(ctx, h)
	}
	r.ver.Step(ctx, h)
	r.n.mu.Lock()
	gossip := r.n.gossip
	r.n.gossip = nil
	r.n.mu.Unlock()
	for _, g := range gossip {
		r.received++
		if err := r.ver.HandleRows(ctx, g); err != nil {
			r.n.t.Logf("height %d: rows dropped: %v", h, err)
		}
	}
	r.ver.StepReexec(ctx, h)
	r.ver.StepReveal(ctx, h)
}

func (r *rig) provider(i int) ledgercompute.ProviderInfo {
	var p ledgercompute.ProviderInfo
	r.n.c.Query(r.n.height, func(c *ledger.Context) (err error) {
		p, err = r.n.c.Compute.ProviderByAddr(c, r.hosts[i].addr)
		return err
	})
	return p
}

func (r *rig) job(id uint64) ledgercompute.Job {
	var j ledgercompute.Job
	r.n.c.Query(r.n.height, func(c *ledger.Context) (err error) {
		j, err = r.n.c.Compute.JobByID(c, id)
		return err
	})
	return j
}

// TestAgentsHonestAndCheatingProviders runs the provider and verifier
// agents against a real chain for three epochs: the honest provider
// passes every epoch and earns verified operations; the one committing to
// a wrong product is attested wrong_row and slashed; the one whose rows
// never arrive is attested missing.
func TestAgentsHonestAndCheatingProviders(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, matmul.CPU{}, garbler{matmul.CPU{}}, matmul.CPU{})
	r.hosts[2].mute = true
	for r.n.height < 32 {
		r.step(ctx)
	}
	honest, cheat, mute := r.provider(0), r.provider(1), r.provider(2)
	if honest.Uptime < 2 || honest.VerifiedOps != honest.Uptime*2*256*256*256 || honest.Downtime != 0 {
		t.Fatalf("honest: %+v", honest)
	}
	// Emission fills the compute pool every 10 blocks; each close pays it.
	if honest.Earned == 0 || cheat.Earned != 0 || mute.Earned != 0 {
		t.Fatalf("earned: honest %d, cheat %d, mute %d", honest.Earned, cheat.Earned, mute.Earned)
	}
	if cheat.LastOutcome != ledgercompute.OutcomeWrongRow || cheat.Bond >= 10*ledger.UinfPerINF || cheat.VerifiedOps != 0 {
		t.Fatalf("cheat: %+v", cheat)
	}
	if mute.LastOutcome != ledgercompute.OutcomeMissing || mute.Downtime < 2 {
		t.Fatalf("mute: %+v", mute)
	}
	if r.received == 0 {
		t.Fatal("no rows were gossiped")
	}
}

// TestAgentsRunAndReexecuteJobs: the cheapest provider runs a Wasm job
// and reports its output's CID (sealed, revealed after the verifier's
// commit window); a workload that is not a Wasm module is
// reported failed; the verifier re-executes both and agrees.
func TestAgentsRunAndReexecuteJobs(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, matmul.CPU{})
	good := r.n.put(wasmtest.Empty())
	bad := r.n.put([]byte("this is not wasm"))
	input := r.n.put([]byte("hello"))
	submit := func(w string) ledger.Msg {
		return ledger.NewMsg(ledgercompute.MsgTypeJobSubmit, ledgercompute.MsgJobSubmit{
			Workload: w, Input: input.String(), InputSize: 5, MaxPrice: 1000})
	}
	r.step(ctx) // registration
	r.user.Submit(ctx, submit(good.String()), submit(bad.String()))
	sealedDrawn := false // the result was sealed while the verifier committed
	for r.n.height < 12 {
		r.step(ctx)
		if j := r.job(1); j.Status == ledgercompute.JobSealed && j.Result == "" && j.Reexec == ledgercompute.ReexecPending {
			sealedDrawn = true
		}
	}
	if !sealedDrawn {
		t.Fatal("job 1 never seen sealed and drawn: the provider reported its result in the clear")
	}
	empty := r.n.put(nil)
	j1, j2 := r.job(1), r.job(2)
	if j1.Status != ledgercompute.JobDone || j1.Result != empty.String() || j1.Charged != 10 || j1.Refunded != 990 {
		t.Fatalf("job 1: %+v", j1)
	}
	if j2.Status != ledgercompute.JobFailed || j2.Error != wasmrun.ErrInvalidModule.Error() {
		t.Fatalf("job 2: %+v", j2)
	}
	if j1.Reexec != ledgercompute.ReexecMatch || j2.Reexec != ledgercompute.ReexecMatch {
		t.Fatalf("re-execution: %q %q", j1.Reexec, j2.Reexec)
	}
}

func TestNewBackend(t *testing.T) {
	if _, err := NewBackend("gpu", 0); !errors.Is(err, ErrNoGPU) {
		t.Fatalf("gpu: %v", err)
	}
	if _, err := NewBackend("tpu", 0); err == nil {
		t.Fatal("unknown backend accepted")
	}
	if b, err := NewBackend("cpu", 0); err != nil || b.Name() != "cpu" {
		t.Fatalf("cpu: %v", err)
	}
}

// TestVerifierIgnoresGarbageGossip: garbage, truncated and forged rows
// never lead to an attestation or a panic.
func TestVerifierIgnoresGarbageGossip(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, matmul.CPU{})
	var real []byte
	for r.n.height < 8 && real == nil {
		r.n.block()
		r.provs[0].Step(ctx, r.n.height)
		r.ver.Step(ctx, r.n.height)
		r.n.mu.Lock()
		if len(r.n.gossip) > 0 {
			real = r.n.gossip[0]
		}
		r.n.gossip = nil
		r.n.mu.Unlock()
	}
	if real == nil {
		t.Fatal("provider published nothing")
	}
	m, _ := DecodeRows(real)
	m.Rows[0].Values[4] ^= 0x10
	forged := EncodeRowsMsg(m)
	before := r.val.nonce
	for _, g := range [][]byte{nil, []byte("garbage"), real[:len(real)/2], forged} {
		if err := r.ver.HandleRows(ctx, g); err == nil {
			t.Fatalf("accepted %d bytes of bad gossip", len(g))
		}
	}
	if r.val.nonce != before {
		t.Fatal("bad gossip led to a transaction")
	}
	if err := r.ver.HandleRows(ctx, real); err != nil || r.val.nonce != before+1 {
		t.Fatalf("real rows: %v", err)
	}
}

// TestAgentsRunAsync runs both agents as the node does (Run, on their own
// goroutines, woken by Committed and the gossip subscription) while the
// test produces blocks: the provider passes an epoch.
func TestAgentsRunAsync(t *testing.T) {
	r := newRig(t, matmul.CPU{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.provs[0].Run(ctx) })
	wg.Go(func() { r.ver.Run(ctx) })
	deadline := time.Now().Add(20 * time.Second)
	for r.provider0Uptime() == 0 {
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			t.Fatalf("no pass after %d blocks: %+v", r.n.height, r.provider(0))
		}
		r.n.block()
		time.Sleep(30 * time.Millisecond) // let the agents act on it
		// Blocks must be long enough to solve (slow under -race): in a
		// commit window, wait for the provider's commit before going on.
		for wait := time.Now().Add(5 * time.Second); r.inCommitWindow() && time.Now().Before(wait); {
			r.n.mu.Lock()
			pending := len(r.n.txs)
			r.n.mu.Unlock()
			if pending > 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	wg.Wait()
}

func (r *rig) inCommitWindow() bool {
	ci, err := r.challenge(0)
	return err == nil && !ci.Committed() && r.n.height+1 < ci.CommitDeadline
}

func (r *rig) challenge(i int) (ci ledgercompute.ChallengeInfo, err error) {
	r.n.c.Query(r.n.height, func(c *ledger.Context) error {
		ci, err = r.n.c.Compute.Challenge(c, r.hosts[i].addr)
		return nil
	})
	return ci, err
}

func (r *rig) provider0Uptime() uint64 {
	if r.n.height < 2 {
		return 0
	}
	return r.provider(0).Uptime
}

// TestProviderRestartAnswers: a provider that committed and then lost its
// state (a restart) solves again after the commit deadline, gets the same
// root (the product is deterministic) and still passes.
func TestProviderRestartAnswers(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, matmul.CPU{})
	r.hosts[0].mute = true // its rows never leave before the restart
	for {
		r.step(ctx)
		if ci, err := r.challenge(0); err == nil && ci.Committed() && len(ci.Rows) > 0 {
			break
		}
		if r.n.height > 20 {
			t.Fatal("no commit")
		}
	}
	r.hosts[0].mute = false
	r.provs[0] = NewProvider(r.hosts[0], ProviderConfig{}) // the restart, past the commit deadline
	for r.provider(0).Uptime == 0 {
		r.step(ctx)
		if r.n.height > 30 {
			t.Fatalf("restarted provider did not pass: %+v", r.provider(0))
		}
	}
}
