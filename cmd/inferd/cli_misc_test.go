package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/inferd/inferd/node/api"
)

func TestVersion(t *testing.T) {
	old := buildInfo
	defer func() { buildInfo = old }()
	buildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	want := "inferd v1.2.3 (commit 0123456789ab, 2026-12-01T00:00:00Z, modified) " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got := mustCLI(t, "", "version"); got != want {
		t.Fatalf("version: %q, want %q", got, want)
	}
	if got := mustCLI(t, "", "--version"); got != want {
		t.Fatalf("--version: %q, want %q", got, want)
	}
	buildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	if got := mustCLI(t, "", "version"); !strings.HasPrefix(got, "inferd devel (commit unknown) go") {
		t.Fatalf("version without build info: %q", got)
	}
}

func TestUnknownCommandHints(t *testing.T) {
	for _, args := range [][]string{{"foo"}, {"stauts"}, {"query", "blok"}, {"status", "--bogus"}} {
		code, _, errOut := cli(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "--help") || strings.Count(errOut, "--help") != 1 || !oneLineError(errOut) {
			t.Errorf("inferd %v: exit %d %q", args, code, errOut)
		}
	}
	if _, _, errOut := cli(t, "", "stauts"); !strings.Contains(errOut, "Did you mean this? status") {
		t.Errorf("no suggestion: %q", errOut)
	}
}

// Keys and queries accept both spellings of the table form; queries take
// key names for addresses.
func TestOutputSpellingsAndKeyNames(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	_, url := testNode(t, alice)
	t.Setenv(envNode, url)
	if out := mustCLI(t, "", "keys", "show", "alice", "--home", home, "--keyring-backend", "test", "-o", "table"); !strings.Contains(out, alice.String()) {
		t.Fatalf("keys show -o table: %q", out)
	}
	out := mustCLI(t, "", "query", "account", "alice", "--home", home, "--keyring-backend", "test", "-o", "text")
	if !strings.Contains(out, "balance") || strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Fatalf("query account KEY -o text: %q", out)
	}
	acc := decode[api.AccountResponse](t, mustCLI(t, "", "query", "account", "alice", "--home", home, "--keyring-backend", "test", "-o", "json"))
	if acc.Balance == 0 {
		t.Fatalf("query account by key name: %+v", acc)
	}
	code, _, errOut := cli(t, "", "query", "account", "bob", "--home", home, "--keyring-backend", "test")
	if code == 0 || !strings.Contains(errOut, `"bob"`) || !oneLineError(errOut) {
		t.Fatalf("unknown key name: %d %q", code, errOut)
	}
	code, _, errOut = cli(t, "", "query", "validators", "-o", "yaml")
	if code != 2 || !strings.Contains(errOut, "want table (or text) or json") {
		t.Fatalf("-o yaml: %d %q", code, errOut)
	}
}
