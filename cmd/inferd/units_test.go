package main

import (
	"math"
	"strings"
	"testing"
)

func TestFmtScore(t *testing.T) {
	for in, want := range map[int64]string{930000: "0.9300", 0: "0.0000", 1_000_000: "1.0000", 1_234_567: "1.234567",
		-1500: "-0.0015", 626_700: "0.6267", 100: "0.0001", 7: "0.000007", math.MinInt64: "-9223372036854.775808"} {
		if got := fmtScore(in); got != want {
			t.Errorf("fmtScore(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestFmtAttrAndOps(t *testing.T) {
	for _, c := range [][3]string{
		{"amount", "2500000", "amount=2.5 INF"},
		{"completion_time", "1769040012000000000", "completion_time=2026-01-22T00:00:12Z"},
		{"until", "1200", "until=1200"}, // a provider's jail: a height
		{"best", "930000", "best=0.9300"},
		{"contest", "1", "contest=1"},
		{"to", "inf1xyz", "to=inf1xyz"},
	} {
		if got := fmtAttr(c[0], c[1]); got != c[2] {
			t.Errorf("fmtAttr(%s, %s) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	for in, want := range map[uint64]string{999: "999", 34_359_738_368: "34.36 G", 2_000_000: "2.00 M"} {
		if got := fmtOps(in); got != want {
			t.Errorf("fmtOps(%d) = %q, want %q", in, got, want)
		}
	}
}

// Tables print amounts in INF and hashes in the JSON's lower case.
func TestTxTableUnits(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	bob := testKey(t, home, "bob")
	_, url := testNode(t, alice)
	out := mustCLI(t, "", "tx", "bank", "send", bob.String(), "2.5inf", "--from", "alice", "--home", home, "--keyring-backend", "test", "--node", url, "-o", "table")
	if !strings.Contains(out, "amount=2.5 INF") || strings.Contains(out, "amount=2500000") {
		t.Fatalf("tx table shows raw uinf:\n%s", out)
	}
	blk := mustCLI(t, "", "query", "block", "1", "--node", url, "-o", "table")
	if l := hashLine(blk); l == "" || strings.ContainsAny(l, "ABCDEF") {
		t.Fatalf("block table hash not lower case:\n%s", blk)
	}
}

func hashLine(table string) string {
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "hash:") {
			return l
		}
	}
	return ""
}

// A block's table names its proposer by moniker and operator, and each tx
// by its message types and sender.
func TestBlockTableNamesTxsAndProposer(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	b, url := testNode(t, alice)
	mustCLI(t, "", "tx", "bank", "send", b.Operator.String(), "1inf", "--from", "alice", "--home", home, "--keyring-backend", "test", "--node", url)
	out := mustCLI(t, "", "query", "block", "1", "--node", url, "-o", "table")
	if !strings.Contains(out, "operator "+b.Operator.String()) || !strings.Contains(out, "bank/send") || !strings.Contains(out, "from "+alice.String()) {
		t.Fatalf("block table:\n%s", out)
	}
}

// query overview gathers an account's balance, stake and roles.
func TestQueryOverview(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	b, url := testNode(t, alice)
	tx := func(args ...string) {
		mustCLI(t, "", append(args, "--from", "alice", "--home", home, "--keyring-backend", "test", "--node", url)...)
	}
	tx("tx", "staking", "delegate", b.Operator.String(), "10inf")
	o := decode[overview](t, mustCLI(t, "", "query", "overview", "alice", "--home", home, "--keyring-backend", "test", "--node", url, "-o", "json"))
	if o.Address != alice || o.Delegated != 10_000_000 || o.Balance == 0 || o.Total != o.Balance+o.Delegated || o.Validator != nil || o.Provider != nil {
		t.Fatalf("overview of alice: %+v", o)
	}
	op := decode[overview](t, mustCLI(t, "", "query", "overview", b.Operator.String(), "--node", url, "-o", "json"))
	if op.Validator == nil || op.Validator.Operator != b.Operator {
		t.Fatalf("overview of the operator: %+v", op)
	}
	table := mustCLI(t, "", "query", "overview", b.Operator.String(), "--node", url, "-o", "table")
	for _, want := range []string{"balance:", "delegated:", "validator:", "active", "provider:", "contest submissions:", "jobs:"} {
		if !strings.Contains(table, want) {
			t.Fatalf("overview table lacks %q:\n%s", want, table)
		}
	}
}
