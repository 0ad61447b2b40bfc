package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
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

// TestGatewayStopsWithClient: with the limits raised far enough to serve
// the 64 TiB the diamond describes, the handler stops streaming as soon as
// its client goes away.
func TestGatewayStopsWithClient(t *testing.T) {
	s := openMem(t)
	s.SetLimits(Limits{MaxBytes: 1 << 62})
	root := diamond(t, s, 30, 64<<10)
	srv, done := serveTracked(t, s)
	// The client gives up after 3 s whatever happens: on the old code the
	// headers never came.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/ipfs/"+root.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		waitHandler(t, srv, done, 3*time.Second, "GET")
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != 64<<40 {
		t.Fatalf("GET: %d, length %d, want 200 and 64 TiB", resp.StatusCode, resp.ContentLength)
	}
	head := make([]byte, 1<<20)
	if _, err := io.ReadFull(resp.Body, head); err != nil || !bytes.Equal(head, bytes.Repeat([]byte{'x'}, len(head))) {
		t.Fatalf("first MiB: %v", err)
	}
	cancel()
	resp.Body.Close()
	waitHandler(t, srv, done, 3*time.Second, "GET")
	srv.Close()
}

// chain stores n UnixFS file nodes, each linking once to the next, above
// a one-byte leaf.
func chain(t *testing.T, s *Store, n int) cid.Cid {
	c := putRaw(t, s, []byte{1})
	for range n {
		fs := unixfs.NewFSNode(unixfs.TFile)
		fs.AddBlockSize(1)
		c = putNode(t, s, fs, &ipld.Link{Cid: c, Size: 1})
	}
	return c
}

// TestLimitsRefuse: each limit refuses its DAG with an error that names
// it, in Stat and in everything built on it (Pin, Cat, WriteCAR).
func TestLimitsRefuse(t *testing.T) {
	ctx := context.Background()
	// In-memory Badger holds values up to 1 MiB only; blocks up to and
	// past MaxBlockSize need a map.
	s := newStore(dssync.MutexWrap(ds.NewMapDatastore()))
	leaf := putRaw(t, s, []byte{'x'})
	wide := unixfs.NewFSNode(unixfs.TFile)
	var wideLinks []*ipld.Link
	for range MaxLinks + 1 {
		wide.AddBlockSize(1)
		wideLinks = append(wideLinks, &ipld.Link{Cid: leaf, Size: 1})
	}
	lying := unixfs.NewFSNode(unixfs.TFile)
	lying.AddBlockSize(5) // the leaf holds 1
	both := unixfs.NewFSNode(unixfs.TFile)
	both.SetData([]byte("data"))
	both.AddBlockSize(1)
	dirNode := unixfs.NewFSNode(unixfs.TDirectory)
	inFile := unixfs.NewFSNode(unixfs.TFile)
	inFile.AddBlockSize(0)
	many, err := s.AddReader(ctx, bytes.NewReader(seededBytes(200<<10)), AddOptions{Chunker: "size-1024", NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		root   cid.Cid
		lim    Limits
		is     error
		says   string
		carErr bool // WriteCAR refuses it too (it walks distinct blocks)
	}{
		{"1 TiB in 41 blocks", diamond(t, s, 40, 1), Limits{}, ErrTooLarge, "describes at least 1099511627776 bytes, more than the limit of 274877906944 (MaxBytes", false},
		{"logical size under a raised block limit", diamond(t, s, 20, 1), Limits{MaxBytes: 1 << 19}, ErrTooLarge, "more than the limit of 524288 (MaxBytes", false},
		{"blocks", many, Limits{MaxBlocks: 100}, ErrTooLarge, "more than 100 blocks, the limit (MaxBlocks)", true},
		{"depth", chain(t, s, MaxDepth), Limits{}, ErrBadDAG, "deeper than 1024 levels (MaxDepth)", true},
		{"links", putNode(t, s, wide, wideLinks...), Limits{}, ErrBadDAG, "32769 links, over the limit of 32768 per node (MaxLinks)", true},
		{"block size", putRaw(t, s, make([]byte, MaxBlockSize+1)), Limits{}, ErrBadDAG, "2097153 bytes, over the 2097152-byte block limit (MaxBlockSize)", true},
		{"sizes", putNode(t, s, lying, &ipld.Link{Cid: leaf}), Limits{}, ErrBadDAG, "says link 0 holds 5 bytes, it holds 1", false},
		{"data and links", putNode(t, s, both, &ipld.Link{Cid: leaf}), Limits{}, ErrBadDAG, "has both data and links", false},
		{"a directory inside a file", putNode(t, s, inFile, &ipld.Link{Cid: putNode(t, s, dirNode)}), Limits{}, ErrBadDAG, "which is not file data", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.SetLimits(tc.lim)
			defer s.SetLimits(Limits{})
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
					t.Errorf("%s: %v, want %v saying %q", what, err, tc.is, tc.says)
				}
			}
			_, err := s.Stat(ctx, tc.root)
			check("Stat", err)
			check("Pin", s.Pin(ctx, tc.root))
			_, err = s.Cat(ctx, tc.root)
			check("Cat", err)
			if pinned, _ := s.IsPinned(ctx, tc.root); pinned {
				t.Error("pinned anyway")
			}
			if tc.carErr {
				check("WriteCAR", WriteCAR(ctx, s, tc.root, io.Discard))
			}
		})
	}
	// Within the limits, the same store serves and pins.
	if st, err := s.Stat(ctx, many); err != nil || st.Size != 200<<10 || st.Blocks < 200 {
		t.Errorf("Stat of a normal file: %+v %v", st, err)
	}
	if err := s.Pin(ctx, diamond(t, s, 10, 3)); err != nil {
		t.Errorf("a small diamond (3 KiB) is a valid file: %v", err)
	}
}

// TestStatHonoursContext: a walk whose caller has gone stops.
func TestStatHonoursContext(t *testing.T) {
	s := openMem(t)
	root := diamond(t, s, 8, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for what, err := range map[string]error{
		"Stat":     func() error { _, err := s.Stat(ctx, root); return err }(),
		"Pin":      s.Pin(ctx, root),
		"WriteCAR": WriteCAR(ctx, s, root, io.Discard),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", what, err)
		}
	}
}

// TestSizedReader: a file whose leaves hold more or fewer bytes than its
// root says (Stat sizes leaves without reading them) is an error when
// read, never extra bytes.
func TestSizedReader(t *testing.T) {
	c := putRaw(t, openMem(t), []byte("x"))
	for _, tc := range []struct {
		data string
		size int64
		want string
	}{
		{"12345", 5, ""},
		{"1234567", 5, "hold more than the 5 bytes"},
		{"123", 5, "hold fewer than the 5 bytes"},
	} {
		for _, useWriteTo := range []bool{false, true} {
			r := &sizedReader{ReadSeekCloser: nopCloser{strings.NewReader(tc.data)}, c: c, size: tc.size}
			var out bytes.Buffer
			var err error
			if useWriteTo {
				_, err = r.WriteTo(&out)
			} else {
				_, err = io.Copy(&out, struct{ io.Reader }{r})
			}
			if tc.want == "" && (err != nil || out.String() != tc.data) {
				t.Errorf("%q: %q %v", tc.data, out.String(), err)
			}
			if tc.want != "" && (!errors.Is(err, ErrBadDAG) || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%q (WriteTo %v): %v, want %q", tc.data, useWriteTo, err, tc.want)
			}
			if int64(out.Len()) > tc.size {
				t.Errorf("%q: %d bytes out, more than the size %d", tc.data, out.Len(), tc.size)
			}
		}
	}
}

// TestSizedReaderPastTheEnd: a seek past the end reads nothing more.
func TestSizedReaderPastTheEnd(t *testing.T) {
	c := putRaw(t, openMem(t), []byte("x"))
	r := &sizedReader{ReadSeekCloser: nopCloser{strings.NewReader("12345")}, c: c, size: 5}
	if _, err := r.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 8)); n != 0 || err == nil {
		t.Errorf("read past the end: %d, %v", n, err)
	}
	if n, _ := r.WriteTo(io.Discard); n != 0 {
		t.Errorf("WriteTo past the end: %d bytes", n)
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// TestGatewayLimits: the gateway answers a DAG over a limit, or a path
// too long, with 422 and the reason.
func TestGatewayLimits(t *testing.T) {
	s := openMem(t)
	dir, err := s.Add(context.Background(), writeTree(t), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Gateway(s))
	defer srv.Close()
	long := "/ipfs/" + dir.String() + strings.Repeat("/sub", MaxPathElements+1)
	if resp, body := get(t, srv, long); resp.StatusCode != 422 || !strings.Contains(string(body), "MaxPathElements") {
		t.Errorf("long path: %d %q", resp.StatusCode, body)
	}
	s.SetLimits(Limits{MaxBlocks: 2})
	if resp, body := get(t, srv, "/ipfs/"+dir.String()); resp.StatusCode != 422 || !strings.Contains(string(body), "MaxBlocks") {
		t.Errorf("directory over MaxBlocks: %d %q", resp.StatusCode, body)
	}
}
