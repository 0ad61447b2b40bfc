package main

import (
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
)

func testCID(s string) string {
	h, _ := mh.Sum([]byte(s), mh.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, h).String()
}

func TestComputeCLI(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	alice := testKey(t, home, "alice")
	_, url := testNode(t, alice)
	t.Setenv(envNode, url)
	tx := func(args ...string) []string {
		return append(append([]string{"tx"}, args...), "--from", "alice", "--home", home, "--keyring-backend", "test", "-o", "json")
	}
	r := decode[broadcastResult](t, mustCLI(t, "", tx("compute", "register", "--price", "25", "--capacity", "2", "--bond", "20inf", "--tier", "1")...))
	if r.Result == nil || !r.Result.OK {
		t.Fatalf("register: %+v", r)
	}
	mustCLI(t, "", tx("compute", "update", "--price", "30")...)
	ps := decode[api.ProvidersResponse](t, mustCLI(t, "", "query", "providers", "-o", "json"))
	if len(ps.Providers) != 1 || ps.Providers[0].Price != 30 || ps.Providers[0].Capacity != 2 || ps.Providers[0].N != 512 {
		t.Fatalf("providers: %+v", ps.Providers)
	}
	if out := mustCLI(t, "", "query", "providers", "-o", "json"); !strings.Contains(out, `"verified_ops"`) {
		t.Fatalf("no verified_ops in %s", out)
	}
	if out := mustCLI(t, "", "query", "providers", "-o", "table"); !strings.Contains(out, "VERIFIED OPS") || !strings.Contains(out, alice.String()) {
		t.Fatalf("table: %s", out)
	}
	// Bad input is a usage error before anything is signed.
	if code, _, errOut := cli(t, "", tx("job", "submit", "--workload", "nope", "--input", testCID("i"), "--max-price", "100")...); code != 2 || !strings.Contains(errOut, "invalid CID") {
		t.Fatalf("bad CID: exit %d: %s", code, errOut)
	}
	if code, _, _ := cli(t, "", tx("compute", "register", "--price", "25", "--capacity", "2", "--bond", "20inf", "--tier", "9")...); code != 2 {
		t.Fatalf("bad tier: exit %d", code)
	}
	r = decode[broadcastResult](t, mustCLI(t, "", tx("job", "submit", "--workload", testCID("w"), "--input", testCID("i"), "--max-price", "100")...))
	if r.Result == nil || !r.Result.OK {
		t.Fatalf("submit: %+v", r)
	}
	js := decode[api.JobsResponse](t, mustCLI(t, "", "query", "jobs", "--status", "assigned", "-o", "json"))
	if len(js.Jobs) != 1 || js.Jobs[0].Provider != alice || js.Jobs[0].Price != 30 {
		t.Fatalf("jobs: %+v", js.Jobs)
	}
	j := decode[api.JobResponse](t, mustCLI(t, "", "query", "job", "1", "-o", "json"))
	if j.Status != compute.JobAssigned || j.MaxPrice != 100 {
		t.Fatalf("job: %+v", j)
	}
	if out := mustCLI(t, "", "query", "job", "1", "-o", "table"); !strings.Contains(out, "assigned") {
		t.Fatalf("job table: %s", out)
	}
	// Unregister is refused while the job runs: a failed tx exits non-zero.
	if code, _, errOut := cli(t, "", tx("compute", "unregister")...); code == 0 || !strings.Contains(errOut, "assigned jobs") {
		t.Fatalf("unregister with a running job: exit %d: %s", code, errOut)
	}
}
