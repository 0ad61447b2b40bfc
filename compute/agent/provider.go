package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"

	hostapi "github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/compute/matmul"
	"github.com/inferd/inferd/compute/merkle"
	"github.com/inferd/inferd/compute/spotcheck"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/wasmrun"
)

// ProviderConfig configures the provider agent.
type ProviderConfig struct {
	// Backend computes the challenge product (NewBackend); nil: CPU on
	// all cores.
	Backend matmul.Backend
	// Limits cap each job run (zero fields: wasmrun's defaults).
	Limits wasmrun.Limits
	// MaxJobs is how many jobs run at once (default GOMAXPROCS).
	MaxJobs int
	// RepublishBlocks: the rows are published again every this many
	// blocks until the attest deadline, for validators that missed them
	// (default 2).
	RepublishBlocks uint64
	// ReportMarginBlocks: a job whose workload or input cannot be fetched
	// is tried again every block until this many blocks before its
	// deadline, then reported failed with "content unavailable: ..." so
	// that it is not missed (default 3; each fetch is cancelled then).
	ReportMarginBlocks uint64
	// Result, when set, rewrites the result CID the agent reports for a
	// job it ran (test-only adversaries, e2e/attacks; nil: report it).
	Result func(job uint64, result string) string
	// Dir keeps the sealed results until they are revealed, one file per
	// job (pending.go), written before the commit leaves so that a
	// restarted node still reveals; "" keeps them in memory only (tests).
	Dir string
}

// Provider is the provider agent: every epoch it computes its challenge,
// commits the root, publishes the selected rows with proofs, and it runs
// the jobs assigned to it. One Provider per signing account.
type Provider struct {
	h   hostapi.Host
	cfg ProviderConfig
	run *runner
	log *slog.Logger
	// async: Run mode, heavy work in goroutines; Step alone (tests) does
	// everything before returning.
	async bool

	mu      sync.Mutex
	round   *proverRound
	jobs    map[uint64]bool // started or reported, until no longer assigned
	running map[uint64]*jobRun
	sealed  *pendingStore // committed results to reveal (provider_reveal.go)
	jobSlot chan struct{}
	wg      sync.WaitGroup
}

// jobRun is an attempt at a job in progress (Run mode): cancel stops its
// fetches once the job's report cut-off has come.
type jobRun struct {
	started uint64 // height the attempt started at
	cutoff  uint64 // height from which the job is reported unavailable
	cancel  context.CancelFunc
}

// ContentUnavailable prefixes the error a provider reports for a job whose
// workload or input it could not fetch before the job's deadline.
const ContentUnavailable = ledgercompute.ContentUnavailable

// errUnavailable wraps every fetch error of runner.Execute.
var errUnavailable = errors.New(ContentUnavailable)

type proverRound struct {
	epoch     uint64
	n         int
	c         []int32
	tree      *merkle.Tree
	solving   bool
	failed    bool
	submitted uint64 // height of the last commit submission
	published uint64 // height of the last publication
}

// NewProvider returns the provider agent of h's account.
func NewProvider(h hostapi.Host, cfg ProviderConfig) *Provider {
	if cfg.Backend == nil {
		cfg.Backend = matmul.CPU{}
	}
	if cfg.MaxJobs <= 0 {
		cfg.MaxJobs = runtime.GOMAXPROCS(0)
	}
	if cfg.RepublishBlocks == 0 {
		cfg.RepublishBlocks = 2
	}
	if cfg.ReportMarginBlocks == 0 {
		cfg.ReportMarginBlocks = 3
	}
	log := h.Logger().With("agent", "compute-provider")
	return &Provider{h: h, cfg: cfg, run: newRunner(cfg.Limits, cfg.MaxJobs), log: log,
		jobs: map[uint64]bool{}, running: map[uint64]*jobRun{}, sealed: newPendingStore(cfg.Dir, h.ChainID(), h.Account(), log),
		jobSlot: make(chan struct{}, cfg.MaxJobs)}
}

// Run acts at every committed height until ctx ends.
func (p *Provider) Run(ctx context.Context) error {
	p.async = true
	heights, stop := p.h.Committed()
	defer stop()
	defer p.run.close(context.Background())
	defer p.wg.Wait()
	p.Step(ctx, p.h.LatestHeight())
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-heights:
			p.Step(ctx, p.h.LatestHeight())
		}
	}
}

// Step does what is due at height: the challenge, the jobs and the
// reveals of sealed results.
func (p *Provider) Step(ctx context.Context, height uint64) {
	p.stepChallenge(ctx, height)
	p.stepReveals(ctx, height)
	p.stepJobs(ctx, height)
}

func (p *Provider) query(height uint64, f func(ctx *ledger.Context) error) error {
	c := p.h.Chain()
	return c.Query(height, f)
}

func (p *Provider) stepChallenge(ctx context.Context, height uint64) {
	var ci ledgercompute.ChallengeInfo
	if err := p.query(height, func(c *ledger.Context) (err error) {
		ci, err = p.h.Chain().Compute.Challenge(c, p.h.Account())
		return err
	}); err != nil {
		return // no challenge this epoch (not registered, jailed, or between epochs)
	}
	p.mu.Lock()
	r := p.round
	if r == nil || r.epoch != ci.Epoch {
		r = &proverRound{epoch: ci.Epoch, n: ci.N}
		p.round = r
	}
	// The product is deterministic: after a restart, solving again gives
	// the root already committed, so the rows can still be answered.
	start := r.tree == nil && !r.solving && !r.failed &&
		(height < ci.CommitDeadline || (ci.Committed() && height < ci.AttestDeadline))
	if start {
		r.solving = true
	}
	p.mu.Unlock()
	if start {
		if p.async {
			p.wg.Go(func() {
				p.solve(ci, r)
				p.stepChallenge(ctx, p.h.LatestHeight()) // commit now, not a block later
			})
		} else {
			p.solve(ci, r)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.tree == nil {
		return
	}
	root := r.tree.Root()
	switch {
	case !ci.Committed():
		// Resubmit if a commit was lost (evicted, or nonce trouble).
		if height < ci.CommitDeadline && (r.submitted == 0 || height >= r.submitted+3) {
			r.submitted = height
			msg := ledger.NewMsg(ledgercompute.MsgTypeCommitRoot, ledgercompute.MsgCommitRoot{Epoch: ci.Epoch, Root: root[:]})
			if _, err := p.h.Submit(ctx, msg); err != nil {
				p.log.Warn("commit root", "epoch", ci.Epoch, "err", err)
			}
		}
	case !bytes.Equal(ci.Root, root[:]):
		if !r.failed {
			r.failed = true
			p.log.Error("the ledger holds another root for this epoch than the product's; cannot answer (is the backend exact?)", "epoch", ci.Epoch)
		}
	case len(ci.Rows) > 0 && height < ci.AttestDeadline && (r.published == 0 || height >= r.published+p.cfg.RepublishBlocks):
		r.published = height
		data := EncodeRows(p.h.Account(), ci.Epoch, r.c, r.n, r.tree, ci.Rows)
		if err := p.h.Publish(hostapi.TopicCompute, data); err != nil {
			p.log.Warn("publish rows", "epoch", ci.Epoch, "err", err)
		}
	}
}

// solve computes the product and its tree for round r.
func (p *Provider) solve(ci ledgercompute.ChallengeInfo, r *proverRound) {
	ch, err := ci.Challenge()
	var c []int32
	var tree *merkle.Tree
	if err == nil {
		c, tree = spotcheck.Solve(ch, p.cfg.Backend)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r.solving = false
	if err != nil {
		r.failed = true
		p.log.Error("challenge", "epoch", ci.Epoch, "err", err)
		return
	}
	r.c, r.tree = c, tree
	p.log.Info("challenge solved", "epoch", ci.Epoch, "n", ci.N)
}

func (p *Provider) stepJobs(ctx context.Context, height uint64) {
	var jobs []ledgercompute.Job
	var maxInput uint64
	if err := p.query(height, func(c *ledger.Context) error {
		jobs = p.h.Chain().Compute.AssignedJobs(c, p.h.Account())
		maxInput = p.h.Chain().Compute.Params(c).MaxInputBytes
		return nil
	}); err != nil {
		return
	}
	assigned := map[uint64]bool{}
	p.mu.Lock()
	var todo []ledgercompute.Job
	for _, j := range jobs {
		if j.Kind != ledgercompute.KindWasm {
			continue // container jobs and leases are the container agent's
		}
		assigned[j.ID] = true
		if !p.jobs[j.ID] && j.Status == ledgercompute.JobAssigned && height < j.Deadline {
			p.jobs[j.ID] = true
			todo = append(todo, j)
		}
	}
	for id := range p.jobs {
		if !assigned[id] {
			delete(p.jobs, id) // reported and settled, or expired
		}
	}
	// Fetches are bounded by the job's deadline: an attempt still running
	// at the cut-off (and at least a block old) is cancelled and the job
	// reported unavailable.
	for _, r := range p.running {
		if height >= r.cutoff && height > r.started {
			r.cancel()
		}
	}
	p.mu.Unlock()
	for _, j := range todo {
		if !p.async {
			p.doJob(ctx, ctx, j, maxInput)
			continue
		}
		// Never block Run (the challenge must go on): without a free
		// slot, the job is tried again next block.
		select {
		case p.jobSlot <- struct{}{}:
		default:
			p.mu.Lock()
			delete(p.jobs, j.ID)
			p.mu.Unlock()
			continue
		}
		jctx, cancel := context.WithCancel(ctx)
		p.mu.Lock()
		p.running[j.ID] = &jobRun{started: height, cutoff: p.cutoff(j), cancel: cancel}
		p.mu.Unlock()
		p.wg.Go(func() {
			defer func() {
				p.mu.Lock()
				delete(p.running, j.ID)
				p.mu.Unlock()
				cancel()
				<-p.jobSlot
			}()
			p.doJob(ctx, jctx, j, maxInput)
		})
	}
}

// cutoff is the height from which job j, if its content cannot be
// fetched, is reported unavailable rather than tried again.
func (p *Provider) cutoff(j ledgercompute.Job) uint64 {
	if j.Deadline <= p.cfg.ReportMarginBlocks {
		return 0
	}
	return j.Deadline - p.cfg.ReportMarginBlocks
}

// doJob runs one job and reports it; jctx bounds its fetches and run, ctx
// is the agent's. A transient error (content not found yet) forgets the
// job so the next height tries again, until the job's cut-off: then
// content that stays unavailable is reported as the job's error, so that
// the job is not missed (which would slash the provider while refunding
// the user). Such a report is charged the price, like any failure.
func (p *Provider) doJob(ctx, jctx context.Context, j ledgercompute.Job, maxInput uint64) {
	out, err := p.run.Execute(jctx, p.h, j.Workload, j.Input, maxInput)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		if !errors.Is(err, errUnavailable) || p.h.LatestHeight() < p.cutoff(j) {
			p.log.Warn("job", "id", j.ID, "err", err)
			p.mu.Lock()
			delete(p.jobs, j.ID)
			p.mu.Unlock()
			return
		}
		msg := err.Error()
		if len(msg) > ledgercompute.MaxErrorBytes {
			msg = msg[:ledgercompute.MaxErrorBytes]
		}
		out = Outcome{Failure: strings.ToValidUTF8(msg, "")}
	}
	if out.Result != "" && p.cfg.Result != nil {
		out.Result = p.cfg.Result(j.ID, out.Result)
	}
	errText := ""
	if out.Result == "" {
		errText = out.Failure
	}
	if err := p.report(ctx, j.ID, out.Result, errText); err != nil {
		p.log.Warn("report job", "id", j.ID, "err", err)
		p.mu.Lock()
		delete(p.jobs, j.ID)
		p.mu.Unlock()
		return
	}
	p.log.Info("job done", "id", j.ID, "result", out.Result, "failure", fmt.Sprint(out.Failure))
}
