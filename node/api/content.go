package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/content"
)

// MaxAddBytes bounds the body of POST /content/add. The body is streamed
// into the store in 8 MiB batches, never held whole.
const MaxAddBytes = 256 << 30

// MaxFetchTimeout bounds ?timeout= of POST /content/fetch/{cid}.
const MaxFetchTimeout = 24 * time.Hour

// The content endpoints (docs/api.md, docs/content.md): what `inferd add,
// fetch, cat, pin, gc --node URL` use. The files themselves are read with
// GET /ipfs/{cid}, the gateway.
func (s *server) handleContent() {
	s.handle("POST", "/content/add", s.contentAdd)
	s.handle("POST", "/content/fetch/{cid}", s.contentFetch)
	s.handle("GET", "/content/pins", s.contentPins)
	s.handle("POST", "/content/pins/{cid}", s.contentPin)
	s.handle("DELETE", "/content/pins/{cid}", s.contentUnpin)
	s.handle("POST", "/content/gc", s.contentGC)
}

// ContentBackend is a Backend that runs a content service. A Backend that
// does not implement it is served the running content.Service of its
// libp2p host (content.ServiceOf its Status().NodeID).
type ContentBackend interface {
	Content() *content.Service
}

func (s *server) content() (*content.Service, error) {
	if cb, ok := s.b.(ContentBackend); ok {
		if svc := cb.Content(); svc != nil {
			return svc, nil
		}
	}
	if id, err := peer.Decode(s.b.Status().NodeID); err == nil {
		if svc := content.ServiceOf(id); svc != nil {
			return svc, nil
		}
	}
	return nil, errorf(http.StatusServiceUnavailable, "no_content", "this node runs no content store")
}

// AddResponse is the answer of POST /content/add.
type AddResponse struct {
	CID    string `json:"cid"`
	Bytes  int64  `json:"bytes"`
	Pinned bool   `json:"pinned"`
}

// FetchEvent is one line of the NDJSON stream POST /content/fetch/{cid}
// answers: progress lines (Done, Total), then one last line with either
// Result or Error.
type FetchEvent struct {
	Done   int64        `json:"done"`
	Total  int64        `json:"total"`
	Result *FetchReport `json:"result,omitempty"`
	Error  *Error       `json:"error,omitempty"`
}

// FetchReport is content.FetchResult on the wire.
type FetchReport struct {
	CID         string `json:"cid"`
	Bytes       int64  `json:"bytes"`
	Blocks      int    `json:"blocks"`
	Held        int    `json:"held"`
	Received    int    `json:"received"`
	FirstByteMS int64  `json:"first_byte_ms"`
	DurationMS  int64  `json:"duration_ms"`
}

// PinsResponse is GET /content/pins.
type PinsResponse struct {
	Pins []string `json:"pins"`
}

// GCResponse is POST /content/gc.
type GCResponse struct {
	Removed      int   `json:"removed"`
	RemovedBytes int64 `json:"removed_bytes"`
	Kept         int   `json:"kept"`
}

func contentError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, content.ErrBadCID):
		return errorf(http.StatusBadRequest, "bad_cid", "%v", err)
	case errors.Is(err, content.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "%v", err)
	case errors.Is(err, content.ErrNotPinned):
		return errorf(http.StatusNotFound, "not_pinned", "%v", err)
	case errors.Is(err, content.ErrTimeout):
		return errorf(http.StatusGatewayTimeout, "timeout", "%v", err)
	case errors.Is(err, content.ErrTooLarge):
		return errorf(http.StatusUnprocessableEntity, "dag_too_large", "%v", err)
	case errors.Is(err, content.ErrBadDAG):
		return errorf(http.StatusUnprocessableEntity, "bad_dag", "%v", err)
	case errors.Is(err, content.ErrStoreWrite):
		return errorf(http.StatusInsufficientStorage, "store_write", "%v", err)
	}
	return errorf(http.StatusInternalServerError, "internal", "%v", err)
}

func pathCID(r *http.Request) (cid.Cid, error) {
	c, err := content.ParseCID(r.PathValue("cid"))
	if err != nil {
		return cid.Undef, contentError(err)
	}
	return c, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// POST /content/add?chunker=size-262144&pin=false: the body is the file.
func (s *server) contentAdd(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.content()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	o := content.AddOptions{Chunker: q.Get("chunker"), NoPin: q.Get("pin") == "false"}
	// A large file takes longer than the server's read timeout.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	body := &countingReader{r: http.MaxBytesReader(w, r.Body, s.opts.MaxAddBytes)}
	c, err := svc.Store.AddReader(r.Context(), body, o)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return bodyTooLarge(r, s.opts.MaxAddBytes)
		}
		if r.Context().Err() != nil {
			return errorf(http.StatusBadRequest, "aborted", "the upload ended before the file did")
		}
		return contentError(fmt.Errorf("add: %w", err))
	}
	writeJSON(w, http.StatusOK, AddResponse{CID: c.String(), Bytes: body.n, Pinned: !o.NoPin})
	return nil
}

// POST /content/fetch/{cid}?timeout=10m&pin=false: the node fetches the
// DAG into its store over bitswap (connected peers and DHT providers).
// The answer is NDJSON: progress lines at most every 250 ms, then the
// result or the error.
func (s *server) contentFetch(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.content()
	if err != nil {
		return err
	}
	c, err := pathCID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	o := content.FetchOptions{Timeout: 10 * time.Minute, NoPin: q.Get("pin") == "false"}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 || d > MaxFetchTimeout {
			return errorf(http.StatusBadRequest, "bad_timeout", "timeout %q: want a duration such as 10m, at most %v", t, MaxFetchTimeout)
		}
		o.Timeout = d
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	var last time.Time
	o.Progress = func(done, total int64) {
		if now := time.Now(); now.Sub(last) >= 250*time.Millisecond {
			last = now
			_ = enc.Encode(FetchEvent{Done: done, Total: total})
			_ = rc.Flush()
		}
	}
	res, err := svc.Exchange.Get(r.Context(), c, "", o)
	if err != nil {
		_ = enc.Encode(FetchEvent{Error: contentError(err)})
		return nil
	}
	_ = enc.Encode(FetchEvent{Done: res.Size, Total: res.Size, Result: &FetchReport{
		CID: c.String(), Bytes: res.Size, Blocks: res.Blocks, Held: res.Held, Received: res.Received,
		FirstByteMS: res.FirstByte.Milliseconds(), DurationMS: res.Duration.Milliseconds(),
	}})
	return nil
}

func (s *server) contentPins(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.content()
	if err != nil {
		return err
	}
	pins, err := svc.Store.Pins(r.Context())
	if err != nil {
		return contentError(err)
	}
	out := PinsResponse{Pins: []string{}}
	for _, p := range pins {
		out.Pins = append(out.Pins, p.String())
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) contentPin(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.content()
	if err != nil {
		return err
	}
	c, err := pathCID(r)
	if err != nil {
		return err
	}
	if err := svc.Store.Pin(r.Context(), c); err != nil {
		if errors.Is(err, content.ErrNotFound) {
			return errorf(http.StatusNotFound, "not_found", "%v: fetch it first (inferd fetch %s --node ...)", err, c)
		}
		return contentError(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"pinned": c.String()})
	return nil
}

func (s *server) contentUnpin(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.content()
	if err != nil {
		return err
	}
	c, err := pathCID(r)
	if err != nil {
		return err
	}
	if err := svc.Store.Unpin(r.Context(), c); err != nil {
		return contentError(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"unpinned": c.String()})
	return nil
}

func (s *server) contentGC(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.content()
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Minute))
	res, err := svc.Store.GC(r.Context())
	if err != nil {
		return contentError(err)
	}
	writeJSON(w, http.StatusOK, GCResponse{Removed: res.Removed, RemovedBytes: res.RemovedBytes, Kept: res.Kept})
	return nil
}
