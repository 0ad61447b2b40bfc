package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/inferd/inferd/contest/contesttest"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/node/api"
)

// contestNode is an api.Backend over a contesttest chain: each submitted
// transaction is committed at once in a block of its own.
type contestNode struct {
	n   *contesttest.Net
	mu  sync.Mutex
	txs map[[32]byte]api.TxView
}

func (b *contestNode) Status() api.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return api.Status{ChainID: contesttest.ChainID, Height: b.n.Height}
}
func (b *contestNode) Chain() *chain.Chain { return b.n.C }
func (b *contestNode) LatestHeight() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n.Height
}
func (b *contestNode) Block(h uint64) (api.BlockView, error) { return api.BlockView{Height: h}, nil }
func (b *contestNode) Tx(hash [32]byte) (api.TxView, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.txs[hash]; ok {
		return v, nil
	}
	return api.TxView{}, api.ErrNotFound
}
func (b *contestNode) SubmitTx(raw []byte) ([32]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	res := b.n.Apply(raw)
	v := api.NewTxView(raw, b.n.Height, 0, res.Txs[0])
	b.txs[ledger.HashTx(raw)] = v
	return ledger.HashTx(raw), nil
}
func (b *contestNode) SubscribeBlocks() (<-chan api.BlockView, func()) {
	ch := make(chan api.BlockView)
	close(ch)
	return ch, func() {}
}

func contestTestNode(t *testing.T) (*contesttest.Net, string) {
	n := contesttest.New(t)
	srv := httptest.NewServer(api.NewHandler(&contestNode{n: n, txs: map[[32]byte]api.TxView{}}, nil))
	t.Cleanup(srv.Close)
	return n, srv.URL
}

const exampleSpec = "../../contest/spec/example.toml"

func TestContestValidate(t *testing.T) {
	clearEnv(t)
	out := mustCLI(t, "", "contest", "validate", exampleSpec)
	if !strings.Contains(out, "valid contest spec") {
		t.Fatalf("%s", out)
	}
	raw, err := os.ReadFile(exampleSpec)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.NewReplacer(`designer_ppm = "10%"`, `designer_ppm = "9%"`, `builtin = "mlp-accuracy"`, `builtin = "bleu"`,
		`name = "mnist-mlp"`, ``, `cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"`, `cid = "nope"`).Replace(string(raw))
	path := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(path, []byte(bad), 0o600)
	code, out, errOut := cli(t, "", "contest", "validate", path)
	if code != 1 || !oneLineError(errOut) || !strings.Contains(errOut, "4 problem(s)") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, want := range []string{"name: missing", "evaluator.builtin: unknown evaluator \"bleu\"", "datasets[0].cid:",
		"split: builders_ppm + designer_ppm + validators_ppm = 990000, want 1000000"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := cli(t, "", "contest", "validate"); code != 2 {
		t.Errorf("no argument: exit %d", code)
	}
	out = mustCLI(t, "", "contest", "seal", contesttest.CID("x").String())
	if !strings.Contains(out, "commitment = ") || !strings.Contains(out, "salt") {
		t.Errorf("seal: %s", out)
	}
}

func TestContestQueries(t *testing.T) {
	clearEnv(t)
	n, url := contestTestNode(t)
	t.Setenv(envNode, url)
	list := decode[map[string]any](t, mustCLI(t, "", "query", "contests", "-o", "json"))
	cs := list["contests"].([]any)
	if len(cs) != 1 || cs[0].(map[string]any)["id"] != float64(1) {
		t.Fatalf("contests: %v", list)
	}
	d := decode[map[string]any](t, mustCLI(t, "", "query", "contest", "1", "-o", "json"))
	lb := d["leaderboard"].([]any)
	if d["id"] != float64(1) || lb[0].(map[string]any)["agreed_score"] != float64(contesttest.ScoreA) {
		t.Fatalf("contest: %v", d)
	}
	subs := decode[api.SubmissionsResponse](t, mustCLI(t, "", "query", "submissions", "1", "--round", "1", "-o", "json"))
	if subs.Round != 1 || len(subs.Submissions) != 2 || *subs.Submissions[0].AgreedScore != contesttest.ScoreA {
		t.Fatalf("submissions: %+v", subs)
	}
	for _, q := range [][]string{{"contests"}, {"contest", "1"}, {"submissions", "1"}} {
		out := mustCLI(t, "", append(append([]string{"query"}, q...), "-o", "table")...)
		if len(out) == 0 {
			t.Errorf("%v: empty table", q)
		}
	}
	out := mustCLI(t, "", "query", "contest", "1", "-o", "table")
	if !strings.Contains(out, "LEADERBOARD") || !strings.Contains(out, fmtScore(contesttest.ScoreA)) || !strings.Contains(out, n.ModelA.String()) {
		t.Errorf("contest table:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"query", "contest", "7"}, 1, "no contest 7"},
		{[]string{"query", "contest", "x"}, 2, "positive integer"},
		{[]string{"query", "submissions", "1", "--round", "x"}, 2, "--round"},
	} {
		code, _, errOut := cli(t, "", c.args...)
		if code != c.code || !oneLineError(errOut) || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q", c.args, code, errOut)
		}
	}
}

// TestContestTx: propose and retire through the CLI; commit (salt saved)
// then reveal (salt read back) in the open round.
func TestContestTx(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	me := testKey(t, home, "me")
	n, url := contestTestNode(t)
	t.Setenv(envNode, url)
	n.Block(n.Tx(n.Builders[0], ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: me, Amount: 100 * ledger.UinfPerINF})))
	tx := func(args ...string) []string {
		return append(append([]string{"tx", "contest"}, args...), "--from", "me", "--home", home, "--keyring-backend", "test", "-o", "json")
	}
	model := contesttest.CID("my model").String()
	r := decode[broadcastResult](t, mustCLI(t, "", tx("commit", "--contest", "1", "--model", model)...))
	if !r.Result.OK {
		t.Fatalf("commit: %+v", r.Result)
	}
	files, _ := filepath.Glob(filepath.Join(home, "contest-salts", "*.hex"))
	if len(files) != 1 {
		t.Fatalf("saved salts: %v", files)
	}
	var ri contest.RoundInfo
	n.C.Query(n.Height, func(ctx *ledger.Context) error { d, _ := n.C.Contest.Contest(ctx, 1); ri = d.Round; return nil })
	n.To(ri.Reveal.Start - 1)
	r = decode[broadcastResult](t, mustCLI(t, "", tx("reveal", "--contest", "1", "--model", model, "--round", fmt.Sprint(ri.Round))...))
	if !r.Result.OK {
		t.Fatalf("reveal: %+v", r.Result)
	}
	subs := decode[api.SubmissionsResponse](t, mustCLI(t, "", "query", "submissions", "1", "-o", "json"))
	found := false
	for _, s := range subs.Submissions {
		found = found || (s.Builder == me && s.Model == model && s.Status == contest.StatusRevealed)
	}
	if !found {
		t.Fatalf("my submission: %+v", subs.Submissions)
	}
	// A reveal without a commit is refused by the ledger.
	code, _, errOut := cli(t, "", tx("reveal", "--contest", "1", "--model", contesttest.CID("other").String(), "--salt", strings.Repeat("ab", 32))...)
	if code != 1 || !strings.Contains(errOut, "no matching commit") {
		t.Errorf("reveal without commit: exit %d %s", code, errOut)
	}

	r = decode[broadcastResult](t, mustCLI(t, "", tx("propose", exampleSpec, "--deposit", "1000")...))
	if !r.Result.OK {
		t.Fatalf("propose: %+v", r.Result)
	}
	r = decode[broadcastResult](t, mustCLI(t, "", tx("retire", "1", "--deposit", "1000")...))
	if !r.Result.OK {
		t.Fatalf("retire: %+v", r.Result)
	}
	props := decode[api.ProposalsResponse](t, mustCLI(t, "", "query", "proposals", "-o", "json"))
	if len(props.Proposals) != 3 || props.Proposals[1].Content.Kind != contest.KindCreate || props.Proposals[2].Content.Kind != contest.KindRetire {
		t.Fatalf("proposals: %+v", props.Proposals)
	}
	if code, _, errOut := cli(t, "", tx("propose", exampleSpec)...); code != 2 || !strings.Contains(errOut, "--deposit") {
		t.Errorf("propose without deposit: %d %s", code, errOut)
	}
	if code, _, _ := cli(t, "", tx("commit", "--contest", "1", "--model", "bad")...); code != 2 {
		t.Errorf("bad model: %d", code)
	}
}
