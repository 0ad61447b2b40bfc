package main

import (
	"encoding/hex"
	"encoding/json"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

type proveFixture struct {
	b       *apitest.Backend
	url     string
	genesis string
	bob     keys.Address
}

// newProveFixture: the operator sends bob 1 INF and registers as a
// provider in block 1; block 2 is empty, so height 1 is provable.
func newProveFixture(t *testing.T) *proveFixture {
	clearEnv(t)
	b, url := testNode(t)
	pb, _, _ := keys.Generate(rand.New(rand.NewSource(3)))
	f := &proveFixture{b: b, url: url, bob: keys.AddressOf(pb)}
	_, raw := ledger.SignTx(apitest.ChainID, b.OperatorKey, 0, apitest.MinFee, "",
		ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: f.bob, Amount: ledger.UinfPerINF}),
		ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 5, Tier: 0, Capacity: 2, Bond: 10 * ledger.UinfPerINF}))
	blk, err := b.Commit(raw)
	if err != nil {
		t.Fatal(err)
	}
	if tv, _ := b.Tx([32]byte(blk.Txs[0])); !tv.Result.OK {
		t.Fatalf("setup tx failed: %s", tv.Result.Error)
	}
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	raw, _ = json.Marshal(b.Genesis)
	f.genesis = filepath.Join(t.TempDir(), "genesis.json")
	if err := os.WriteFile(f.genesis, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	old := proveNow
	proveNow = func() time.Time { return apitest.GenesisTime.Add(time.Hour) }
	t.Cleanup(func() { proveNow = old })
	return f
}

func (f *proveFixture) args(q ...string) []string {
	return append(append([]string{"query"}, q...), "--node", f.url, "--prove", "--genesis", f.genesis)
}

func TestProveQueries(t *testing.T) {
	f := newProveFixture(t)
	op := f.b.Operator
	r := decode[ProvenResult](t, mustCLI(t, "", f.args("account", op.String(), "-o", "json")...))
	wantBal := float64(apitest.Balance - ledger.UinfPerINF - 10*ledger.UinfPerINF - apitest.MinFee)
	if !r.Verified || r.Height != 1 || r.HeaderHeight != 2 || r.SignedPower != 100 || r.TotalPower != 100 ||
		r.Values["balance"] != wantBal || r.Values["nonce"] != float64(1) {
		t.Fatalf("account: %+v (want balance %v)", r, wantBal)
	}
	out := mustCLI(t, "", f.args("balance", f.bob.String(), "-o", "table")...)
	if !strings.Contains(out, "verified (height 1, app hash ") || !strings.Contains(out, "signed by 100 of 100 power)") || !strings.Contains(out, "1 INF") {
		t.Fatalf("balance table:\n%s", out)
	}
	out = mustCLI(t, "", f.args("validator", op.String(), "-o", "table")...)
	if !strings.Contains(out, "val-0") || !strings.Contains(out, "verified (") {
		t.Fatalf("validator table:\n%s", out)
	}
	r = decode[ProvenResult](t, mustCLI(t, "", f.args("provider", op.String(), "-o", "json")...))
	if p, _ := r.Values["provider"].(map[string]any); !r.Verified || p["capacity"] != float64(2) || p["bond"] != float64(10*ledger.UinfPerINF) {
		t.Fatalf("provider: %+v", r)
	}
	// A proven absence is an answer, and an error: there is no contest 1.
	code, _, errOut := cli(t, "", f.args("contest", "1")...)
	if code == 0 || !strings.Contains(errOut, "no contest at height 1") {
		t.Fatalf("contest 1: exit %d: %s", code, errOut)
	}
	// At genesis, bob has nothing (proven against header 1).
	r = decode[ProvenResult](t, mustCLI(t, "", f.args("balance", f.bob.String(), "--height", "0", "-o", "json")...))
	if !r.Verified || r.HeaderHeight != 1 || r.Values["balance"] != float64(0) {
		t.Fatalf("bob at genesis: %+v", r)
	}
	// Without --prove, account is the node's ordinary answer.
	if out := mustCLI(t, "", "query", "account", op.String(), "--node", f.url, "-o", "json"); strings.Contains(out, "verified") {
		t.Fatalf("account without --prove: %s", out)
	}
}

func TestProveTrustHash(t *testing.T) {
	f := newProveFixture(t)
	lb, _, err := f.b.LightBlock(1)
	if err != nil {
		t.Fatal(err)
	}
	id := lb.Header.Hash()
	args := []string{"query", "balance", f.bob.String(), "--node", f.url, "--prove", "--trust-height", "1", "--trust-hash", hex.EncodeToString(id[:]), "-o", "json"}
	if r := decode[ProvenResult](t, mustCLI(t, "", args...)); !r.Verified {
		t.Fatalf("%+v", r)
	}
	id[0] ^= 1
	args[9] = hex.EncodeToString(id[:])
	refused(t, "not the trusted", args...)
	refused(t, "go together", "query", "balance", f.bob.String(), "--node", f.url, "--prove", "--trust-height", "1")
}

func refused(t *testing.T, want string, args ...string) {
	t.Helper()
	code, out, errOut := cli(t, "", args...)
	if code == 0 || !strings.Contains(errOut, want) || strings.Contains(out, "verified (") {
		t.Fatalf("inferd %s: exit %d, want a refusal with %q: %s%s", strings.Join(args, " "), code, want, out, errOut)
	}
}

func TestProveRefusals(t *testing.T) {
	f := newProveFixture(t)
	bob := f.bob.String()
	// The trusted genesis is older than the trusting period.
	proveNow = func() time.Time { return apitest.GenesisTime.Add(15 * 24 * time.Hour) }
	refused(t, "older than the trusting period", f.args("balance", bob)...)
	proveNow = func() time.Time { return apitest.GenesisTime.Add(time.Hour) }

	// A genesis with another validator: none of the trusted set signed.
	g := *f.b.Genesis
	g.Validators = append([]ledger.GenesisValidator(nil), g.Validators...)
	g.Validators[0].ConsPubKey = make([]byte, 32)
	g.Validators[0].ConsPubKey[0] = 7
	raw, _ := json.Marshal(&g)
	other := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(other, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	refused(t, "1/3 of the trusted set", "query", "balance", bob, "--node", f.url, "--prove", "--genesis", other)
	refused(t, "genesis", "query", "balance", bob, "--node", f.url, "--prove", "--genesis", filepath.Join(t.TempDir(), "none.json"))

	// A node that lies about the value, or about the proof.
	for _, tamper := range []struct {
		want string
		edit func(pr *api.ProofResponse)
	}{
		{"value does not match the proof", func(pr *api.ProofResponse) { pr.Value[7] ^= 1 }},
		{"proof does not match the app hash", func(pr *api.ProofResponse) { pr.Proof.Siblings[3][0] ^= 1 }},
	} {
		url := lyingNode(t, f.b, tamper.edit)
		refused(t, tamper.want, "query", "balance", bob, "--node", url, "--prove", "--genesis", f.genesis)
	}
}

// lyingNode serves the API of b with every /proof answer edited.
func lyingNode(t *testing.T, b *apitest.Backend, edit func(*api.ProofResponse)) string {
	h := api.NewHandler(b, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/proof" {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var pr api.ProofResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &pr); err != nil || rec.Code != 200 {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		edit(&pr)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(pr)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
