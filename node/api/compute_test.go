package api_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
)

func cidOf(s string) string {
	h, _ := mh.Sum([]byte(s), mh.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, h).String()
}

func TestComputeRoutes(t *testing.T) {
	f := newFixture(t)
	if _, err := f.b.Commit(f.tx(
		ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 7, Tier: 0, Capacity: 2, Bond: 10 * ledger.UinfPerINF}),
		ledger.NewMsg(compute.MsgTypeJobSubmit, compute.MsgJobSubmit{Workload: cidOf("w"), Input: cidOf("i"), InputSize: 1, MaxPrice: 100}),
	)); err != nil {
		t.Fatal(err)
	}
	var ps api.ProvidersResponse
	body := f.get("/providers", 200, &ps)
	if len(ps.Providers) != 1 || ps.Providers[0].Address != f.aliceA || ps.Providers[0].Price != 7 || !bytes.Contains(body, []byte(`"verified_ops": 0`)) {
		t.Fatalf("providers: %s", body)
	}
	var p api.ProviderResponse
	f.get("/providers/"+f.aliceA.String(), 200, &p)
	if p.Bond != 10*ledger.UinfPerINF || p.Status != "active" {
		t.Fatalf("provider: %+v", p)
	}
	f.wantError("/providers/"+f.bob.String(), 404, "not_found")
	f.wantError("/providers/nope", 400, "bad_address")
	var js api.JobsResponse
	f.get("/jobs?status=assigned", 200, &js)
	if len(js.Jobs) != 1 || js.Jobs[0].Provider != f.aliceA || js.Jobs[0].Price != 7 {
		t.Fatalf("assigned jobs: %+v", js.Jobs)
	}
	f.get("/jobs?status=open", 200, &js)
	if len(js.Jobs) != 0 {
		t.Fatalf("open jobs: %+v", js.Jobs)
	}
	var j api.JobResponse
	f.get("/jobs/1", 200, &j)
	if j.ID != 1 || j.Status != compute.JobAssigned || j.MaxPrice != 100 {
		t.Fatalf("job: %+v", j)
	}
	f.wantError("/jobs/9", 404, "not_found")
	f.wantError("/jobs/x", 400, "bad_job_id")
	f.wantError("/jobs?status=bogus", 400, "bad_status")

	// The client.
	cl, err := api.NewClient(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if r, err := cl.Providers(ctx, api.Latest); err != nil || len(r.Providers) != 1 {
		t.Fatalf("client providers: %v", err)
	}
	if r, err := cl.Jobs(ctx, compute.JobAssigned, api.Latest); err != nil || len(r.Jobs) != 1 {
		t.Fatalf("client jobs: %v", err)
	}
	if r, err := cl.Job(ctx, 1, api.Latest); err != nil || r.ID != 1 {
		t.Fatalf("client job: %v", err)
	}
	if r, err := cl.Provider(ctx, f.aliceA, api.Latest); err != nil || r.Address != f.aliceA {
		t.Fatalf("client provider: %v", err)
	}
}
