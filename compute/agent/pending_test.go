package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/compute/matmul"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/wasmrun"
	"github.com/inferd/inferd/wasmrun/wasmtest"
)

// logBuf collects an agent's log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// jobRig is a rig with one honest provider and the verifier, both keeping
// their pending reveals under the returned directories, and job 1 (a Wasm
// module that succeeds) submitted after the registration.
func jobRig(t *testing.T) (r *rig, provDir, verDir string) {
	ctx := context.Background()
	r = newRig(t, matmul.CPU{})
	provDir, verDir = t.TempDir(), t.TempDir()
	r.provs[0] = newTestProvider(r.hosts[0], provDir)
	r.ver = NewVerifier(r.val, VerifierConfig{Dir: verDir})
	workload, input := r.n.put(wasmtest.Empty()), r.n.put([]byte("hello"))
	r.step(ctx) // registration
	r.submitJob(ctx, workload, input)
	return r, provDir, verDir
}

func newTestProvider(h *fakeHost, dir string) *Provider {
	return NewProvider(h, ProviderConfig{Limits: wasmrun.Limits{MemoryBytes: 16 << 20}, Dir: dir})
}

// stepUntil steps r until done, failing past height max.
func (r *rig) stepUntil(t *testing.T, max uint64, what string, done func() bool) {
	t.Helper()
	for !done() {
		if r.n.height >= max {
			t.Fatalf("no %s by height %d", what, max)
		}
		r.step(context.Background())
	}
}

// TestProviderRestartRevealsSealedResult: a provider restarted right after
// its job/result_commit left (over the same data directory) reveals in
// time: the job is done and the provider keeps its bond, a corrupt file
// next to the entry notwithstanding. Restarted over an empty directory
// (the salt in memory only, as before) it cannot reveal: the job is missed
// and the provider slashed.
func TestProviderRestartRevealsSealedResult(t *testing.T) {
	for _, persisted := range []bool{true, false} {
		name := map[bool]string{true: "persisted", false: "memory only"}[persisted]
		t.Run(name, func(t *testing.T) {
			r, dir, _ := jobRig(t)
			bond := r.provider(0).Bond
			r.stepUntil(t, 15, "result commit", func() bool { _, ok := r.provs[0].sealed.get(1); return ok })
			if e, _ := r.provs[0].sealed.get(1); e.sent != 0 {
				t.Fatal("revealed before the restart: the test restarts too late")
			}
			var logs logBuf
			r.hosts[0].log = logs.logger()
			if persisted {
				os.WriteFile(filepath.Join(dir, "job-99.json"), []byte("{not json"), 0o600)
			} else {
				dir = t.TempDir()
			}
			r.provs[0] = newTestProvider(r.hosts[0], dir) // the restart
			r.stepUntil(t, 30, "settled job", func() bool { return !ledgercompute.JobInFlight(r.job(1).Status) })
			j, p := r.job(1), r.provider(0)
			if !persisted {
				if j.Status != ledgercompute.JobMissed || p.Bond >= bond {
					t.Fatalf("without the entry: job %s, bond %d of %d; want missed and slashed", j.Status, p.Bond, bond)
				}
				return
			}
			if j.Status != ledgercompute.JobDone || j.Result == "" || p.Bond != bond {
				t.Fatalf("after the restart: job %+v, bond %d of %d; want done, not slashed", j, p.Bond, bond)
			}
			if !strings.Contains(logs.String(), "job-99.json") {
				t.Fatalf("the corrupt file is not named in the log:\n%s", logs.String())
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "job-*.json")); len(left) != 0 {
				t.Fatalf("entries left after the reveal: %v", left)
			}
		})
	}
}

// TestVerifierRestartRevealsReexec: a verifier restarted right after its
// job/reexec_commit left reveals from the same data directory: the
// re-execution matches and the verifier is credited verification work.
// Restarted over an empty directory it cannot reveal: the sole validator's
// report is absent, the re-execution inconclusive, no credit.
func TestVerifierRestartRevealsReexec(t *testing.T) {
	for _, persisted := range []bool{true, false} {
		name := map[bool]string{true: "persisted", false: "memory only"}[persisted]
		t.Run(name, func(t *testing.T) {
			r, _, dir := jobRig(t)
			r.stepUntil(t, 15, "re-execution commit", func() bool { _, ok := r.ver.reveals.get(1); return ok })
			if e, _ := r.ver.reveals.get(1); e.sent != 0 {
				t.Fatal("revealed before the restart: the test restarts too late")
			}
			if !persisted {
				dir = t.TempDir()
			}
			r.ver = NewVerifier(r.val, VerifierConfig{Dir: dir}) // the restart
			credited := false
			r.stepUntil(t, 30, "re-execution verdict", func() bool {
				r.n.c.Query(r.n.height, func(c *ledger.Context) error {
					credited = credited || r.n.c.Compute.VerificationWork(c, r.val.addr) > 0
					return nil
				})
				return r.job(1).Reexec != ledgercompute.ReexecPending && r.job(1).Reexec != ""
			})
			j := r.job(1)
			if !persisted {
				if j.Reexec != ledgercompute.ReexecInconclusive || credited {
					t.Fatalf("without the entry: re-execution %q, credited %v; want inconclusive, no credit", j.Reexec, credited)
				}
				return
			}
			if j.Reexec != ledgercompute.ReexecMatch || !credited {
				t.Fatalf("after the restart: re-execution %q, credited %v; want match and credit", j.Reexec, credited)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "job-*.json")); len(left) != 0 {
				t.Fatalf("entries left after the reveal: %v", left)
			}
		})
	}
}

// TestPendingRevealOnDiskBeforeCommit: when a commit (provider's or
// verifier's) is submitted, its entry is already on disk and opens that
// very commitment, so a crash just after submitting can still reveal.
func TestPendingRevealOnDiskBeforeCommit(t *testing.T) {
	r, provDir, verDir := jobRig(t)
	var checked []string
	check := func(h *fakeHost, dir string) func([]ledger.Msg) {
		return func(msgs []ledger.Msg) {
			for _, m := range msgs {
				var job uint64
				var got []byte
				switch m.Type {
				case ledgercompute.MsgTypeJobResultCommit:
					var x ledgercompute.MsgJobResultCommit
					codec.Unmarshal(m.Value, &x)
					job, got = x.Job, x.Commitment
				case ledgercompute.MsgTypeJobReexecCommit:
					var x ledgercompute.MsgJobReexecCommit
					codec.Unmarshal(m.Value, &x)
					job, got = x.Job, x.Commitment
				default:
					continue
				}
				raw, err := os.ReadFile(filepath.Join(dir, "job-1.json"))
				if err != nil {
					t.Errorf("%s submitted before its entry was written: %v", m.Type, err)
					continue
				}
				var e pendingReveal
				json.Unmarshal(raw, &e)
				want := ledgercompute.ResultCommitment(testChainID, job, h.addr, e.Result, e.Error, e.Salt)
				if m.Type == ledgercompute.MsgTypeJobReexecCommit {
					want = ledgercompute.ReexecCommitment(testChainID, job, h.addr, e.Result, e.Failed, e.Salt)
				}
				if e.Job != job || !bytes.Equal(got, want[:]) {
					t.Errorf("%s: the entry on disk (%s) does not open the commitment", m.Type, raw)
				}
				checked = append(checked, m.Type)
			}
		}
	}
	r.hosts[0].onSubmit = check(r.hosts[0], provDir)
	r.val.onSubmit = check(r.val, verDir)
	r.stepUntil(t, 15, "both commits", func() bool { return len(checked) == 2 })
	if !slices.Contains(checked, ledgercompute.MsgTypeJobResultCommit) || !slices.Contains(checked, ledgercompute.MsgTypeJobReexecCommit) {
		t.Fatalf("commits checked: %v", checked)
	}
}

// TestPendingStoreSkipsUnusableFiles: bad JSON, another chain's or
// account's entry, an entry under another job's name and a bad salt are
// each logged with their file name and moved aside; a half-written temp
// file is removed; the good entry is loaded. Nothing panics or fails.
func TestPendingStoreSkipsUnusableFiles(t *testing.T) {
	dir := t.TempDir()
	var me, other keys.Address
	me[0], other[0] = 1, 2
	salt := bytes.Repeat([]byte{7}, 32)
	entry := func(chain string, acct keys.Address, job uint64, salt []byte) []byte {
		raw, _ := json.Marshal(pendingReveal{Version: pendingVersion, ChainID: chain, Account: acct, Job: job, Result: "r", Salt: salt})
		return raw
	}
	files := map[string][]byte{
		"job-5.json":      entry(testChainID, me, 5, salt),
		"job-7.json":      []byte("{truncated"),
		"job-8.json":      entry("other-chain", me, 8, salt),
		"job-9.json":      entry(testChainID, other, 9, salt),
		"job-10.json":     entry(testChainID, me, 11, salt),
		"job-12.json":     entry(testChainID, me, 12, []byte("short")),
		"job-13.json.tmp": []byte("{half"),
	}
	for name, raw := range files {
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var logs logBuf
	s := newPendingStore(dir, testChainID, me, logs.logger())
	if got := s.jobs(); !slices.Equal(got, []uint64{5}) {
		t.Fatalf("loaded %v, want [5]", got)
	}
	for _, name := range []string{"job-7.json", "job-8.json", "job-9.json", "job-10.json", "job-12.json"} {
		if !strings.Contains(logs.String(), name) {
			t.Errorf("%s not named in the log", name)
		}
		if _, err := os.Stat(filepath.Join(dir, name+rejectedSuffix)); err != nil {
			t.Errorf("%s not moved aside: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "job-13.json.tmp")); !os.IsNotExist(err) {
		t.Errorf("temp file kept: %v", err)
	}
	// Read again (the next restart): only the good entry, nothing logged.
	var again logBuf
	if got := newPendingStore(dir, testChainID, me, again.logger()).jobs(); !slices.Equal(got, []uint64{5}) || strings.Contains(again.String(), "unusable") {
		t.Fatalf("second load: %v\n%s", got, again.String())
	}
	if t.Failed() {
		t.Log(logs.String())
	}
}
