package content

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
)

// Gateway is a read-only HTTP gateway over the blocks a Store holds (it
// never fetches from peers):
//
//	GET /ipfs/{cid}             the file's bytes (Range requests work), or
//	                            a plain-text listing for a directory
//	GET /ipfs/{cid}/a/b.bin     the entry a/b.bin of the directory {cid}
//	GET /ipfs/{cid}?format=car  the whole DAG as a CAR v1 stream
//	                            (also with Accept: application/vnd.ipld.car)
//
// A missing block is 404, a bad CID 400, a DAG over the store's Limits or
// malformed 422 (each with the reason). Every request is one bounded walk
// (Stat) before any header, and stops when its client goes away.
// Responses are immutable and cacheable: the CID is the ETag.
func Gateway(s *Store) http.Handler {
	mux := http.NewServeMux()
	g := gateway{s}
	mux.HandleFunc("GET /ipfs/{cid}", g.serve)
	mux.HandleFunc("GET /ipfs/{cid}/{rest...}", g.serve)
	return mux
}

type gateway struct{ s *Store }

const carType = "application/vnd.ipld.car"

func (g gateway) serve(w http.ResponseWriter, r *http.Request) {
	c, err := ParseCID(r.PathValue("cid"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// Every step below reads through ctx: a client that goes away stops
	// the walk, the CAR and the file at the next block.
	ctx := r.Context()
	if rest := strings.Trim(r.PathValue("rest"), "/"); rest != "" {
		if c, err = resolvePath(ctx, g.s, c, rest); err != nil {
			http.Error(w, err.Error(), statusOf(err))
			return
		}
	}
	// One walk of the DAG's distinct blocks: all held, well formed and
	// within the store's limits, before any header goes out.
	st, err := g.s.Stat(ctx, c)
	if err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	// A large file takes longer than the API server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Etag", `"`+c.String()+`"`)
	h.Set("Cache-Control", "public, max-age=29030400, immutable")
	h.Set("X-Ipfs-Path", "/ipfs/"+c.String())
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("format") == "car" || strings.Contains(r.Header.Get("Accept"), carType) {
		h.Set("Content-Type", carType+"; version=1")
		h.Set("Content-Disposition", `attachment; filename="`+c.String()+`.car"`)
		if r.Method == http.MethodHead {
			return
		}
		bw := bufio.NewWriterSize(w, 256<<10)
		if err := WriteCAR(ctx, g.s, c, bw); err != nil {
			panic(http.ErrAbortHandler) // headers are out: cut the stream
		}
		bw.Flush()
		return
	}
	if st.Dir {
		g.list(ctx, w, c)
		return
	}
	rd, err := g.s.catChecked(ctx, c)
	if err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	defer rd.Close()
	h.Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", zeroTime, rd)
}

// list writes a directory's links as "cid<TAB>size<TAB>name" lines.
func (g gateway) list(ctx context.Context, w http.ResponseWriter, c cid.Cid) {
	nd, err := checkedGetter{g.s.bs}.Get(ctx, c)
	if err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, l := range nd.Links() {
		fmt.Fprintf(w, "%s\t%d\t%s\n", l.Cid, l.Size, l.Name)
	}
}

// statusOf is the HTTP status of an error of Stat, resolvePath or Cat.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, errNoSuchEntry), errors.Is(err, errNotDir):
		return http.StatusNotFound
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrBadDAG), errors.Is(err, errIsDirectory):
		return http.StatusUnprocessableEntity
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable // nobody reads it: the client left
	}
	return http.StatusInternalServerError
}

var (
	errNoSuchEntry = errors.New("no such entry")
	errNotDir      = errors.New("not a directory")
)

// resolvePath follows the names of path ("a/b/c.bin") from the directory
// root down to the CID they name. HAMT-sharded directories work too. At
// most MaxPathElements names; each node read is within MaxBlockSize and
// MaxLinks.
func resolvePath(ctx context.Context, s *Store, root cid.Cid, path string) (cid.Cid, error) {
	names := strings.Split(path, "/")
	if len(names) > MaxPathElements {
		return cid.Undef, fmt.Errorf("/ipfs/%s/...: %w: %d path elements, over the limit of %d (MaxPathElements)", root, ErrTooLarge, len(names), MaxPathElements)
	}
	dag := merkledag.NewReadOnlyDagService(checkedGetter{s.bs})
	c := root
	walked := root.String()
	for _, name := range names {
		if name == "" || name == "." || name == ".." {
			return cid.Undef, fmt.Errorf("/ipfs/%s/%s: %w: empty, . and .. are not path elements", root, path, errNoSuchEntry)
		}
		nd, err := dag.Get(ctx, c)
		if err != nil {
			return cid.Undef, notFound(c, err)
		}
		dir, err := uio.NewDirectoryFromNode(dag, nd)
		if err != nil {
			return cid.Undef, fmt.Errorf("/ipfs/%s is a file, %w: it has no entry %q", walked, errNotDir, name)
		}
		child, err := dir.Find(ctx, name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return cid.Undef, fmt.Errorf("/ipfs/%s: %w %q", walked, errNoSuchEntry, name)
			}
			return cid.Undef, notFound(c, err)
		}
		c = child.Cid()
		walked += "/" + name
	}
	return c, nil
}

// WriteCAR writes the DAG under root as a CAR v1 stream (root as its only
// root; blocks depth first in link order, each once), the format of
// `ipfs dag export` and of gateways' ?format=car.
func WriteCAR(ctx context.Context, s *Store, root cid.Cid, w io.Writer) error {
	if _, err := w.Write(carHeader(root)); err != nil {
		return err
	}
	var lenBuf [binary.MaxVarintLen64]byte
	// The walk is bounded by the store's MaxBlocks (the same bound as the
	// gateway's Stat before it, so a CAR it allowed is never cut short)
	// and stops with ctx.
	return walk(ctx, s.bs, root, s.Limits(), func(c cid.Cid, data []byte) error {
		cb := c.Bytes()
		n := binary.PutUvarint(lenBuf[:], uint64(len(cb)+len(data)))
		if _, err := w.Write(lenBuf[:n]); err != nil {
			return err
		}
		if _, err := w.Write(cb); err != nil {
			return err
		}
		_, err := w.Write(data)
		return err
	})
}

// carHeader is uvarint(len) + the dag-cbor map {"roots": [root], "version":
// 1}, keys in dag-cbor order (shorter first).
func carHeader(root cid.Cid) []byte {
	link := append([]byte{0x00}, root.Bytes()...) // tag 42 payload: multibase identity prefix
	var h []byte
	h = append(h, 0xa2)               // map(2)
	h = append(h, 0x65)               // text(5)
	h = append(h, "roots"...)         //
	h = append(h, 0x81, 0xd8, 0x2a)   // array(1), tag(42)
	h = cborBytesHeader(h, len(link)) // bytes(n)
	h = append(h, link...)            //
	h = append(h, 0x67)               // text(7)
	h = append(h, "version"...)       //
	h = append(h, 0x01)               // 1
	out := binary.AppendUvarint(nil, uint64(len(h)))
	return append(out, h...)
}

func cborBytesHeader(b []byte, n int) []byte {
	switch {
	case n < 24:
		return append(b, 0x40|byte(n))
	case n < 256:
		return append(b, 0x58, byte(n))
	default:
		return append(b, 0x59, byte(n>>8), byte(n))
	}
}

var zeroTime = time.Time{}
