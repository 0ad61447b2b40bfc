package api_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/contest/contesttest"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

// fetch returns the status, content type and body of GET path.
func (f *fixture) fetch(method, path string) (int, http.Header, string) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// The page and every file it loads (found by following its <script>,
// <link> and import statements) are served with the right content type;
// unknown files and API paths still get JSON errors.
func TestExplorerFiles(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/", "/explorer", "/explorer/", "/explorer/index.html"} {
		code, hdr, body := f.fetch("GET", p)
		if code != 200 || hdr.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(body, `src="/explorer/js/app.js"`) {
			t.Fatalf("GET %s: %d %q %.80s", p, code, hdr.Get("Content-Type"), body)
		}
		if !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'self'") || hdr.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s: headers %v", p, hdr)
		}
	}
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	ref := regexp.MustCompile(`(?:src|href)="(/explorer/[^"]+)"|from '\./([^']+)'`)
	queue := []string{"/explorer/index.html"}
	seen := map[string]bool{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		code, hdr, body := f.fetch("GET", p)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", p, code, body)
		}
		for ext, ct := range want {
			if strings.HasSuffix(p, ext) && hdr.Get("Content-Type") != ct {
				t.Fatalf("GET %s: content type %q, want %q", p, hdr.Get("Content-Type"), ct)
			}
		}
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			if m[1] != "" {
				queue = append(queue, m[1])
			} else {
				queue = append(queue, p[:strings.LastIndex(p, "/")+1]+m[2])
			}
		}
	}
	for _, p := range []string{"/explorer/js/app.js", "/explorer/js/util.js", "/explorer/js/chart.js", "/explorer/style.css", "/explorer/favicon.svg"} {
		if !seen[p] {
			t.Errorf("%s is not reached from the page (seen: %v)", p, seen)
		}
	}
	if code, hdr, body := f.fetch("HEAD", "/"); code != 200 || hdr.Get("Content-Type") != "text/html; charset=utf-8" || body != "" {
		t.Fatalf("HEAD /: %d %v %q", code, hdr, body)
	}
	f.wantError("/explorer/nope.js", 404, "not_found")
	f.wantError("/explorer/js", 404, "not_found")
	if code, _, body := f.fetch("GET", "/explorer/%2e%2e/go.mod"); code != 404 || strings.Contains(body, "module github.com") {
		t.Fatalf("GET /explorer/%%2e%%2e/go.mod: %d %.80s", code, body)
	}
	f.wantError("/nope", 404, "unknown_endpoint")
	if code, hdr, _ := f.fetch("POST", "/"); code != 405 || hdr.Get("Allow") != "GET" {
		t.Fatalf("POST /: %d %v", code, hdr)
	}
}

func TestHistory(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 8; i++ { // heights 3..10, one fee burned in each
		if _, err := f.b.Commit(f.tx(ledger.NewMsg("bank/send", map[string]any{}))); err != nil {
			t.Fatal(err)
		}
	}
	var r api.HistoryResponse[api.SupplyPoint]
	f.get("/history/supply", 200, &r)
	if r.From != 1 || r.To != 10 || len(r.Points) != 10 {
		t.Fatalf("default range: %+v", r)
	}
	for _, p := range r.Points {
		var s api.SupplyResponse
		f.get(fmt.Sprintf("/supply?height=%d", p.Height), 200, &s)
		if s.Supply != p.Supply || !p.Time.Equal(apitest.GenesisTime.Add(6e9*time.Duration(p.Height))) {
			t.Fatalf("point %+v, /supply %+v", p, s.Supply)
		}
	}
	if r.Points[9].Burned <= r.Points[2].Burned {
		t.Fatalf("burned did not grow: %+v", r.Points)
	}
	f.get("/history/supply?from=2&to=9&points=3", 200, &r)
	if got := heights(r.Points); got != "2 5 9" && got != "2 6 9" {
		t.Fatalf("3 points in 2..9: %s", got)
	}
	f.get("/history/supply?points=1", 200, &r)
	if heights(r.Points) != "10" {
		t.Fatalf("1 point: %s", heights(r.Points))
	}
	f.get(fmt.Sprintf("/history/supply?from=0&points=%d", api.MaxHistoryPoints), 200, &r)
	if len(r.Points) != 11 || r.Points[0].Height != 0 || !r.Points[0].Time.IsZero() {
		t.Fatalf("from genesis: %s", heights(r.Points))
	}
	f.wantError("/history/supply?points=0", 400, "bad_points")
	f.wantError(fmt.Sprintf("/history/supply?points=%d", api.MaxHistoryPoints+1), 400, "bad_points")
	f.wantError("/history/supply?from=9&to=3", 400, "bad_height")
	f.wantError("/history/supply?to=11", 404, "height_not_found")
	f.wantError("/history/gauge?from=x", 400, "bad_height")

	var g api.HistoryResponse[api.GaugePoint]
	f.get("/history/gauge?from=1&to=2", 200, &g)
	if len(g.Points) != 2 || len(g.Points[0].Modules) != 1 || g.Points[0].TotalWeight != 0 ||
		g.Points[1].TotalWeight == 0 || g.Points[1].Modules[0].Module != "compute" || g.Points[1].Modules[0].SharePPM != ledger.PPMOne {
		t.Fatalf("gauge history: %+v", g)
	}
}

func heights(ps []api.SupplyPoint) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprint(p.Height))
	}
	return strings.Join(s, " ")
}

func TestBlockListAndAccountTxs(t *testing.T) {
	f := newFixture(t)
	var bl api.BlocksResponse
	f.get("/blocks", 200, &bl)
	if len(bl.Blocks) != 2 || bl.Blocks[0].Height != 2 || bl.Blocks[1].Height != 1 || len(bl.Blocks[0].Txs) != 1 {
		t.Fatalf("blocks: %+v", bl)
	}
	f.get("/blocks?to=1&limit=5", 200, &bl)
	if len(bl.Blocks) != 1 || bl.Blocks[0].Height != 1 {
		t.Fatalf("to=1: %+v", bl)
	}
	f.get("/blocks?limit=1", 200, &bl)
	if len(bl.Blocks) != 1 || bl.Blocks[0].Height != 2 {
		t.Fatalf("limit=1: %+v", bl)
	}
	f.wantError(fmt.Sprintf("/blocks?limit=%d", api.MaxBlocksListed+1), 400, "bad_limit")
	f.wantError("/blocks?to=-1", 400, "bad_height")

	var at api.AccountTxsResponse
	f.get("/accounts/"+f.aliceA.String()+"/txs", 200, &at)
	if len(at.Txs) != 2 || at.Txs[0].Height != 2 || at.Txs[1].Height != 1 || at.Txs[0].Sender != f.aliceA ||
		len(at.Txs[0].Types) != 3 || at.Txs[1].Types[0] != "bank/send" || !at.Txs[0].OK || at.NextBefore != 0 || at.ScannedFrom != 1 || at.ScannedTo != 2 {
		t.Fatalf("alice: %+v", at)
	}
	f.get("/accounts/"+f.bob.String()+"/txs", 200, &at) // the recipient of the send at height 1
	if len(at.Txs) != 1 || at.Txs[0].Height != 1 {
		t.Fatalf("bob: %+v", at)
	}
	f.get("/accounts/"+f.b.Operator.String()+"/txs", 200, &at) // the validator alice delegated to
	if len(at.Txs) != 1 || at.Txs[0].Height != 2 {
		t.Fatalf("operator: %+v", at)
	}
	f.get("/accounts/"+f.aliceA.String()+"/txs?before=2", 200, &at)
	if len(at.Txs) != 1 || at.Txs[0].Height != 1 {
		t.Fatalf("before=2: %+v", at)
	}
	f.get("/accounts/"+f.aliceA.String()+"/txs?limit=1", 200, &at)
	if len(at.Txs) != 1 || at.Txs[0].Height != 2 || at.NextBefore != 2 {
		t.Fatalf("limit=1: %+v", at)
	}
	f.get("/accounts/"+f.aliceA.String()+"/txs?before=0", 200, &at)
	if len(at.Txs) != 0 || at.NextBefore != 0 {
		t.Fatalf("before=0: %+v", at)
	}
	var nobody keys.Address
	nobody[0] = 9
	f.get("/accounts/"+nobody.String()+"/txs", 200, &at)
	if len(at.Txs) != 0 {
		t.Fatalf("nobody: %+v", at)
	}
	f.wantError("/accounts/inf1bad/txs", 400, "bad_address")
}

func TestUptimeAndEmission(t *testing.T) {
	f := newFixture(t)
	var u api.UptimeResponse
	f.get("/validators/uptime", 200, &u)
	if u.Height != 2 || u.Window == 0 || len(u.Validators) != 1 || u.Validators[0].Operator != f.b.Operator ||
		u.Validators[0].Missed != 0 || u.Validators[0].SignedPPM != ledger.PPMOne {
		t.Fatalf("uptime: %+v", u)
	}
	var e api.EmissionResponse
	f.get("/emission?height=0", 200, &e)
	if e.LastEpoch != nil {
		t.Fatalf("an epoch at genesis: %+v", e.LastEpoch)
	}
	f.wantError("/emission?height=99", 404, "height_not_found")
}

// Messages of every module decode, with byte fields in hex like every
// hash of the API (not base64).
func TestTxMessagesDecoded(t *testing.T) {
	f := newFixture(t)
	root := make([]byte, 32)
	root[0], root[31] = 0xab, 0xcd
	blk, err := f.b.Commit(f.tx(ledger.NewMsg(compute.MsgTypeCommitRoot, compute.MsgCommitRoot{Epoch: 7, Root: root})))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	f.get(fmt.Sprintf("/txs/%x", []byte(blk.Txs[0])), 200, &raw)
	msg := raw["body"].(map[string]any)["msgs"].([]any)[0].(map[string]any)
	v := msg["value"].(map[string]any)
	if msg["type"] != compute.MsgTypeCommitRoot || v["Epoch"] != 7.0 || v["Root"] != fmt.Sprintf("%x", root) {
		t.Fatalf("decoded message: %v", msg)
	}
}

func TestAccountsList(t *testing.T) {
	f := newFixture(t)
	var r api.AccountsResponse
	f.get("/accounts", 200, &r)
	if r.Height != 2 || r.Accounts < 3 || r.Truncated || len(r.Top) != int(r.Accounts) {
		t.Fatalf("accounts: %+v", r)
	}
	for i := 1; i < len(r.Top); i++ {
		if r.Top[i].Balance > r.Top[i-1].Balance {
			t.Fatalf("not largest first: %+v", r.Top)
		}
	}
	var bob api.AccountResponse
	f.get("/accounts/"+f.bob.String(), 200, &bob)
	found := false
	for _, a := range r.Top {
		found = found || (a.Address == f.bob && a.Balance == bob.Balance)
	}
	if !found {
		t.Fatalf("bob (%d) is not listed: %+v", bob.Balance, r.Top)
	}
	f.get("/accounts?limit=1&height=1", 200, &r)
	if len(r.Top) != 1 || r.Height != 1 {
		t.Fatalf("limit=1: %+v", r)
	}
	f.wantError(fmt.Sprintf("/accounts?limit=%d", api.MaxAccountsListed+1), 400, "bad_limit")
}

func TestContestRound(t *testing.T) {
	n := contesttest.New(t)
	srv := httptest.NewServer(api.NewHandler(contestBackend{apitest.New(t), n}, nil))
	t.Cleanup(srv.Close)
	var r api.RoundResponse
	getJSON(t, srv.URL+"/contests/1/rounds/1", http.StatusOK, &r)
	if r.Contest != 1 || r.Round != 1 || !r.Closed || len(r.Submissions) != 2 || len(r.Attestations) == 0 || len(r.Set) == 0 {
		t.Fatalf("round 1: %+v", r)
	}
	for _, a := range r.Attestations {
		if !a.Revealed || len(a.Scores) != len(r.Scored) {
			t.Fatalf("attestation %+v, scored %v", a, r.Scored)
		}
	}
	getJSON(t, srv.URL+"/contests/1/rounds/9", http.StatusOK, &r)
	if r.Phase != "pending" || len(r.Submissions) != 0 || len(r.Attestations) != 0 {
		t.Fatalf("a future round: %+v", r)
	}
	for path, code := range map[string]int{"/contests/1/rounds/0": 400, "/contests/1/rounds/x": 400, "/contests/x/rounds/1": 400, "/contests/2/rounds/1": 404} {
		var e api.Error
		getJSON(t, srv.URL+path, code, &e)
	}
}
