package content

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/multiformats/go-multihash"
)

var pbBuilder = cid.V1Builder{Codec: cid.DagProtobuf, MhType: multihash.SHA2_256}

// putNode stores a dag-pb node made of UnixFS data and links, as a
// hostile peer could: nothing checks that the sizes add up.
func putNode(t testing.TB, s *Store, fs *unixfs.FSNode, links ...*ipld.Link) cid.Cid {
	t.Helper()
	data, err := fs.GetBytes()
	if err != nil {
		t.Fatal(err)
	}
	nd := merkledag.NodeWithData(data)
	if err := nd.SetCidBuilder(pbBuilder); err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if err := nd.AddRawLink("", l); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.bs.Put(context.Background(), nd); err != nil {
		t.Fatal(err)
	}
	return nd.Cid()
}

func putRaw(t testing.TB, s *Store, data []byte) cid.Cid {
	t.Helper()
	b := merkledag.NewRawNode(data)
	if err := s.bs.Put(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b.Cid()
}

// diamond stores the expanding DAG of the finding: a raw leaf of leafSize
// bytes under d levels of UnixFS file nodes, each linking twice to the
// node below. d+1 blocks describe a file of leafSize·2^d bytes, and a walk
// that does not remember what it has visited makes 2^d visits.
func diamond(t testing.TB, s *Store, d, leafSize int) cid.Cid {
	t.Helper()
	child, size := putRaw(t, s, bytes.Repeat([]byte{'x'}, leafSize)), uint64(leafSize)
	for range d {
		fs := unixfs.NewFSNode(unixfs.TFile)
		fs.AddBlockSize(size)
		fs.AddBlockSize(size)
		l := &ipld.Link{Cid: child, Size: size}
		child, size = putNode(t, s, fs, l, l), 2*size
	}
	return child
}

// serveTracked runs the gateway and closes done[i] when the i-th request's
// handler has returned, so a test sees whether it outlives its client.
func serveTracked(t *testing.T, s *Store) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	done := make(chan struct{}, 16)
	gw := Gateway(s)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		gw.ServeHTTP(w, r)
	}))
	return srv, done
}

// waitHandler fails the test unless a handler returns within d. On
// failure the server is left open: closing it would wait for the runaway
// handler.
func waitHandler(t *testing.T, srv *httptest.Server, done <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: the handler was still running %v after its client gave up", what, d)
	}
}

// TestGatewayExpandingDAGReturnsPromptly is the regression test of the
// finding: a 41-block DAG describing 1 TiB kept GET /ipfs/{cid} busy long
// after the client gave up (the presence check walked all 2^40 paths and
// never looked at the request's context). Now the walk visits each block
// once and the logical size cap refuses it at once.
func TestGatewayExpandingDAGReturnsPromptly(t *testing.T) {
	s := openMem(t)
	root := diamond(t, s, 40, 1)
	srv, done := serveTracked(t, s)
	for _, q := range []string{"", "?format=car"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/ipfs/"+root.String()+q, nil)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		cancel()
		waitHandler(t, srv, done, 3*time.Second, "GET "+q)
		if err != nil {
			t.Fatalf("GET %s: %v after %v", q, err, time.Since(start))
		}
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "limit") {
			t.Errorf("GET %s: %d %q, want 422 naming the limit", q, resp.StatusCode, body)
		}
	}
	srv.Close()
}
