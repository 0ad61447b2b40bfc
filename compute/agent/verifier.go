package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	hostapi "github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/compute/merkle"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/wasmrun"
)

// VerifierConfig configures the verifier agent.
type VerifierConfig struct {
	// Limits cap each re-execution (zero fields: wasmrun's defaults); they
	// should equal the providers' so that failures agree.
	Limits wasmrun.Limits
	// MissingLeadBlocks: providers whose rows have not arrived are attested
	// missing from this many blocks before the attest deadline (default 3),
	// leaving the attestation time to be included.
	MissingLeadBlocks uint64
	// Reexec, if set, replaces running a drawn job: its result ("" for
	// failed), or ok false to abstain. Test-only: the attack suite's lazy
	// verifier, which copies the provider's result (e2e/attacks).
	Reexec func(j ledgercompute.Job) (result string, ok bool)
	// Dir keeps the re-execution commits until they are revealed, one
	// file per job (pending.go), written before the commit leaves so that
	// a restarted node still reveals; "" keeps them in memory only (tests).
	Dir string
}

// Verifier is the validator's agent: it checks the rows providers publish
// and attests, attests missing for rows that never came, and re-executes
// the jobs drawn for it. Verification runs here, outside block execution.
type Verifier struct {
	h   hostapi.Host
	cfg VerifierConfig
	run *runner
	log *slog.Logger

	mu       sync.Mutex
	viewAt   uint64 // height the view was read at
	epoch    uint64
	view     map[keys.Address]*ledgercompute.ChallengeInfo
	done     map[keys.Address]bool      // attested this epoch (the ledger has our attestation)
	verdicts map[roundKey]*roundVerdict // checked answers, resubmitted rather than checked again
	pending  map[keys.Address][]pendingRows
	rx       map[uint64]bool // jobs re-executed
	reveals  *pendingStore   // committed re-executions to reveal (reveal.go)
}

// roundKey names one provider's committed round.
type roundKey struct {
	prov  keys.Address
	epoch uint64
	root  string
}

// roundVerdict is the outcome of checking a round's rows (or missing, for
// rows that never came), and when the attestation was last submitted.
type roundVerdict struct {
	verdict   string
	submitted uint64
}

// pendingRows is a rows message that came before the ledger showed its
// selection. opens: every row's proof opens the committed root at its
// index, which only the provider (or a relay of its message) can produce,
// so it is never displaced by one that does not.
type pendingRows struct {
	data  []byte
	opens bool
}

// checkRows is Check (a variable so that tests can count the checks).
var checkRows = Check

// maxPending bounds the early messages kept per provider.
const maxPending = 4

// resubmitBlocks: a remembered verdict the ledger does not show yet is
// submitted again at most this often.
const resubmitBlocks = 3

// NewVerifier returns the verifier agent of h's account (a validator's
// operator account).
func NewVerifier(h hostapi.Host, cfg VerifierConfig) *Verifier {
	if cfg.MissingLeadBlocks == 0 {
		cfg.MissingLeadBlocks = 3
	}
	log := h.Logger().With("agent", "compute-verifier")
	return &Verifier{h: h, cfg: cfg, run: newRunner(cfg.Limits, 1), log: log,
		view: map[keys.Address]*ledgercompute.ChallengeInfo{}, done: map[keys.Address]bool{},
		verdicts: map[roundKey]*roundVerdict{}, pending: map[keys.Address][]pendingRows{}, rx: map[uint64]bool{},
		reveals: newPendingStore(cfg.Dir, h.ChainID(), h.Account(), log)}
}

// Run checks rows as they arrive and acts at every committed height until
// ctx ends. Re-execution runs on its own goroutine so that a long job
// never delays attestations.
func (v *Verifier) Run(ctx context.Context) error {
	msgs, unsub := v.h.Subscribe(hostapi.TopicCompute)
	defer unsub()
	heights, stop := v.h.Committed()
	defer stop()
	defer v.run.close(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	rxHeights := make(chan uint64, 1)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case h := <-rxHeights:
				v.StepReexec(ctx, h)
			}
		}
	})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case data := <-msgs:
			if err := v.HandleRows(ctx, data); err != nil {
				v.log.Debug("rows dropped", "err", err)
			}
		case <-heights:
			h := v.h.LatestHeight()
			v.Step(ctx, h)
			v.StepReveal(ctx, h)
			select {
			case rxHeights <- h:
			default: // a re-execution is still running; it reads the latest height next
			}
		}
	}
}

// bonded reports whether the agent's account operates a bonded validator.
func (v *Verifier) bonded(height uint64) bool {
	var ok bool
	v.h.Chain().Query(height, func(c *ledger.Context) error {
		ok = v.h.Chain().Staking.IsBonded(c, v.h.Account())
		return nil
	})
	return ok
}

// refresh reloads the current epoch's challenges at height.
func (v *Verifier) refresh(height uint64) (ledgercompute.Epoch, bool) {
	var e ledgercompute.Epoch
	var ok bool
	var cis []ledgercompute.ChallengeInfo
	c := v.h.Chain()
	if err := c.Query(height, func(ctx *ledger.Context) error {
		e, ok = c.Compute.CurrentEpoch(ctx)
		cis = c.Compute.Challenges(ctx)
		return nil
	}); err != nil || !ok {
		return e, false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if e.Number != v.epoch || len(v.view) == 0 {
		v.done, v.pending = map[keys.Address]bool{}, map[keys.Address][]pendingRows{}
		for k := range v.verdicts {
			if k.epoch < e.Number {
				delete(v.verdicts, k)
			}
		}
	}
	v.epoch, v.viewAt = e.Number, height
	v.view = map[keys.Address]*ledgercompute.ChallengeInfo{}
	for i := range cis {
		v.view[cis[i].Provider] = &cis[i]
	}
	return e, true
}

// HandleRows checks one rows message and attests its verdict. It returns
// why a message was dropped (never panics on any input). A round is
// checked once: the verdict is remembered per (provider, epoch, root) and
// submitted again, not recomputed, while the ledger does not show it; and
// nothing is checked once the ledger holds our attestation.
func (v *Verifier) HandleRows(ctx context.Context, data []byte) error {
	m, err := DecodeRows(data)
	if err != nil {
		return err
	}
	if m.Provider == v.h.Account() {
		return errors.New("rows of our own account: the ledger refuses self-attestation")
	}
	v.mu.Lock()
	ci, known := v.view[m.Provider]
	ready := known && ci.Epoch == m.Epoch && ci.Committed() && len(ci.Rows) > 0
	done := v.done[m.Provider] && v.epoch == m.Epoch
	v.mu.Unlock()
	if done {
		return nil
	}
	if !ready {
		// Our view may be a block behind the provider's: look again, at
		// most once per height (a flood of junk costs no ledger reads).
		v.mu.Lock()
		stale := v.viewAt != v.h.LatestHeight()
		v.mu.Unlock()
		if stale {
			v.refresh(v.h.LatestHeight())
		}
		v.mu.Lock()
		ci, known = v.view[m.Provider]
		ready = known && ci.Epoch == m.Epoch && ci.Committed() && len(ci.Rows) > 0
		if !ready && known && (ci.Epoch == m.Epoch || ci.Epoch+1 == m.Epoch) {
			v.keepPending(m.Provider, data, ci.Epoch == m.Epoch && ci.Committed() && opensRoot(ci.Root, m))
		}
		v.mu.Unlock()
		if !ready {
			return errors.New("rows for a round that is not open for checking")
		}
	}
	if string(m.Root) != string(ci.Root) {
		return fmt.Errorf("%w: root differs from the ledger's", errNotAttributable)
	}
	height := v.h.LatestHeight()
	if !v.bonded(height) {
		return errors.New("not a bonded validator: not attesting")
	}
	if v.attested(height, ci.Provider) {
		return nil
	}
	key := roundKey{prov: ci.Provider, epoch: ci.Epoch, root: string(ci.Root)}
	v.mu.Lock()
	vd, checked := v.verdicts[key]
	checked = checked && vd.verdict != ledgercompute.VerdictMissing // rows came after all: check them
	resubmit := checked && height >= vd.submitted+resubmitBlocks
	if resubmit {
		vd.submitted = height
	}
	v.mu.Unlock()
	if checked {
		if !resubmit {
			return nil // submitted lately; wait for it to be included
		}
		return v.attest(ctx, ci.Provider, ci.Epoch, vd.verdict)
	}
	verdict, err := checkRows(ci, m)
	if err != nil {
		return err
	}
	v.mu.Lock()
	if vd, ok := v.verdicts[key]; !ok || vd.verdict == ledgercompute.VerdictMissing {
		v.verdicts[key] = &roundVerdict{verdict: verdict, submitted: height}
	}
	v.mu.Unlock()
	return v.attest(ctx, ci.Provider, ci.Epoch, verdict)
}

// keepPending keeps an early rows message of prov (v.mu held): at most
// maxPending, one copy of each, and one whose proofs open the committed
// root is never displaced by one whose proofs do not.
func (v *Verifier) keepPending(prov keys.Address, data []byte, opens bool) {
	list := v.pending[prov]
	for _, p := range list {
		if bytes.Equal(p.data, data) {
			return
		}
	}
	if len(list) >= maxPending {
		drop := slices.IndexFunc(list, func(p pendingRows) bool { return !p.opens })
		if drop < 0 {
			return // all open the root: the provider's answer is here
		}
		list = slices.Delete(list, drop, drop+1) // the oldest unproven one
	}
	v.pending[prov] = append(list, pendingRows{data: data, opens: opens})
}

// opensRoot reports whether every row of m opens root at its index.
func opensRoot(root []byte, m *RowsMsg) bool {
	if string(m.Root) != string(root) || len(root) != 32 {
		return false
	}
	for _, row := range m.Rows {
		n := len(row.Values) / 4
		vals := make([]int32, n)
		for j := range vals {
			vals[j] = int32(binary.LittleEndian.Uint32(row.Values[4*j:]))
		}
		pr := make(merkle.Proof, len(row.Proof))
		for j, h := range row.Proof {
			pr[j] = merkle.Hash(h)
		}
		if int(row.Index) >= n || merkle.Verify([32]byte(root), n, int(row.Index), merkle.LeafHash(int(row.Index), vals), pr) != nil {
			return false
		}
	}
	return true
}

// attested reports whether the ledger holds our attestation on prov this
// epoch, and remembers it.
func (v *Verifier) attested(height uint64, prov keys.Address) bool {
	var ok bool
	c := v.h.Chain()
	c.Query(height, func(lc *ledger.Context) error {
		ok = c.Compute.Attested(lc, prov, v.h.Account())
		return nil
	})
	if ok {
		v.mu.Lock()
		v.done[prov] = true
		delete(v.pending, prov)
		v.mu.Unlock()
	}
	return ok
}

func (v *Verifier) attest(ctx context.Context, prov keys.Address, epoch uint64, verdict string) error {
	msg := ledger.NewMsg(ledgercompute.MsgTypeAttest, ledgercompute.MsgAttest{Provider: prov, Epoch: epoch, Verdict: verdict})
	if _, err := v.h.Submit(ctx, msg); err != nil {
		return err
	}
	v.mu.Lock()
	delete(v.pending, prov)
	v.mu.Unlock()
	v.log.Info("attested", "provider", prov.String(), "epoch", epoch, "verdict", verdict)
	return nil
}

// Step retries rows that came early and, near the attest deadline,
// attests missing for committed rounds whose rows never came.
func (v *Verifier) Step(ctx context.Context, height uint64) {
	e, ok := v.refresh(height)
	if !ok || height < e.CommitDeadline || height >= e.AttestDeadline || !v.bonded(height) {
		return
	}
	v.mu.Lock()
	var early [][]byte
	for _, list := range v.pending {
		for _, p := range list {
			early = append(early, p.data)
		}
	}
	v.pending = map[keys.Address][]pendingRows{}
	v.mu.Unlock()
	for _, d := range early {
		if err := v.HandleRows(ctx, d); err != nil {
			v.log.Debug("early rows dropped", "err", err)
		}
	}
	if height+v.cfg.MissingLeadBlocks < e.AttestDeadline {
		return
	}
	// Rounds the ledger does not show our attestation on: resubmit a
	// remembered verdict when due, else attest missing.
	type due struct {
		prov    keys.Address
		verdict string
	}
	var todo []due
	c := v.h.Chain()
	v.mu.Lock()
	c.Query(height, func(lc *ledger.Context) error {
		for a, ci := range v.view {
			if !ci.Committed() || v.done[a] || a == v.h.Account() {
				continue
			}
			if c.Compute.Attested(lc, a, v.h.Account()) {
				v.done[a] = true
				continue
			}
			key := roundKey{prov: a, epoch: ci.Epoch, root: string(ci.Root)}
			vd, ok := v.verdicts[key]
			if !ok {
				vd = &roundVerdict{verdict: ledgercompute.VerdictMissing}
				v.verdicts[key] = vd
			} else if height < vd.submitted+resubmitBlocks {
				continue
			}
			vd.submitted = height
			todo = append(todo, due{a, vd.verdict})
		}
		return nil
	})
	v.mu.Unlock()
	for _, d := range todo {
		if err := v.attest(ctx, d.prov, e.Number, d.verdict); err != nil {
			v.log.Warn("attest", "provider", d.prov.String(), "verdict", d.verdict, "err", err)
		}
	}
}

// StepReexec re-executes the jobs drawn for re-execution that this
// validator has not committed on yet, while their commit window is open,
// and commits to each result (StepReveal reveals it later). A run that
// timed out, or whose content cannot be fetched, is not reported (it
// proves nothing either way).
func (v *Verifier) StepReexec(ctx context.Context, height uint64) {
	if !v.bonded(height) {
		return
	}
	c := v.h.Chain()
	var jobs []ledgercompute.Job
	var maxInput uint64
	c.Query(height, func(lc *ledger.Context) error {
		for _, j := range c.Compute.ReexecPending(lc) {
			// A job reported "content unavailable" proves nothing either
			// way: the content may have appeared since (published by the
			// user to get the provider slashed). Abstain.
			if j.Status == ledgercompute.JobFailed && strings.HasPrefix(j.Error, ContentUnavailable) {
				continue
			}
			// The commit must land before the reveal window opens: a tx
			// sent now is in block height+1 at the earliest.
			if j.Provider != v.h.Account() && !c.Compute.ReexecCommitted(lc, j.ID, v.h.Account()) &&
				height+1 < c.Compute.ReexecCommitEnd(lc, j.ID) {
				jobs = append(jobs, j)
			}
		}
		maxInput = c.Compute.Params(lc).MaxInputBytes
		return nil
	})
	v.mu.Lock()
	keep := map[uint64]bool{}
	for _, j := range jobs {
		if v.rx[j.ID] {
			keep[j.ID] = true
		}
	}
	v.rx = keep // forget jobs whose window closed or that we reported
	v.mu.Unlock()
	for _, j := range jobs {
		v.mu.Lock()
		seen := v.rx[j.ID]
		v.rx[j.ID] = true
		v.mu.Unlock()
		if seen || height >= j.ReexecEnd {
			continue
		}
		var result string
		if v.cfg.Reexec != nil {
			r, ok := v.cfg.Reexec(j)
			if !ok {
				continue
			}
			result = r
		} else {
			out, err := v.run.Execute(ctx, v.h, j.Workload, j.Input, maxInput)
			if err != nil || out.Timeout {
				v.log.Warn("re-execute", "job", j.ID, "err", err, "timeout", out.Timeout)
				continue
			}
			result = out.Result
		}
		if err := v.commitReexec(ctx, j.ID, result); err != nil {
			v.log.Warn("commit re-execution", "job", j.ID, "err", err)
			v.mu.Lock()
			delete(v.rx, j.ID)
			v.mu.Unlock()
		}
	}
}
