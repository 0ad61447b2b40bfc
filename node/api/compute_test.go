package api_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/compute/jobspec"
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
	if r, err := cl.Jobs(ctx, compute.JobSealed, api.Latest); err != nil || len(r.Jobs) != 0 {
		t.Fatalf("client sealed jobs (none yet): %v %+v", err, r)
	}
	if r, err := cl.Provider(ctx, f.aliceA, api.Latest); err != nil || r.Address != f.aliceA {
		t.Fatalf("client provider: %v", err)
	}
}

// TestLeaseRoutes: a service job shows as a lease (assigned, then running
// with its window), its container fields in /jobs/{id}.
func TestLeaseRoutes(t *testing.T) {
	f := newFixture(t)
	spec, err := jobspec.Encode(&jobspec.Spec{Kind: jobspec.KindService, Image: jobspec.Image{CID: cidOf("img")},
		Resources: jobspec.Resources{MilliCPU: 500, MemoryBytes: 64 << 20},
		Service:   &jobspec.Service{Port: 8080, DurationBlocks: 50, PricePerBlock: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.b.Commit(f.tx(
		ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 7, Tier: 0, Capacity: 2, Bond: 10 * ledger.UinfPerINF}),
		ledger.NewMsg(compute.MsgTypeSetResources, compute.MsgSetResources{Resources: compute.Resources{Containers: true,
			MilliCPU: 2000, MemoryBytes: 1 << 30, LeasePrice: 3}}),
		ledger.NewMsg(compute.MsgTypeJobSubmitContainer, compute.MsgJobSubmitContainer{Spec: spec}),
	)); err != nil {
		t.Fatal(err)
	}
	var l api.LeaseResponse
	f.get("/leases/1", 200, &l)
	if l.Status != compute.JobAssigned || l.Kind != compute.KindService || l.Lease == nil || l.Lease.PricePerBlock != 3 || l.MaxPrice != 200 {
		t.Fatalf("lease: %+v", l)
	}
	if _, err := f.b.Commit(f.tx(ledger.NewMsg(compute.MsgTypeLeaseStart, compute.MsgLeaseStart{Lease: 1}))); err != nil {
		t.Fatal(err)
	}
	body := f.get("/leases/1", 200, &l)
	if l.Status != compute.JobRunning || l.Lease.Started == 0 || l.WindowEnd < l.WindowStart || !bytes.Contains(body, []byte(`"current_window"`)) {
		t.Fatalf("running lease: %s", body)
	}
	var ls api.LeasesResponse
	f.get("/leases?status=running", 200, &ls)
	if len(ls.Leases) != 1 {
		t.Fatalf("running leases: %+v", ls)
	}
	f.get("/leases?live=1", 200, &ls)
	if len(ls.Leases) != 1 || ls.Leases[0].ID != 1 {
		t.Fatalf("live leases: %+v", ls)
	}
	var j api.JobResponse
	body = f.get("/jobs/1", 200, &j)
	if j.Kind != compute.KindService || len(j.Spec) == 0 || !bytes.Contains(body, []byte(`"millicpu": 500`)) {
		t.Fatalf("job: %s", body)
	}
	f.wantError("/leases/x", 400, "bad_lease_id")
	f.wantError("/leases/9", 404, "not_found")
	f.wantError("/leases?live=2", 400, "bad_live")
	cl, err := api.NewClient(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := cl.Lease(context.Background(), 1, api.Latest); err != nil || r.ID != 1 {
		t.Fatalf("client lease: %v", err)
	}
	if r, err := cl.LiveLeases(context.Background(), api.Latest); err != nil || len(r.Leases) != 1 {
		t.Fatalf("client live leases: %v", err)
	}
}
