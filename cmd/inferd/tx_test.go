package main

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

// testNode serves the API over an apitest backend whose genesis funds the
// given addresses; submitted transactions are committed at once.
func testNode(t *testing.T, funded ...keys.Address) (*apitest.Backend, string) {
	t.Helper()
	b := apitest.New(t, funded...)
	srv := httptest.NewServer(api.NewHandler(b, nil))
	t.Cleanup(srv.Close)
	return b, srv.URL
}

// testKey adds a test-backend key to home and returns its address.
func testKey(t *testing.T, home, name string) keys.Address {
	t.Helper()
	var info keysInfoJSON
	out := mustCLI(t, "", "keys", "add", name, "--home", home, "--keyring-backend", "test", "-o", "json")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("keys add: %v: %s", err, out)
	}
	a, err := keys.ParseAddress(info.Address)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return v
}

func TestTxEndToEnd(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	bob := testKey(t, home, "bob")
	b, url := testNode(t, alice)
	t.Setenv(envNode, url)
	tx := func(args ...string) []string {
		return append(append([]string{"tx"}, args...), "--from", "alice", "--home", home, "--keyring-backend", "test", "-o", "json")
	}

	r := decode[broadcastResult](t, mustCLI(t, "", tx("bank", "send", bob.String(), "2.5inf")...))
	if r.Height != 1 || r.Result == nil || !r.Result.OK || r.Tx == nil || r.Tx.Body.Fee != apitest.MinFee {
		t.Fatalf("send: %+v", r)
	}
	acc := decode[api.AccountResponse](t, mustCLI(t, "", "query", "account", bob.String(), "-o", "json"))
	if acc.Balance != 2_500_000 {
		t.Fatalf("bob's balance %d", acc.Balance)
	}
	// A key name as the recipient; explicit fee and memo; --async.
	r = decode[broadcastResult](t, mustCLI(t, "", tx("bank", "send", "bob", "1", "--fee", "150uinf", "--memo", "hi", "--async")...))
	if len(r.Hash) != 32 || r.Height != 0 {
		t.Fatalf("async: %+v", r)
	}
	tv := decode[api.TxView](t, mustCLI(t, "", "query", "tx", hexText(r.Hash), "-o", "json"))
	if tv.Height != 2 || tv.Body.Memo != "hi" || tv.Body.Fee != 150 || !tv.Result.OK {
		t.Fatalf("query tx: %+v", tv)
	}
	// Staking, gauge and governance.
	op := b.Operator.String()
	mustCLI(t, "", tx("staking", "delegate", op, "10inf")...)
	mustCLI(t, "", tx("gauge", "set", "compute=2")...)
	mustCLI(t, "", tx("gov", "submit-proposal", "--title", "fee", "--description", "raise it", "--param-change", "bank.min_fee=200", "--deposit", "10inf")...)
	mustCLI(t, "", tx("gov", "vote", "1", "yes")...)
	mustCLI(t, "", tx("staking", "redelegate", op, op, "1inf", "--async")...) // accepted, fails in its block
	mustCLI(t, "", tx("staking", "undelegate", op, "1inf")...)
	prop := decode[api.ProposalResponse](t, mustCLI(t, "", "query", "proposals", "1", "-o", "json"))
	if prop.Status != "voting_period" || len(prop.Votes) != 1 || prop.Content.Kind != "param_change" {
		t.Fatalf("proposal: %+v", prop)
	}
	g := decode[api.GaugeResponse](t, mustCLI(t, "", "query", "gauge", "-o", "json"))
	if len(g.Voters) != 1 {
		t.Fatalf("gauge: %+v", g)
	}
	ubd := decode[api.UnbondingsResponse](t, mustCLI(t, "", "query", "unbondings", alice.String(), "-o", "json"))
	if len(ubd.Unbondings) != 1 {
		t.Fatalf("unbondings: %+v", ubd)
	}

	// Failures: one line each, the ledger's message, non-zero exit.
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"over the balance", tx("bank", "send", bob.String(), "5000inf"), 1, "needs 5000.0001 INF (0.0001 INF fee); nothing was sent"},
		{"wrong nonce", tx("bank", "send", bob.String(), "1", "--nonce", "99"), 1, "wrong nonce"},
		{"low fee", tx("bank", "send", bob.String(), "1", "--fee", "1"), 1, "fee below minimum"},
		{"wrong chain", tx("bank", "send", bob.String(), "1", "--chain-id", "other-1"), 1, "wrong chain id"},
		{"jailed", tx("staking", "unjail"), 1, "unknown validator"},
		{"bad vote", tx("gov", "vote", "1", "maybe"), 2, "invalid vote option"},
		{"bad recipient", tx("bank", "send", "inf1xyz", "1"), 2, "recipient"},
		{"bad amount", tx("bank", "send", bob.String(), "1.5"), 2, "fraction"},
		{"no from", []string{"tx", "bank", "send", bob.String(), "1"}, 2, "--from"},
		{"unknown key", append(tx("bank", "send", bob.String(), "1"), "--from", "carol"), 1, "carol"},
		{"bad param change", tx("gov", "submit-proposal", "--title", "t", "--description", "d", "--deposit", "1inf", "--param-change", "x"), 2, "module.key=JSON"},
		{"bad gauge", tx("gauge", "set", "compute"), 2, "MODULE=WEIGHT"},
		{"unreachable", append(tx("bank", "send", bob.String(), "1"), "--node", "http://127.0.0.1:1"), 1, "cannot reach the node"},
	}
	for _, c := range cases {
		code, _, errOut := cli(t, "", c.args...)
		if code != c.code || !oneLineError(errOut) || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d, one line containing %q", c.name, code, errOut, c.code, c.want)
		}
	}
}

func TestTxTableOutput(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	_, url := testNode(t, alice)
	out := mustCLI(t, "", "tx", "bank", "send", alice.String(), "1inf", "--from", "alice", "--home", home, "--keyring-backend", "test", "--node", url, "-o", "table")
	for _, want := range []string{"hash:", "height:", "result:", "ok", "bank/send"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
}
