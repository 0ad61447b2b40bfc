package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

type fixture struct {
	t      *testing.T
	b      *apitest.Backend
	srv    *httptest.Server
	m      *api.Metrics
	alice  keys.PrivKey
	aliceA keys.Address
	bob    keys.Address
	nonce  uint64
}

// newFixture starts the API over a chain where alice sent bob 1 INF at
// height 1 and delegated to the validator, voted on a gauge and submitted
// a proposal at height 2.
func newFixture(t *testing.T) *fixture {
	r := rand.New(rand.NewSource(7))
	pa, alice, _ := keys.Generate(r)
	pb, _, _ := keys.Generate(r)
	f := &fixture{t: t, alice: alice, aliceA: keys.AddressOf(pa), bob: keys.AddressOf(pb)}
	f.b = apitest.New(t, f.aliceA)
	f.m = api.NewMetrics()
	f.srv = httptest.NewServer(api.NewHandler(f.b, f.m))
	t.Cleanup(f.srv.Close)
	if _, err := f.b.Commit(f.tx(ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: f.bob, Amount: ledger.UinfPerINF}))); err != nil {
		t.Fatal(err)
	}
	content := gov.Content{Kind: gov.KindText}
	if _, err := f.b.Commit(f.tx(
		ledger.NewMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: f.b.Operator, Amount: 5 * ledger.UinfPerINF}),
		ledger.NewMsg(emission.MsgTypeSetGauge, emission.MsgSetGauge{Weights: []emission.GaugeWeight{{Module: "compute", Weight: 1}}}),
		ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "t", Description: "d", Content: content, InitialDeposit: 10 * ledger.UinfPerINF}),
	)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) tx(msgs ...ledger.Msg) []byte {
	_, raw := ledger.SignTx(apitest.ChainID, f.alice, f.nonce, apitest.MinFee, "", msgs...)
	f.nonce++
	return raw
}

// get fetches path and decodes the JSON body into out (when not nil).
func (f *fixture) get(path string, wantCode int, out any) []byte {
	f.t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.check(resp, "GET "+path, wantCode, out)
}

func (f *fixture) check(resp *http.Response, what string, wantCode int, out any) []byte {
	f.t.Helper()
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantCode {
		f.t.Fatalf("%s: HTTP %d, want %d: %s", what, resp.StatusCode, wantCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/plain") {
		f.t.Fatalf("%s: content type %q", what, ct)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			f.t.Fatalf("%s: %v: %s", what, err, body)
		}
	}
	return body
}

// wantError checks an error response's shape.
func (f *fixture) wantError(path string, code int, name string) api.Error {
	f.t.Helper()
	var e api.Error
	f.get(path, code, &e)
	if e.Code != code || e.Err != name || e.Message == "" {
		f.t.Fatalf("GET %s: error %+v, want code %d %q with a message", path, e, code, name)
	}
	return e
}

func TestStatusBlocksTxs(t *testing.T) {
	f := newFixture(t)
	var raw map[string]any
	f.get("/status", 200, &raw)
	for _, k := range []string{"chain_id", "height", "block_hash", "app_hash", "block_time", "peers", "node_id", "moniker", "catching_up", "validator"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("/status lacks %q: %v", k, raw)
		}
	}
	var st api.Status
	f.get("/status", 200, &st)
	if st.Height != 2 || st.ChainID != apitest.ChainID || len(st.BlockHash) != 32 {
		t.Fatalf("status %+v", st)
	}
	var latest, b1 api.BlockView
	f.get("/blocks/latest", 200, &latest)
	if latest.Height != 2 || !bytes.Equal(latest.Hash, st.BlockHash) || latest.NumTxs != 1 {
		t.Fatalf("latest block %+v", latest)
	}
	f.get("/blocks/1", 200, &b1)
	if b1.Height != 1 || len(b1.Txs) != 1 || len(b1.AppHash) != 32 || !bytes.Equal(latest.LastBlockHash, b1.Hash) {
		t.Fatalf("block 1 %+v", b1)
	}
	var tv api.TxView
	f.get(fmt.Sprintf("/txs/%x", []byte(b1.Txs[0])), 200, &tv)
	if tv.Height != 1 || !tv.Result.OK || tv.Body == nil || tv.Body.Sender != f.aliceA || tv.Body.Msgs[0].Type != bank.MsgTypeSend {
		t.Fatalf("tx %+v", tv)
	}
	if h := ledger.HashTx(tv.Tx); !bytes.Equal(h[:], b1.Txs[0]) {
		t.Fatal("tx bytes do not hash to the tx hash")
	}
	f.wantError("/blocks/99", 404, "height_not_found")
	f.wantError("/blocks/abc", 400, "bad_height")
	f.wantError("/txs/zz", 400, "bad_hash")
	f.wantError("/txs/"+strings.Repeat("ab", 32), 404, "tx_not_found")
	f.wantError("/nope", 404, "unknown_endpoint")
	var e api.Error
	resp, _ := http.Post(f.srv.URL+"/status", "application/json", nil)
	f.check(resp, "POST /status", 405, &e)
	if e.Err != "method_not_allowed" {
		t.Fatalf("%+v", e)
	}
}

func TestLedgerQueriesAtHeight(t *testing.T) {
	f := newFixture(t)
	addr := f.aliceA.String()
	var now, before, genesis api.AccountResponse
	f.get("/accounts/"+addr, 200, &now)
	f.get("/accounts/"+addr+"?height=1", 200, &before)
	f.get("/accounts/"+addr+"?height=0", 200, &genesis)
	if genesis.Balance != apitest.Balance || genesis.Nonce != 0 {
		t.Fatalf("genesis account %+v", genesis)
	}
	if want := uint64(apitest.Balance - ledger.UinfPerINF - apitest.MinFee); before.Height != 1 || before.Balance != want || before.Nonce != 1 {
		t.Fatalf("account at 1 %+v, want balance %d", before, want)
	}
	if now.Height != 2 || now.Nonce != 2 || len(now.Delegations) != 1 || now.Balance >= before.Balance {
		t.Fatalf("account now %+v", now)
	}
	var vals api.ValidatorsResponse
	f.get("/validators", 200, &vals)
	if len(vals.Validators) != 1 || vals.Validators[0].Operator != f.b.Operator || !vals.Validators[0].Bonded || vals.Validators[0].Power != 105 {
		t.Fatalf("validators %+v", vals)
	}
	f.get("/validators?height=1", 200, &vals)
	if vals.Validators[0].Power != 100 {
		t.Fatalf("validators at 1 %+v", vals)
	}
	var dels api.DelegationsResponse
	f.get("/delegations/"+addr, 200, &dels)
	if len(dels.Delegations) != 1 || dels.Delegations[0].Tokens != 5*ledger.UinfPerINF {
		t.Fatalf("delegations %+v", dels)
	}
	f.get("/delegations/"+addr+"?height=1", 200, &dels)
	if len(dels.Delegations) != 0 || dels.Delegations == nil {
		t.Fatalf("delegations at 1 %+v", dels)
	}
	var ubd api.UnbondingsResponse
	if body := f.get("/unbondings/"+addr, 200, &ubd); !strings.Contains(string(body), `"unbondings": []`) {
		t.Fatalf("unbondings %s", body)
	}
	var props api.ProposalsResponse
	f.get("/proposals", 200, &props)
	if len(props.Proposals) != 1 || props.Proposals[0].Status != "voting_period" || props.Proposals[0].Title != "t" {
		t.Fatalf("proposals %+v", props)
	}
	f.get("/proposals?height=1", 200, &props)
	if len(props.Proposals) != 0 {
		t.Fatalf("proposals at 1 %+v", props)
	}
	var prop api.ProposalResponse
	f.get(fmt.Sprintf("/proposals/%d", 1), 200, &prop)
	if prop.ID != 1 || len(prop.Deposits) != 1 || prop.Tally == nil {
		t.Fatalf("proposal %+v", prop)
	}
	f.wantError("/proposals/7", 404, "proposal_not_found")
	f.wantError("/proposals/x", 400, "bad_proposal_id")
	var g api.GaugeResponse
	f.get("/gauge", 200, &g)
	if len(g.Voters) != 1 || g.Voters[0].Voter != f.aliceA {
		t.Fatalf("gauge %+v", g)
	}
	var pools api.PoolsResponse
	f.get("/pools", 200, &pools)
	var sup, sup0 api.SupplyResponse
	f.get("/supply", 200, &sup)
	f.get("/supply?height=0", 200, &sup0)
	if sup.Burned != 2*apitest.MinFee || sup0.Burned != 0 || sup0.Minted != 2*apitest.Balance+apitest.SelfBond {
		t.Fatalf("supply %+v at 0 %+v", sup, sup0)
	}
	var params api.ParamsResponse
	f.get("/params", 200, &params)
	var bp bank.Params
	if err := json.Unmarshal(params.Params["bank"], &bp); err != nil || bp.MinFee != apitest.MinFee {
		t.Fatalf("params %s: %v", params.Params["bank"], err)
	}

	f.wantError("/accounts/inf1nope", 400, "bad_address")
	f.wantError("/delegations/xyz", 400, "bad_address")
	e := f.wantError("/accounts/"+addr+"?height=3", 404, "height_not_found")
	if !strings.Contains(e.Message, "latest is 2") {
		t.Fatalf("message %q", e.Message)
	}
	f.wantError("/supply?height=-1", 400, "bad_height")
	f.b.SetReady(false)
	f.wantError("/supply", 503, "not_ready")
	var h api.HealthResponse
	f.get("/healthz", 503, &h)
	f.b.SetReady(true)
	f.get("/healthz", 200, &h)
	if !h.OK || h.Height != 2 {
		t.Fatalf("health %+v", h)
	}
}

func (f *fixture) post(body []byte, ctype string, wantCode int, out any) {
	f.t.Helper()
	resp, err := http.Post(f.srv.URL+"/txs", ctype, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	f.check(resp, "POST /txs", wantCode, out)
}

func TestSubmit(t *testing.T) {
	f := newFixture(t)
	send := ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: f.bob, Amount: 7})
	raw := f.tx(send)
	body, _ := json.Marshal(api.SubmitRequest{Tx: base64.StdEncoding.EncodeToString(raw)})
	var ok api.SubmitResponse
	f.post(body, "application/json", 202, &ok)
	if h := ledger.HashTx(raw); !bytes.Equal(ok.Hash, h[:]) {
		t.Fatalf("hash %x", ok.Hash)
	}
	// CBOR body.
	f.post(f.tx(send), "application/cbor", 202, &ok)

	cases := []struct {
		name  string
		raw   []byte
		code  int
		err   string
		inMsg string
	}{
		{"wrong nonce", func() []byte { _, r := ledger.SignTx(apitest.ChainID, f.alice, 99, apitest.MinFee, "", send); return r }(), 422, "wrong_nonce", "expects 4"},
		{"low fee", func() []byte { _, r := ledger.SignTx(apitest.ChainID, f.alice, 4, 1, "", send); return r }(), 422, "insufficient_fee", "minimum 100"},
		{"wrong chain", func() []byte { _, r := ledger.SignTx("other", f.alice, 4, apitest.MinFee, "", send); return r }(), 422, "wrong_chain_id", "other"},
		{"bad signature", func() []byte {
			tx, _ := ledger.SignTx(apitest.ChainID, f.alice, 4, apitest.MinFee, "", send)
			tx.Signature[0] ^= 1
			return mustMarshal(t, tx)
		}(), 422, "bad_signature", "signature does not verify"},
		{"garbage", []byte{1, 2, 3}, 400, "malformed_tx", "malformed"},
		{"replay", raw, 409, "already_known", "committed"},
	}
	for _, c := range cases {
		var e api.Error
		f.post(c.raw, "application/cbor", c.code, &e)
		if e.Code != c.code || e.Err != c.err || !strings.Contains(e.Message, c.inMsg) {
			t.Errorf("%s: %+v, want %d %s containing %q", c.name, e, c.code, c.err, c.inMsg)
		}
	}
	var e api.Error
	f.post([]byte(`{"tx": 5}`), "application/json", 400, &e)
	f.post([]byte(`{"tx": "!!"}`), "application/json", 400, &e)
	f.post(bytes.Repeat([]byte("a"), api.MaxBodyBytes+1), "application/cbor", 413, &e)
	if e.Err != "body_too_large" {
		t.Fatalf("%+v", e)
	}

	// The Go client carries the server's message.
	c, err := api.NewClient(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SubmitTx(context.Background(), raw)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != 409 || !strings.Contains(err.Error(), "committed") {
		t.Fatalf("client error %v", err)
	}
}

func mustMarshal(t *testing.T, tx *ledger.Tx) []byte {
	t.Helper()
	return codec.MustMarshal(tx)
}

func TestEventsAndMetrics(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/events/blocks", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Scan() // the opening comment: the subscription is open
	if !strings.HasPrefix(sc.Text(), ":") {
		t.Fatalf("first line %q", sc.Text())
	}
	blk, err := f.b.Commit()
	if err != nil {
		t.Fatal(err)
	}
	var got api.BlockView
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			if err := json.Unmarshal([]byte(d), &got); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if got.Height != blk.Height || !bytes.Equal(got.Hash, blk.Hash) {
		t.Fatalf("event %+v, want block %d", got, blk.Height)
	}
	cancel()
	resp.Body.Close()
	waitSubscribers(t, f.b, 0) // the stream's end releases the subscription

	// The client's stream reader.
	c, _ := api.NewClient(f.srv.URL)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	done := make(chan api.BlockView, 1)
	go func() {
		_ = c.SubscribeBlocks(ctx2, func(b api.BlockView) bool { done <- b; return false })
	}()
	waitSubscribers(t, f.b, 1)

	if _, err := f.b.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-done:
		if b.Height != blk.Height+1 {
			t.Fatalf("client got block %d", b.Height)
		}
	case <-ctx2.Done():
		t.Fatal("the client's stream delivered no block")
	}

	f.m.Height.Set(4)
	f.m.GossipRejects.WithLabelValues("txs", "reject").Inc()
	f.m.BlockInterval.Observe(0.2)
	f.m.TxsCommitted.Add(3)
	body := string(f.get("/metrics", 200, nil))
	for _, name := range []string{api.MetricHeight, api.MetricRound, api.MetricPeers, api.MetricMempoolTxs, api.MetricBlockInterval + "_bucket",
		api.MetricTxsCommitted, api.MetricGossipRejects + `{result="reject",topic="txs"} 1`, api.MetricAPIRequests, "go_goroutines"} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

func waitSubscribers(t *testing.T, b *apitest.Backend, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", b.Subscribers(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
