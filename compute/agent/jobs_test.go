package agent

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/compute/matmul"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

func (r *rig) submitJob(ctx context.Context, workload, input cid.Cid) {
	r.user.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeJobSubmit, ledgercompute.MsgJobSubmit{
		Workload: workload.String(), Input: input.String(), InputSize: 5, MaxPrice: 1000}))
}

// missingCID is content nobody has.
func (r *rig) missingCID(s string) cid.Cid {
	c := r.n.put([]byte(s))
	r.n.mu.Lock()
	delete(r.n.blobs, c.KeyString())
	r.n.mu.Unlock()
	return c
}

// TestProviderReportsUnavailableContent: a job whose workload cannot be
// fetched is reported failed (ContentUnavailable) before its deadline,
// charged to the user, and the provider is neither slashed nor counted
// down; the verifier does not re-execute it. (Before the fix the job was
// retried every block and missed: the provider slashed, the user refunded.)
func TestProviderReportsUnavailableContent(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, matmul.CPU{})
	input := r.n.put([]byte("hello"))
	r.step(ctx) // registration
	bond := r.provider(0).Bond
	r.submitJob(ctx, r.missingCID("a workload nobody serves"), input)
	for r.n.height < 30 {
		r.step(ctx)
	}
	j := r.job(1)
	if j.Status != ledgercompute.JobFailed || !strings.HasPrefix(j.Error, ContentUnavailable+": ") || j.Charged != 10 || j.Refunded != 990 {
		t.Fatalf("job: %+v", j)
	}
	if j.Finished >= j.Deadline {
		t.Fatalf("reported at %d, deadline %d", j.Finished, j.Deadline)
	}
	if j.Reexec != ledgercompute.ReexecNone {
		t.Fatalf("re-execution: %q (an unavailable-content claim is never drawn)", j.Reexec)
	}
	if p := r.provider(0); p.Bond != bond || p.Downtime != 0 {
		t.Fatalf("provider punished: %+v", p)
	}
}

// TestProviderStepNeverBlocksOnJobs: with one job slot and two jobs whose
// content never arrives (each fetch hangs), Step returns at once every
// block (the challenge goes on), and both jobs are reported unavailable
// before their deadline. Before the fix Step waited for a free slot and
// the fetch was never bounded: Step hung.
func TestProviderStepNeverBlocksOnJobs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, hosts := newTestNet(t, testParams, 3)
	r := &rig{n: n, val: hosts[0], user: hosts[1], hosts: hosts[2:]}
	r.ver = NewVerifier(r.val, VerifierConfig{})
	h := hosts[2]
	h.hang = true
	p := NewProvider(h, ProviderConfig{MaxJobs: 1})
	p.async = true
	r.provs = []*Provider{p}
	h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeRegister, ledgercompute.MsgRegister{
		Price: 10, Capacity: 2, Bond: 10 * ledger.UinfPerINF}))
	n.block()
	input := n.put([]byte("hello"))
	r.submitJob(ctx, r.missingCID("workload one"), input)
	r.submitJob(ctx, r.missingCID("workload two"), input)
	for n.height < 30 {
		n.block()
		done := make(chan struct{})
		go func() { p.Step(ctx, n.height); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Step blocked at height %d", n.height)
		}
		// Let cancelled attempts report before the next block.
		for wait := time.Now().Add(5 * time.Second); time.Now().Before(wait); time.Sleep(time.Millisecond) {
			p.mu.Lock()
			busy := false
			for _, jr := range p.running {
				busy = busy || (n.height >= jr.cutoff && n.height > jr.started)
			}
			p.mu.Unlock()
			if !busy {
				break
			}
		}
	}
	cancel()
	p.wg.Wait()
	for id := uint64(1); id <= 2; id++ {
		if j := r.job(id); j.Status != ledgercompute.JobFailed || !strings.HasPrefix(j.Error, ContentUnavailable) {
			t.Fatalf("job %d: %+v", id, j)
		}
	}
	if pr := r.provider(0); pr.Bond != 10*ledger.UinfPerINF {
		t.Fatalf("provider slashed: %+v", pr)
	}
}
