package agent

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// pendingStore keeps an agent's committed-but-unrevealed results (the
// provider's sealed results, the verifier's re-execution commits): in
// memory, and, when dir is set, as one JSON file per job written durably
// before the commit leaves, so that a node restarted between its commit
// and its reveal still reveals (else the provider is slashed, the
// verifier loses its credit). Safe for concurrent use.
type pendingStore struct {
	dir     string // "": memory only (tests)
	chainID string
	account keys.Address
	log     *slog.Logger

	mu sync.Mutex
	m  map[uint64]*pendingReveal
}

// pendingReveal is one commitment waiting for its reveal, as kept on disk.
// Chain and account are there to refuse an entry of another chain or key
// (a reset home, a changed agent key) rather than reveal it.
type pendingReveal struct {
	Version int          `json:"version"`
	ChainID string       `json:"chain_id"`
	Account keys.Address `json:"account"`
	Job     uint64       `json:"job"`
	Result  string       `json:"result,omitempty"`
	Error   string       `json:"error,omitempty"`  // the provider's error text
	Failed  bool         `json:"failed,omitempty"` // the verifier's run failed
	Salt    []byte       `json:"salt"`

	sent uint64 // height the reveal was last submitted at (0: not yet); memory only
}

const pendingVersion = 1

// rejectedSuffix is added to the name of a file that cannot be used, so
// that it is kept for the operator but not read again.
const rejectedSuffix = ".rejected"

// newPendingStore returns the store of account on chainID under dir and
// loads what a previous run left there. Nothing it finds stops the
// agent: unusable files are logged and moved aside.
func newPendingStore(dir, chainID string, account keys.Address, log *slog.Logger) *pendingStore {
	s := &pendingStore{dir: dir, chainID: chainID, account: account, log: log, m: map[uint64]*pendingReveal{}}
	s.load()
	return s
}

func (s *pendingStore) path(job uint64) string {
	return filepath.Join(s.dir, "job-"+strconv.FormatUint(job, 10)+".json")
}

// salt returns the salt to commit job's outcome with: the pending one if
// the same outcome is already kept (a commit sent before a crash or a
// refused submission may still land: both then open with it), else a
// fresh one.
func (s *pendingStore) salt(job uint64, result, errText string, failed bool) ([]byte, error) {
	s.mu.Lock()
	e, ok := s.m[job]
	s.mu.Unlock()
	if ok && e.Result == result && e.Error == errText && e.Failed == failed {
		return slices.Clone(e.Salt), nil
	}
	salt := make([]byte, 32)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	return salt, nil
}

// put keeps e (Version, ChainID and Account are filled in) and writes it
// to disk. On a write error e is still kept in memory: committing anyway
// is better than a certain miss, but a restart before the reveal will
// lose it, which the caller logs.
func (s *pendingStore) put(e pendingReveal) error {
	e.Version, e.ChainID, e.Account, e.sent = pendingVersion, s.chainID, s.account, 0
	s.mu.Lock()
	s.m[e.Job] = &e
	s.mu.Unlock()
	if s.dir == "" {
		return nil
	}
	raw, err := json.Marshal(&e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	return ledger.WriteFileAtomic(s.path(e.Job), raw, 0o600) // durable: fsync of the file and the directory
}

// jobs returns the jobs kept.
func (s *pendingStore) jobs() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]uint64, 0, len(s.m))
	for id := range s.m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// get returns a copy of job's entry.
func (s *pendingStore) get(job uint64) (pendingReveal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[job]
	if !ok {
		return pendingReveal{}, false
	}
	return *e, true
}

// revealAction is what an agent's look at the ledger says of one pending
// reveal.
type revealAction int

const (
	revealWait   revealAction = iota // not yet (its window has not opened)
	revealNow                        // its window is open
	revealForget                     // revealed, past its window, or no longer ours
)

// due classifies every entry with decide under one ledger query at height
// and returns those to reveal now (marked sent at height), holding back
// one already sent less than resubmitBlocks ago; it forgets those decide
// drops. The caller submits the returned reveals.
func (s *pendingStore) due(height uint64, query func(func(*ledger.Context) error) error,
	decide func(*ledger.Context, pendingReveal) revealAction) []pendingReveal {
	ids := s.jobs()
	if len(ids) == 0 {
		return nil
	}
	var todo []pendingReveal
	var forget []uint64
	query(func(lc *ledger.Context) error {
		for _, id := range ids {
			e, ok := s.get(id)
			if !ok {
				continue
			}
			switch decide(lc, e) {
			case revealForget:
				forget = append(forget, id)
			case revealNow:
				if e.sent > 0 && height < e.sent+resubmitBlocks {
					continue
				}
				s.markSent(id, height)
				todo = append(todo, e)
			}
		}
		return nil
	})
	for _, id := range forget {
		s.forget(id)
	}
	return todo
}

// markSent records that job's reveal was submitted at height.
func (s *pendingStore) markSent(job, height uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[job]; ok {
		e.sent = height
	}
}

// forget drops job's entry from memory and disk (revealed, or its window
// closed).
func (s *pendingStore) forget(job uint64) {
	s.mu.Lock()
	_, ok := s.m[job]
	delete(s.m, job)
	s.mu.Unlock()
	if !ok || s.dir == "" {
		return
	}
	if err := os.Remove(s.path(job)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("removing a finished pending reveal", "file", s.path(job), "err", err)
	}
}

// load reads the entries a previous run left, drops half-written temp
// files and moves aside (rejectedSuffix) any file it cannot use.
func (s *pendingStore) load() {
	if s.dir == "" {
		return
	}
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		s.log.Error("cannot read the pending reveals; a reveal committed before the restart will be missed", "dir", s.dir, "err", err)
		return
	}
	for _, de := range entries {
		name := de.Name()
		f := filepath.Join(s.dir, name)
		switch {
		case strings.HasSuffix(name, ".tmp"): // a write cut short: its commit never left
			os.Remove(f)
			continue
		case !strings.HasPrefix(name, "job-") || !strings.HasSuffix(name, ".json") || de.IsDir():
			continue
		}
		e, err := s.read(f)
		if err != nil {
			s.log.Warn("skipping an unusable pending reveal (moved aside with suffix "+rejectedSuffix+")", "file", f, "err", err)
			if err := os.Rename(f, f+rejectedSuffix); err != nil {
				s.log.Warn("moving an unusable pending reveal aside", "file", f, "err", err)
			}
			continue
		}
		s.m[e.Job] = e
	}
	if len(s.m) > 0 {
		s.log.Info("pending reveals loaded", "dir", s.dir, "count", len(s.m))
	}
}

// read parses and checks the entry in file f.
func (s *pendingStore) read(f string) (*pendingReveal, error) {
	raw, err := os.ReadFile(f)
	if err != nil {
		return nil, err
	}
	var e pendingReveal
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("not a pending reveal: %w", err)
	}
	switch {
	case e.Version != pendingVersion:
		return nil, fmt.Errorf("version %d, this node reads %d", e.Version, pendingVersion)
	case e.ChainID != s.chainID:
		return nil, fmt.Errorf("for chain %q, this node is on %q", e.ChainID, s.chainID)
	case e.Account != s.account:
		return nil, fmt.Errorf("for account %s, this agent signs as %s", e.Account, s.account)
	case filepath.Base(f) != filepath.Base(s.path(e.Job)):
		return nil, fmt.Errorf("holds job %d, not the job its name says", e.Job)
	case len(e.Salt) < ledgercompute.MinRevealSalt || len(e.Salt) > ledgercompute.MaxRevealSalt:
		return nil, fmt.Errorf("salt of %d bytes, want %d to %d", len(e.Salt), ledgercompute.MinRevealSalt, ledgercompute.MaxRevealSalt)
	}
	return &e, nil
}
