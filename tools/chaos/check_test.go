package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inferd/inferd/node/api"
)

// fakeNode serves /blocks/{h} for heights 1..n with block hash and app
// hash the byte h, except where hash or app say otherwise.
func fakeNode(t *testing.T, n uint64, hash, app map[uint64]byte) *api.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var h uint64
		if _, err := fmt.Sscanf(req.URL.Path, "/blocks/%d", &h); err != nil || h < 1 || h > n {
			http.Error(w, `{"error":"not_found","message":"no block"}`, 404)
			return
		}
		b := api.BlockView{Height: h, Hash: []byte{byte(h)}, AppHash: []byte{byte(h)}}
		if x, ok := hash[h]; ok {
			b.Hash = []byte{x}
		}
		if x, ok := app[h]; ok {
			b.AppHash = []byte{x}
		}
		json.NewEncoder(w).Encode(b)
	}))
	t.Cleanup(srv.Close)
	c, err := api.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The fork and app-hash checks fail on a planted difference and pass
// without one.
func TestCheckChainsCatchesForks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hash, app map[uint64]byte
		want      string
	}{
		{"same chains", nil, nil, ""},
		{"fork at 3", map[uint64]byte{3: 99}, nil, "FORK at height 3: node2 has block 63, node0 has 03"},
		{"app hash at 4", nil, map[uint64]byte{4: 77}, "app hash differs at height 4: node2 has 4d, node0 has 04"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cluster{names: []string{"node0", "node1", "node2"}}
			c.clients = []*api.Client{fakeNode(t, 5, nil, nil), fakeNode(t, 5, nil, nil), fakeNode(t, 5, tc.hash, tc.app)}
			r := &runner{c: c}
			err := r.checkChains(context.Background(), 5)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
