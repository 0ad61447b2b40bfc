package api_test

import (
	"encoding/binary"
	"encoding/hex"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/light"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

// A proof served at H verifies against the header of H+1 served by
// /commit, with the set it names; the value is bob's balance after block 1.
func TestProofAndCommitVerify(t *testing.T) {
	f := newFixture(t) // latest height 2: the newest provable height is 1
	var pr api.ProofResponse
	f.get("/proof?key="+hex.EncodeToString(bank.BalanceKey(f.bob)), 200, &pr)
	if pr.Height != 1 || pr.HeaderHeight != 2 || !pr.Exists {
		t.Fatalf("proof at %d (header %d), exists %v; want 1, 2, true", pr.Height, pr.HeaderHeight, pr.Exists)
	}
	if got := binary.BigEndian.Uint64(pr.Value); got != ledger.UinfPerINF {
		t.Fatalf("bob's proven balance %d", got)
	}
	var cr light.CommitResponse
	f.get("/commit?height=2", 200, &cr)
	lb, err := cr.LightBlock()
	if err != nil {
		t.Fatal(err)
	}
	tr := light.TrustedState{ChainID: apitest.ChainID, Time: apitest.GenesisTime, Validators: lb.Validators}
	p, err := light.VerifySkipping(tr, &lb.Header, &lb.Commit, lb.Validators, light.Options{Now: apitest.GenesisTime.Add(time.Hour)})
	if err != nil || p.Signed != p.Total {
		t.Fatalf("power %+v: %v", p, err)
	}
	if err := light.VerifyProven(&pr.ProvenValue, lb); err != nil {
		t.Fatal(err)
	}
	if cr.Canonical || cr.Signatures != 1 || len(cr.Validators) != 1 || cr.Validators[0].Power != 100 {
		t.Fatalf("commit response %+v", cr)
	}
	// The block view names the same block.
	var bv api.BlockView
	f.get("/blocks/2", 200, &bv)
	if hex.EncodeToString(bv.Hash) != hex.EncodeToString(cr.Hash) {
		t.Fatalf("block hash %x, commit's %x", bv.Hash, cr.Hash)
	}
	// An absent key is proven absent.
	f.get("/proof?height=0&key="+hex.EncodeToString(bank.BalanceKey(f.bob)), 200, &pr)
	if pr.Exists || len(pr.Value) != 0 || pr.HeaderHeight != 1 {
		t.Fatalf("bob at genesis: %+v", pr)
	}
}

func TestProofAndCommitErrors(t *testing.T) {
	f := newFixture(t)
	f.wantError("/proof", 400, "bad_key")
	f.wantError("/proof?key=zz", 400, "bad_key")
	f.wantError("/proof?key=00616263", 400, "bad_key") // the ledger's own bookkeeping
	f.wantError("/proof?key=6162&height=2", 404, "not_certified")
	f.wantError("/proof?key=6162&height=x", 400, "bad_height")
	f.wantError("/commit?height=0", 400, "bad_height")
	f.wantError("/commit?height=3", 404, "height_not_found")
}

// plainBackend hides apitest's LightBlock: a backend without headers.
type plainBackend struct{ api.Backend }

func TestCommitNeedsALightBackend(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(api.NewHandler(plainBackend{f.b}, nil))
	defer srv.Close()
	f.srv = srv
	f.wantError("/commit?height=1", 501, "no_headers")
	var pr api.ProofResponse
	f.get("/proof?key="+hex.EncodeToString(bank.BalanceKey(f.bob)), 200, &pr) // proofs need only the chain
}
