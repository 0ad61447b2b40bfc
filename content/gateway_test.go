package content

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

func get(t *testing.T, srv *httptest.Server, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestGateway(t *testing.T) {
	ctx := context.Background()
	s := openMem(t)
	data := seededBytes(1<<20 + 12345)
	c, err := s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dirCID, err := s.Add(ctx, writeTree(t), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Gateway(s))
	defer srv.Close()

	resp, body := get(t, srv, "/ipfs/"+c.String())
	if resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("GET file: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp.Header.Get("Etag") != `"`+c.String()+`"` {
		t.Errorf("Etag %q", resp.Header.Get("Etag"))
	}
	resp, body = get(t, srv, "/ipfs/"+c.String(), "Range", "bytes=300000-300009")
	if resp.StatusCode != 206 || !bytes.Equal(body, data[300000:300010]) {
		t.Errorf("range: %d %x", resp.StatusCode, body)
	}
	resp, body = get(t, srv, "/ipfs/"+dirCID.String())
	if resp.StatusCode != 200 || !strings.Contains(string(body), "hello.txt") || !strings.Contains(string(body), "sub") {
		t.Errorf("directory listing: %d %q", resp.StatusCode, body)
	}
	for _, path := range []string{"/ipfs/" + c.String() + "?format=car", "/ipfs/" + c.String()} {
		hdr := []string{}
		if !strings.Contains(path, "format") {
			hdr = []string{"Accept", carType}
		}
		resp, body = get(t, srv, path, hdr...)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), carType) {
			t.Fatalf("CAR %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if got := readCAR(t, body, c); !bytes.Equal(got, data) {
			t.Errorf("CAR %s does not rebuild the file", path)
		}
	}
	// The directory's CAR rebuilds a store in which every file reads back.
	_, body = get(t, srv, "/ipfs/"+dirCID.String()+"?format=car")
	readCAR(t, body, dirCID)

	unknown, _ := HashReader(ctx, strings.NewReader("not here"), AddOptions{})
	for path, want := range map[string]int{
		"/ipfs/" + unknown.String():                 404,
		"/ipfs/" + unknown.String() + "?format=car": 404,
		"/ipfs/not-a-cid":                           400,
		"/ipfs/" + c.String() + "/x":                404,
	} {
		if resp, _ := get(t, srv, path); resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err = http.Post(srv.URL+"/ipfs/"+c.String(), "text/plain", nil)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", resp.StatusCode, err)
	}
}

// readCAR parses a CAR v1 stream independently of WriteCAR: header
// {"roots":[root],"version":1}, then blocks whose bytes must hash to their
// CIDs. It loads them into a fresh store and returns the file under root
// (nil for a directory).
func readCAR(t *testing.T, car []byte, root cid.Cid) []byte {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(car))
	hl, err := binary.ReadUvarint(r)
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, hl)
	io.ReadFull(r, hdr)
	if !bytes.Contains(hdr, []byte("roots")) || !bytes.Contains(hdr, root.Bytes()) || !bytes.HasSuffix(hdr, []byte("version\x01")) {
		t.Fatalf("CAR header %x", hdr)
	}
	fresh := openMem(t)
	n := 0
	for {
		l, err := binary.ReadUvarint(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sec := make([]byte, l)
		if _, err := io.ReadFull(r, sec); err != nil {
			t.Fatal(err)
		}
		cl, c, err := cid.CidFromBytes(sec)
		if err != nil {
			t.Fatal(err)
		}
		if re, _ := c.Prefix().Sum(sec[cl:]); !re.Equals(c) {
			t.Fatalf("CAR block %s does not hash to its CID", c)
		}
		if n == 0 && !c.Equals(root) {
			t.Errorf("first CAR block %s, want the root", c)
		}
		b, _ := blocks.NewBlockWithCid(sec[cl:], c)
		fresh.bs.Put(context.Background(), b)
		n++
	}
	if _, err := fresh.Stat(context.Background(), root); err != nil {
		t.Fatalf("CAR incomplete: %v", err)
	}
	rd, err := fresh.Cat(context.Background(), root)
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(rd)
	return out
}

func TestGatewayPaths(t *testing.T) {
	ctx := context.Background()
	s := openMem(t)
	dirCID, err := s.Add(ctx, writeTree(t), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Gateway(s))
	defer srv.Close()
	base := "/ipfs/" + dirCID.String()
	for path, want := range map[string]string{
		"/hello.txt":  "hello world\n",
		"/sub/a.txt":  "a",
		"/sub/a.txt/": "a",
	} {
		resp, body := get(t, srv, base+path)
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("GET %s: %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
	resp, body := get(t, srv, base+"/zeros.bin", "Range", "bytes=307190-")
	if resp.StatusCode != 206 || len(body) != 10 {
		t.Errorf("range inside a directory: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, body := get(t, srv, base+"/sub"); resp.StatusCode != 200 || !strings.Contains(string(body), "a.txt") {
		t.Errorf("sub-directory listing: %d %q", resp.StatusCode, body)
	}
	for path, code := range map[string]int{
		"/nope.txt":    404,
		"/sub/nope":    404,
		"/hello.txt/x": 404,
	} {
		resp, body := get(t, srv, base+path)
		if resp.StatusCode != code || strings.Count(string(body), "\n") != 1 {
			t.Errorf("GET %s: %d %q, want %d and one line", path, resp.StatusCode, body, code)
		}
	}
}
