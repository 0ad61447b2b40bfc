package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/inferd/inferd/ledger"
)

func (a *Agent) path(id roundID) string {
	return filepath.Join(a.cfg.Dir, fmt.Sprintf("attest-%d-%d.json", id.contest, id.round))
}

// save writes p durably (atomic rename) before its commit is sent.
func (a *Agent) save(p *pending) error {
	if err := os.MkdirAll(a.cfg.Dir, 0o700); err != nil {
		return err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return ledger.WriteFileAtomic(a.path(roundID{p.Contest, p.Round}), raw, 0o600)
}

// loadPending reads the attestations a previous run left.
func (a *Agent) loadPending() error {
	files, err := filepath.Glob(filepath.Join(a.cfg.Dir, "attest-*.json"))
	if err != nil {
		return err
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var p pending
		if err := json.Unmarshal(raw, &p); err != nil {
			a.log.Warn("contest agent: ignoring an unreadable pending attestation", "file", f, "err", err)
			continue
		}
		a.pending[roundID{p.Contest, p.Round}] = &p
	}
	return nil
}

// forget drops a finished round's attestation from memory and disk.
func (a *Agent) forget(id roundID) {
	delete(a.pending, id)
	if err := os.Remove(a.path(id)); err != nil && !os.IsNotExist(err) {
		a.log.Warn("contest agent: removing a finished attestation", "file", a.path(id), "err", err)
	}
}
