package content

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// Fuzz targets for what a hostile peer controls: the bytes of a block
// (dag-pb and UnixFS decoding, Stat, Cat) and a gateway request over such
// blocks (path resolution, listings, files, CARs). Seeds come from the DAGs
// the other tests build. docs/reliability.md records the runs.

// fuzzLimits are small, so that the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxBlocks: 64}

// mapStore is a store in a map: cheap enough to make for every input.
func mapStore() *Store {
	s := newStore(dssync.MutexWrap(ds.NewMapDatastore()))
	s.SetLimits(fuzzLimits)
	return s
}

var (
	seedOnce   sync.Once
	seedBlocks []blocks.Block // every block of the seed DAGs
	seedDir    cid.Cid        // the directory vector's tree
	seedFile   cid.Cid        // a 5,000-byte file in 1 KiB chunks
)

// seeds builds, once per process, the DAGs of the other tests: the
// directory vector's tree, a small multi-block file and a small diamond.
func seeds(t testing.TB) []blocks.Block {
	seedOnce.Do(func() {
		ctx := context.Background()
		s := newStore(dssync.MutexWrap(ds.NewMapDatastore()))
		dir, err := os.MkdirTemp("", "fuzzseed")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello world\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "zeros.bin"), make([]byte, 3000), 0o644)
		os.Mkdir(filepath.Join(dir, "sub"), 0o755)
		os.WriteFile(filepath.Join(dir, "sub", "a.txt"), []byte("a"), 0o644)
		if seedDir, err = s.Add(ctx, dir, AddOptions{Chunker: "size-1024"}); err != nil {
			t.Fatal(err)
		}
		if seedFile, err = s.AddReader(ctx, bytes.NewReader(seededBytes(5000)), AddOptions{Chunker: "size-1024"}); err != nil {
			t.Fatal(err)
		}
		diamond(t, s, 3, 2)
		keys, _ := s.bs.AllKeysChan(ctx)
		for c := range keys {
			b, _ := s.bs.Get(ctx, c)
			seedBlocks = append(seedBlocks, b)
		}
	})
	return seedBlocks
}

// withSeeds is a fresh store holding the seed blocks and data, as a
// dag-pb block and as a raw one; it returns data's dag-pb CID.
func withSeeds(t testing.TB, data []byte) (*Store, cid.Cid) {
	s := mapStore()
	ctx := context.Background()
	for _, b := range seeds(t) {
		s.bs.Put(ctx, b)
	}
	c, _ := pbBuilder.Sum(data)
	b, _ := blocks.NewBlockWithCid(data, c)
	s.bs.Put(ctx, b)
	s.bs.Put(ctx, merkledag.NewRawNode(data))
	return s, c
}

// knownErr: every error a walk of hostile blocks returns is one of these.
func knownErr(err error) bool {
	for _, e := range []error{ErrNotFound, ErrBadDAG, ErrTooLarge, errIsDirectory} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzDecodeNode: any bytes as a dag-pb block decode within MaxLinks or
// fail with ErrBadDAG; what decodes re-encodes to the same node, its UnixFS
// data too; Stat of it is bounded and classified, and a file Stat passes
// reads back exactly Stat's size or fails with ErrBadDAG.
func FuzzDecodeNode(f *testing.F) {
	for _, b := range seeds(f) {
		if b.Cid().Type() == cid.DagProtobuf {
			f.Add(b.RawData())
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, c := withSeeds(t, data)
		nd, err := decodeNode(c, data)
		if err != nil {
			if !errors.Is(err, ErrBadDAG) {
				t.Fatalf("decode error %v does not wrap ErrBadDAG", err)
			}
		} else {
			if len(nd.Links()) > MaxLinks {
				t.Fatalf("%d links decoded, over MaxLinks", len(nd.Links()))
			}
			enc, err := nd.EncodeProtobuf(true)
			if err != nil {
				t.Fatalf("a decoded node does not encode: %v", err)
			}
			again, err := merkledag.DecodeProtobuf(enc)
			if err != nil {
				t.Fatalf("the re-encoded node does not decode: %v", err)
			}
			if !bytes.Equal(again.Data(), nd.Data()) || len(again.Links()) != len(nd.Links()) {
				t.Fatalf("round trip changed the node")
			}
			for i, l := range nd.Links() {
				if m := again.Links()[i]; m.Name != l.Name || m.Size != l.Size || !m.Cid.Equals(l.Cid) {
					t.Fatalf("round trip changed link %d: %+v != %+v", i, m, l)
				}
			}
			if fs, err := unixfs.FSNodeFromBytes(nd.Data()); err == nil {
				b, err := fs.GetBytes()
				if err != nil {
					t.Fatalf("UnixFS data decodes but does not encode: %v", err)
				}
				fs2, err := unixfs.FSNodeFromBytes(b)
				if err != nil || fs2.Type() != fs.Type() || fs2.FileSize() != fs.FileSize() || !bytes.Equal(fs2.Data(), fs.Data()) || fs2.NumChildren() != fs.NumChildren() {
					t.Fatalf("UnixFS round trip changed the data: %v", err)
				}
			}
		}
		ctx := context.Background()
		for _, root := range []cid.Cid{c, cid.NewCidV1(cid.Raw, c.Hash())} {
			st, err := s.Stat(ctx, root)
			if err != nil {
				if !knownErr(err) {
					t.Fatalf("Stat %s: unclassified error %v", root, err)
				}
				continue
			}
			if st.Size > fuzzLimits.MaxBytes || st.Blocks > fuzzLimits.MaxBlocks {
				t.Fatalf("Stat passed %+v, over the limits", st)
			}
			if st.Dir {
				continue
			}
			r, err := s.Cat(ctx, root)
			if err != nil {
				if !knownErr(err) {
					t.Fatalf("Cat %s after Stat: unclassified error %v", root, err)
				}
				continue
			}
			n, err := io.Copy(io.Discard, r)
			r.Close()
			if err != nil && !errors.Is(err, ErrBadDAG) {
				t.Fatalf("reading %s: %v", root, err)
			}
			if n > st.Size || (err == nil && n != st.Size) {
				t.Fatalf("read %d bytes of %s, Stat says %d (error %v)", n, root, st.Size, err)
			}
		}
	})
}

// FuzzGateway: GET /ipfs/{cid}/{path} over a store holding the seed DAGs
// and one fuzzed block, for the fuzzed block and the seed directory, as a
// file and as a CAR. The handler returns promptly, never 500 nor a panic;
// a file is served whole at the length it announces, within the limits; a
// CAR holds blocks that hash to their CIDs, the root first, each once.
func FuzzGateway(f *testing.F) {
	for _, b := range seeds(f) {
		if b.Cid().Type() == cid.DagProtobuf {
			f.Add(b.RawData(), "", false)
		}
	}
	for _, p := range []string{"hello.txt", "sub/a.txt", "sub", "zeros.bin", "nope", "sub/a.txt/x", "a//b", "../x", "%2e%2e", strings.Repeat("sub/", 300)} {
		f.Add([]byte{}, p, false)
		f.Add([]byte{}, p, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, path string, car bool) {
		s, c := withSeeds(t, data)
		gw := Gateway(s)
		for _, root := range []cid.Cid{c, seedDir} {
			u := "/ipfs/" + root.String() + "/" + path
			req, err := http.NewRequest("GET", "http://gw"+u, nil)
			if err != nil {
				continue // not a URL: no request reaches the handler
			}
			if car {
				// A header, not ?format=car: the fuzzed path may hold a
				// '#' or '?' that would swallow the query.
				req.Header.Set("Accept", carType)
			}
			rec := httptest.NewRecorder()
			start := time.Now()
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("GET %q: panic %v", u, p)
					}
				}()
				gw.ServeHTTP(rec, req)
			}()
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("GET %q took %v", u, el)
			}
			body := rec.Body.Bytes()
			switch rec.Code {
			case 200, 206:
			case 301, 307, 308, 400, 404, 405, 422: // the mux cleans paths by redirecting
				continue
			default:
				t.Fatalf("GET %q: %d %q", u, rec.Code, body)
			}
			// What the answer is, not what was asked: a fuzzed path can
			// carry its own ?format=car.
			if strings.HasPrefix(rec.Header().Get("Content-Type"), carType) {
				checkCAR(t, body)
				continue
			}
			if cl := rec.Header().Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(body)) {
				t.Fatalf("GET %q: Content-Length %s, %d bytes", u, cl, len(body))
			}
			if int64(len(body)) > fuzzLimits.MaxBytes {
				t.Fatalf("GET %q: %d bytes, over the limit", u, len(body))
			}
		}
	})
}

// checkCAR parses a CAR v1 stream: header, then blocks that hash to their
// CIDs, each once, at most MaxBlocks of them.
func checkCAR(t *testing.T, car []byte) {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(car))
	hl, err := binary.ReadUvarint(r)
	if err != nil || hl > 1<<10 {
		t.Fatalf("CAR header length %d: %v", hl, err)
	}
	if _, err := io.CopyN(io.Discard, r, int64(hl)); err != nil {
		t.Fatalf("CAR header: %v", err)
	}
	seen := map[string]bool{}
	for {
		l, err := binary.ReadUvarint(r)
		if err == io.EOF {
			break
		}
		if err != nil || l > MaxBlockSize+128 {
			t.Fatalf("CAR section length %d: %v", l, err)
		}
		sec := make([]byte, l)
		if _, err := io.ReadFull(r, sec); err != nil {
			t.Fatal(err)
		}
		n, c, err := cid.CidFromBytes(sec)
		if err != nil {
			t.Fatal(err)
		}
		if re, _ := c.Prefix().Sum(sec[n:]); !re.Equals(c) {
			t.Fatalf("CAR block %s does not hash to its CID", c)
		}
		if seen[c.KeyString()] {
			t.Fatalf("CAR block %s twice", c)
		}
		if seen[c.KeyString()] = true; len(seen) > fuzzLimits.MaxBlocks {
			t.Fatalf("CAR of more than %d blocks", fuzzLimits.MaxBlocks)
		}
	}
}
