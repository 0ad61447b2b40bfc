package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inferd/inferd/contest/contesttest"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/node/api"
)

// A send over the balance is refused before anything is sent: no fee is
// paid and the nonce does not move.
func TestSendOverBalanceIsNotBroadcast(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	_, url := testNode(t, alice)
	before := decode[api.AccountResponse](t, mustCLI(t, "", "query", "account", alice.String(), "--node", url, "-o", "json"))
	code, _, errOut := cli(t, "", "tx", "bank", "send", alice.String(), "1000inf", "--from", "alice", "--home", home, "--keyring-backend", "test", "--node", url)
	if code != 1 || !strings.Contains(errOut, "nothing was sent") || !oneLineError(errOut) {
		t.Fatalf("send over balance: %d %q", code, errOut)
	}
	after := decode[api.AccountResponse](t, mustCLI(t, "", "query", "account", alice.String(), "--node", url, "-o", "json"))
	if after.Balance != before.Balance || after.Nonce != before.Nonce {
		t.Fatalf("a refused send was charged: %+v -> %+v", before.Account, after.Account)
	}
}

// --generate-only, tx sign, tx broadcast; --dry-run then tx broadcast.
func TestOfflineSignAndBroadcast(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	bob := testKey(t, home, "bob")
	_, url := testNode(t, alice)
	dir := t.TempDir()
	k := []string{"--home", home, "--keyring-backend", "test"}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Offline: chain id, nonce and fee given; the node is unreachable.
	unsigned := mustCLI(t, "", append([]string{"tx", "bank", "send", bob.String(), "1inf", "--from", "alice", "--generate-only",
		"--chain-id", "apitest-1", "--nonce", "0", "--fee", "100", "--node", "http://127.0.0.1:1"}, k...)...)
	f := decode[txFile](t, unsigned)
	if f.Kind != txFileUnsigned || f.Body.Sender != alice || f.Body.Msgs[0].Type != bank.MsgTypeSend {
		t.Fatalf("unsigned file: %s", unsigned)
	}
	uPath := write("unsigned.json", unsigned)
	code, _, errOut := cli(t, "", append([]string{"tx", "sign", uPath, "--from", "bob"}, k...)...)
	if code != 2 || !strings.Contains(errOut, "sign with the sender's key") {
		t.Fatalf("sign with the wrong key: %d %q", code, errOut)
	}
	code, _, errOut = cli(t, "", "tx", "broadcast", uPath, "--node", url)
	if code != 2 || !strings.Contains(errOut, "inferd tx sign FILE") {
		t.Fatalf("broadcast of an unsigned file: %d %q", code, errOut)
	}
	signed := mustCLI(t, "", append([]string{"tx", "sign", uPath, "--from", "alice", "--node", "http://127.0.0.1:1"}, k...)...)
	sPath := write("signed.json", signed)
	r := decode[broadcastResult](t, mustCLI(t, "", "tx", "broadcast", sPath, "--node", url, "-o", "json"))
	if r.Result == nil || !r.Result.OK || r.Height == 0 {
		t.Fatalf("broadcast: %+v", r)
	}
	// --dry-run: signed and printed, not sent; the file broadcasts later.
	dry := mustCLI(t, "", append([]string{"tx", "bank", "send", bob.String(), "2inf", "--from", "alice", "--dry-run", "--node", url}, k...)...)
	df := decode[txFile](t, dry)
	if df.Kind != txFileSigned || len(df.Hash) != 32 || df.Body.Nonce != 1 {
		t.Fatalf("dry run: %s", dry)
	}
	if acc := decode[api.AccountResponse](t, mustCLI(t, "", "query", "account", bob.String(), "--node", url, "-o", "json")); acc.Balance != 1_000_000 {
		t.Fatalf("--dry-run sent the tx: bob has %d", acc.Balance)
	}
	r = decode[broadcastResult](t, mustCLI(t, "", "tx", "broadcast", write("dry.json", dry), "--node", url, "-o", "json"))
	if !r.Result.OK || hexText(r.Hash) != hexText(df.Hash) {
		t.Fatalf("broadcast of the dry run: %+v", r)
	}
	code, _, errOut = cli(t, "", append([]string{"tx", "bank", "send", bob.String(), "1", "--from", "alice", "--dry-run", "--generate-only", "--node", url}, k...)...)
	if code != 2 || !strings.Contains(errOut, "choose one") {
		t.Fatalf("--dry-run --generate-only: %d %q", code, errOut)
	}
}

// A commit outside the commit window is refused before it is sent, and
// leaves no salt file; --wait-for-window waits for the next round's.
func TestContestCommitWindow(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	me := testKey(t, home, "me")
	n := contesttest.New(t)
	cn := &contestNode{n: n, txs: map[[32]byte]api.TxView{}}
	h := api.NewHandler(cn, nil)
	var advance atomic.Bool // each look at the contest moves the chain one block
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if advance.Load() && r.Method == http.MethodGet && r.URL.Path == "/contests/1" {
			cn.mu.Lock()
			n.Block()
			cn.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	n.Block(n.Tx(n.Builders[0], ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: me, Amount: 100 * ledger.UinfPerINF})))
	var ri contest.RoundInfo
	n.C.Query(n.Height, func(ctx *ledger.Context) error { d, _ := n.C.Contest.Contest(ctx, 1); ri = d.Round; return nil })
	n.To(ri.Commit.End) // the next block is past the window
	balance := func() uint64 {
		var b uint64
		n.C.Query(n.Height, func(ctx *ledger.Context) error { b = n.C.Bank.Balance(ctx, me); return nil })
		return b
	}
	before := balance()
	args := []string{"tx", "contest", "commit", "--contest", "1", "--model", contesttest.CID("m").String(), "--from", "me", "--home", home, "--keyring-backend", "test", "--node", srv.URL, "-o", "json"}
	code, _, errOut := cli(t, "", args...)
	if code != 1 || !strings.Contains(errOut, "commit window") || !strings.Contains(errOut, "--wait-for-window") || !oneLineError(errOut) {
		t.Fatalf("commit outside the window: %d %q", code, errOut)
	}
	if files, _ := filepath.Glob(filepath.Join(home, "contest-salts", "*")); len(files) != 0 || balance() != before {
		t.Fatalf("a refused commit left salts %v or was charged (%d -> %d)", files, before, balance())
	}
	old := windowPoll
	windowPoll = time.Millisecond
	defer func() { windowPoll = old }()
	advance.Store(true)
	code, out, errOut := cli(t, "", append(args, "--wait-for-window")...)
	if code != 0 || !strings.Contains(errOut, "waiting:") {
		t.Fatalf("--wait-for-window: %d %q", code, errOut)
	}
	r := decode[broadcastResult](t, out)
	if !r.Result.OK {
		t.Fatalf("commit after waiting: %+v", r.Result)
	}
	if files, _ := filepath.Glob(filepath.Join(home, "contest-salts", "1-"+strconv.FormatUint(ri.Round+1, 10)+"-*")); len(files) != 1 {
		t.Fatalf("salt of the next round's commit: %v", files)
	}
}
