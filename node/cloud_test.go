package node

import (
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/p2p/forward"
)

func TestAuthorizeLease(t *testing.T) {
	addr := func(b byte) keys.Address { return keys.Address{b} }
	self, owner, friend, val, stranger := addr(1), addr(2), addr(3), addr(4), addr(5)
	running := ledgercompute.Job{ID: 9, Kind: ledgercompute.KindService, Status: ledgercompute.JobRunning, Provider: self, User: owner,
		Lease: &ledgercompute.Lease{Allowed: []keys.Address{friend}}}
	up := func(uint64) (string, string, bool) { return "10.89.0.2:8080", "/healthz", true }
	down := func(uint64) (string, string, bool) { return "", "", false }
	other := running
	other.Provider = addr(7)
	ended := running
	ended.Status = ledgercompute.JobDone
	batch := running
	batch.Kind, batch.Lease = ledgercompute.KindBatch, nil
	cases := []struct {
		name    string
		j       ledgercompute.Job
		who     keys.Address
		bonded  bool
		purpose forward.Purpose
		targets LeaseTargets
		want    string // "" = allowed
	}{
		{"owner forwards", running, owner, false, forward.PurposeForward, up, ""},
		{"allowed key forwards", running, friend, false, forward.PurposeForward, up, ""},
		{"stranger refused", running, stranger, false, forward.PurposeForward, up, "only its owner"},
		{"validator cannot forward", running, val, true, forward.PurposeForward, up, "only its owner"},
		{"validator probes", running, val, true, forward.PurposeProbe, up, ""},
		{"stranger cannot probe", running, stranger, false, forward.PurposeProbe, up, "bonded validators"},
		{"anyone locates", running, stranger, false, forward.PurposeLocate, up, ""},
		{"other provider's lease", other, owner, false, forward.PurposeForward, up, "not provided by this node"},
		{"ended lease", ended, owner, false, forward.PurposeForward, up, "not running"},
		{"batch job", batch, owner, false, forward.PurposeForward, up, "not a lease"},
		{"container not up", running, owner, false, forward.PurposeForward, down, "not running on the provider yet"},
		{"owner reads lease logs", running, owner, false, forward.PurposeLogs, up, ""},
		{"allowed key cannot read logs", running, friend, false, forward.PurposeLogs, up, "only its owner"},
	}
	for _, c := range cases {
		tg, err := authorizeLease(c.j, self, c.who, c.bonded, c.purpose, c.targets)
		switch {
		case c.want == "" && (err != nil || tg.Addr != "10.89.0.2:8080" || tg.Health != "/healthz"):
			t.Errorf("%s: %+v %v, want allowed", c.name, tg, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want refusal with %q", c.name, err, c.want)
		}
	}
}

func TestAuthorizeBatchLogs(t *testing.T) {
	self, owner, other := keys.Address{1}, keys.Address{2}, keys.Address{3}
	j := ledgercompute.Job{ID: 4, Kind: ledgercompute.KindBatch, Status: ledgercompute.JobAssigned, Provider: self, User: owner}
	none := func(uint64) (string, string, bool) { return "", "", false }
	if _, err := authorizeLease(j, self, owner, false, forward.PurposeLogs, none); err != nil {
		t.Fatalf("owner's live logs: %v", err)
	}
	if _, err := authorizeLease(j, self, other, false, forward.PurposeLocate, none); err != nil {
		t.Fatalf("locate a batch job: %v", err)
	}
	if _, err := authorizeLease(j, self, other, true, forward.PurposeLogs, none); err == nil || !strings.Contains(err.Error(), "only its owner") {
		t.Fatalf("someone else's logs: %v", err)
	}
	if _, err := authorizeLease(j, self, owner, false, forward.PurposeForward, none); err == nil {
		t.Fatal("a batch job was forwarded to")
	}
	j.Status = ledgercompute.JobDone
	if _, err := authorizeLease(j, self, owner, false, forward.PurposeLogs, none); err == nil || !strings.Contains(err.Error(), "logs are a CID") {
		t.Fatalf("logs of a finished job: %v", err)
	}
}
