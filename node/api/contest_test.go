package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/inferd/inferd/contest/contesttest"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

// contestBackend serves a contesttest chain through apitest's backend.
type contestBackend struct {
	*apitest.Backend
	n *contesttest.Net
}

func (b contestBackend) Chain() *chain.Chain  { return b.n.C }
func (b contestBackend) LatestHeight() uint64 { return b.n.Height }

func TestContestEndpoints(t *testing.T) {
	n := contesttest.New(t)
	srv := httptest.NewServer(api.NewHandler(contestBackend{apitest.New(t), n}, nil))
	t.Cleanup(srv.Close)
	cl, err := api.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	list, err := cl.Contests(ctx, api.Latest)
	if err != nil || len(list.Contests) != 1 || list.Contests[0].ID != 1 || list.Contests[0].Round.Round != 2 || list.Height != n.Height {
		t.Fatalf("contests: %+v %v", list, err)
	}
	d, err := cl.Contest(ctx, 1, api.Latest)
	if err != nil || d.Spec.Name != "digits" || d.Pool == 0 || len(d.Leaderboard) != 2 || *d.Leaderboard[0].AgreedScore != contesttest.ScoreA {
		t.Fatalf("contest: %+v %v", d, err)
	}
	subs, err := cl.ContestSubmissions(ctx, 1, 1, api.Latest)
	if err != nil || subs.Round != 1 || len(subs.Submissions) != 2 || subs.Submissions[0].Model != n.ModelA.String() {
		t.Fatalf("submissions round 1: %+v %v", subs, err)
	}
	cur, err := cl.ContestSubmissions(ctx, 1, 0, api.Latest)
	if err != nil || cur.Round != 2 || len(cur.Submissions) != 1 {
		t.Fatalf("current submissions: %+v %v", cur, err)
	}
	old, err := cl.ContestSubmissions(ctx, 1, 2, n.Height-1) // before round 2's commit
	if err != nil || old.Height != n.Height-1 || len(old.Submissions) != 0 {
		t.Fatalf("submissions a block earlier: %+v %v", old, err)
	}
	var ae *api.Error
	if _, err := cl.ContestSubmissions(ctx, 1, 1, 1); !errors.As(err, &ae) || ae.Code != http.StatusNotFound {
		t.Fatalf("at height 1 the contest does not exist yet: %v", err)
	}

	// The raw JSON: "id" on each contest, "agreed_score" on agreed submissions.
	var raw struct {
		Contests []map[string]any `json:"contests"`
	}
	getJSON(t, srv.URL+"/contests", http.StatusOK, &raw)
	if raw.Contests[0]["id"] != float64(1) {
		t.Errorf("contest JSON: %v", raw.Contests[0])
	}
	var detail struct {
		Leaderboard []map[string]any `json:"leaderboard"`
		Submissions []map[string]any `json:"submissions"`
	}
	getJSON(t, srv.URL+"/contests/1", http.StatusOK, &detail)
	if detail.Leaderboard[0]["agreed_score"] != float64(contesttest.ScoreA) {
		t.Errorf("leaderboard JSON: %v", detail.Leaderboard[0])
	}
	// Submissions: the last closed round's (agreed) then the current one's.
	if len(detail.Submissions) != 3 {
		t.Fatalf("submissions: %v", detail.Submissions)
	}
	for i, s := range detail.Submissions {
		_, has := s["agreed_score"]
		if agreed := s["status"] == "agreed"; has != agreed || (i < 2) != agreed {
			t.Errorf("submission %d: %v", i, s)
		}
	}

	if _, err := cl.Contest(ctx, 9, api.Latest); !errors.As(err, &ae) || ae.Code != http.StatusNotFound || ae.Err != "contest_not_found" {
		t.Errorf("unknown contest: %v", err)
	}
	for path, code := range map[string]int{"/contests/x": 400, "/contests/0": 400, "/contests/1/submissions?round=x": 400, "/contests/2/submissions": 404} {
		var e api.Error
		getJSON(t, srv.URL+path, code, &e)
	}
}

func getJSON(t *testing.T, url string, code int, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != code {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, code)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
