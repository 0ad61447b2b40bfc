package main

import (
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
)

func TestStatusAndBlock(t *testing.T) {
	clearEnv(t)
	b, url := testNode(t)
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	st := decode[map[string]any](t, mustCLI(t, "", "status", "--node", url, "-o", "json"))
	for _, k := range []string{"chain_id", "height", "block_hash", "app_hash", "peers"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status -o json lacks %q", k)
		}
	}
	if st["height"] != float64(1) {
		t.Fatalf("status %v", st)
	}
	// The default output off a terminal is JSON.
	blk := decode[map[string]any](t, mustCLI(t, "", "query", "block", "1", "--node", url))
	for _, k := range []string{"hash", "app_hash", "height", "time", "txs"} {
		if _, ok := blk[k]; !ok {
			t.Errorf("query block 1 -o json lacks %q", k)
		}
	}
	if blk["hash"] != strings.ToLower(hexText(b.Status().BlockHash)) {
		t.Fatalf("block hash %v", blk["hash"])
	}
	out := mustCLI(t, "", "status", "--node", url, "-o", "table")
	if !strings.Contains(out, "chain id:") || !strings.Contains(out, "apitest-1") {
		t.Fatalf("status table:\n%s", out)
	}
	mustCLI(t, "", "query", "block", "latest", "--node", url, "-o", "table")
}

func TestQueries(t *testing.T) {
	clearEnv(t)
	var a keys.Address
	a[0] = 1
	b, url := testNode(t, a)
	t.Setenv(envNode, url)
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"json", "table"} {
		for _, q := range [][]string{
			{"validators"}, {"account", a.String()}, {"delegations", b.Operator.String()}, {"unbondings", a.String()},
			{"proposals"}, {"gauge"}, {"pools"}, {"supply"}, {"params"}, {"supply", "--height", "0"},
		} {
			mustCLI(t, "", append(append([]string{"query"}, q...), "-o", o)...)
		}
	}
	out := mustCLI(t, "", "query", "validators", "-o", "table")
	if !strings.Contains(out, "val-0") || !strings.Contains(out, "active") {
		t.Fatalf("validators table:\n%s", out)
	}
	acc := decode[map[string]any](t, mustCLI(t, "", "query", "account", a.String(), "--height", "0"))
	if acc["height"] != float64(0) {
		t.Fatalf("account at 0: %v", acc)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad address", []string{"query", "account", "inf1bad"}, 2, "invalid address"},
		{"future height", []string{"query", "supply", "--height", "9"}, 1, "not committed yet"},
		{"bad height", []string{"query", "supply", "--height", "x"}, 2, "--height"},
		{"no block", []string{"query", "block", "7"}, 1, "not committed yet"},
		{"bad block", []string{"query", "block", "x"}, 2, "latest"},
		{"no tx", []string{"query", "tx", strings.Repeat("AB", 32)}, 1, "not committed"},
		{"bad hash", []string{"query", "tx", "xyz"}, 2, "64 hex"},
		{"no proposal", []string{"query", "proposals", "3"}, 1, "unknown proposal"},
		{"bad output", []string{"query", "supply", "-o", "yaml"}, 2, "want table (or text) or json"},
		{"bad node", []string{"query", "supply", "--node", "ftp://x"}, 2, "--node"},
		{"unreachable", []string{"status", "--node", "http://127.0.0.1:1"}, 1, "cannot reach the node"},
		{"unknown", []string{"query", "nothing"}, 2, "unknown command"},
	}
	for _, c := range cases {
		code, _, errOut := cli(t, "", c.args...)
		if code != c.code || !oneLineError(errOut) || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d, one line containing %q", c.name, code, errOut, c.code, c.want)
		}
	}
}
