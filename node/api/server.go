package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxBodyBytes bounds a request body: a maximal transaction (64 KiB) as
// base64 inside JSON, with room to spare.
const MaxBodyBytes = 256 << 10

// handlerFunc serves one endpoint; a returned error (an *Error, or any
// error mapped by queryError) becomes the JSON error response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type server struct {
	b       Backend
	m       *Metrics
	log     *slog.Logger
	routes  map[string]map[string]handlerFunc // path pattern -> method -> handler
	mux     *http.ServeMux
	sseTick time.Duration // keep-alive comment interval on event streams
	opts    Options       // limits, with defaults filled (guard.go)
}

// NewHandler returns the API as an http.Handler over b, with the default
// Options. m may be nil (a fresh, unexported set of metrics is used).
func NewHandler(b Backend, m *Metrics) http.Handler {
	return NewHandlerWith(b, m, Options{})
}

// NewHandlerWith is NewHandler with o's token, limits, CORS origins and
// extra handlers (zero fields: defaults).
func NewHandlerWith(b Backend, m *Metrics, o Options) http.Handler {
	if m == nil {
		m = NewMetrics()
	}
	s := &server{b: b, m: m, log: slog.Default().With("component", "api"), routes: map[string]map[string]handlerFunc{},
		mux: http.NewServeMux(), sseTick: 15 * time.Second, opts: o.withDefaults()}
	s.handle("GET", "/status", s.status)
	s.handle("GET", "/healthz", s.health)
	s.handle("GET", "/blocks/latest", s.latestBlock)
	s.handle("GET", "/blocks/{height}", s.block)
	s.handle("GET", "/txs/{hash}", s.tx)
	s.handle("GET", "/txs/{hash}/status", s.txStatus) // txstatus.go
	s.handle("POST", "/txs", s.submit)
	s.handle("POST", "/evidence", s.submitEvidence) // evidence.go
	s.handle("GET", "/accounts/{addr}", s.account)
	s.handle("GET", "/validators", s.validators)
	s.handle("GET", "/delegations/{addr}", s.delegations)
	s.handle("GET", "/unbondings/{addr}", s.unbondings)
	s.handle("GET", "/proposals", s.proposals)
	s.handle("GET", "/proposals/{id}", s.proposal)
	s.handle("GET", "/gauge", s.gauge)
	s.handle("GET", "/pools", s.pools)
	s.handle("GET", "/supply", s.supply)
	s.handle("GET", "/params", s.params)
	s.handle("GET", "/providers", s.providers)
	s.handle("GET", "/providers/{addr}", s.provider)
	s.handle("GET", "/jobs", s.jobs)
	s.handle("GET", "/jobs/{id}", s.job)
	s.handle("GET", "/leases", s.leases)     // leases.go
	s.handle("GET", "/leases/{id}", s.lease) // leases.go
	s.handle("GET", "/contests", s.contests)
	s.handle("GET", "/contests/{id}", s.contest)
	s.handle("GET", "/contests/{id}/submissions", s.contestSubmissions)
	s.handle("GET", "/events/blocks", s.events)
	s.handle("GET", "/metrics", func(w http.ResponseWriter, r *http.Request) error {
		m.Handler().ServeHTTP(w, r)
		return nil
	})
	s.handleContent() // /content/*: add, fetch, pins, gc (content.go)
	s.handleNet()     // /net/id, /net/peers (net.go)
	// The explorer page at / and the read-only endpoints it reads (explorer.go).
	s.handleExplorer()
	s.handleProofs() // /proof, /commit: light-client proofs (proof.go)
	for path, methods := range s.routes {
		s.mux.HandleFunc(path, s.dispatch(path, methods))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count("unknown", http.StatusNotFound)
		writeError(w, errorf(http.StatusNotFound, "unknown_endpoint", "no endpoint %s %s; see docs/api.md", r.Method, r.URL.Path))
	})
	var h http.Handler = s.mux
	if len(o.Extra) > 0 {
		mux := http.NewServeMux()
		for prefix, eh := range o.Extra {
			mux.Handle(prefix, eh)
		}
		mux.Handle("/", h)
		h = mux
	}
	return newGuard(h, s.opts, s.count)
}

func (s *server) handle(method, path string, h handlerFunc) {
	if s.routes[path] == nil {
		s.routes[path] = map[string]handlerFunc{}
	}
	s.routes[path][method] = h
}

// dispatch picks the handler by method, so that a wrong method gets a JSON
// 405 rather than net/http's plain-text one.
func (s *server) dispatch(path string, methods map[string]handlerFunc) http.HandlerFunc {
	var allowed []string
	for m := range methods {
		allowed = append(allowed, m)
	}
	sort.Strings(allowed)
	return func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		h, ok := methods[method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			s.count(path, http.StatusMethodNotAllowed)
			writeError(w, errorf(http.StatusMethodNotAllowed, "method_not_allowed", "%s %s: use %s", r.Method, r.URL.Path, strings.Join(allowed, " or ")))
			return
		}
		if err := h(w, r); err != nil {
			e := queryError(err)
			if e.Code >= 500 && e.Code != http.StatusServiceUnavailable {
				s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			s.count(path, e.Code)
			writeError(w, e)
			return
		}
		s.count(path, http.StatusOK)
	}
}

func (s *server) count(route string, code int) {
	s.m.apiRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Code, e)
}

// Serve serves the API on addr (host:port; loopback unless the operator
// chose otherwise) until ctx is done, then shuts down gracefully.
func Serve(ctx context.Context, addr string, b Backend, m *Metrics) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w (is another node using the port? set [api] address in config.toml)", addr, err)
	}
	return ServeListener(ctx, ln, b, m)
}

// ServeListener is Serve on an open listener (port 0 in tests and
// devnets: ln.Addr() tells the port). It closes ln.
func ServeListener(ctx context.Context, ln net.Listener, b Backend, m *Metrics) error {
	return ServeListenerWith(ctx, ln, b, m, nil)
}

// ServeListenerWith is ServeListener with extra handlers mounted beside the
// API, by path prefix (the content gateway at "/ipfs/").
func ServeListenerWith(ctx context.Context, ln net.Listener, b Backend, m *Metrics, extra map[string]http.Handler) error {
	return ServeOptions(ctx, ln, b, m, Options{Extra: extra})
}

// ServeOptions is ServeListener with o's token, limits and extra handlers.
// It refuses (and closes ln) when ln is not on loopback and o has no
// token: the write endpoints would be open to anyone who can connect.
func ServeOptions(ctx context.Context, ln net.Listener, b Backend, m *Metrics, o Options) error {
	if err := CheckToken(ln.Addr().String(), o.Token); err != nil {
		ln.Close()
		return fmt.Errorf("api on %s: %w", ln.Addr(), err)
	}
	o = o.withDefaults()
	srv := &http.Server{
		Handler:           NewHandlerWith(b, m, o),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout, // event streams, content add and fetch lift it for themselves
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		// Requests (event streams included) end when ctx does.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
