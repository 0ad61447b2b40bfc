package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of Options (docs/api.md "Limits and timeouts").
const (
	DefaultMaxConcurrent   = 256
	DefaultMaxEventStreams = 64
	MinTokenLength         = 16
)

// Options are the server's protections against hostile clients. The zero
// value of a field means its default; DefaultOptions spells them out.
type Options struct {
	// Token guards the write endpoints (every method but GET, HEAD and
	// OPTIONS, except POST /txs and POST /evidence, which anyone may use,
	// as anyone may gossip them): requests need "Authorization: Bearer
	// <Token>". Empty: no token, allowed only on a loopback listener.
	Token string
	// MaxBodyBytes bounds every request body but POST /content/add's.
	MaxBodyBytes int64
	// MaxAddBytes bounds the body of POST /content/add (streamed).
	MaxAddBytes int64
	// MaxConcurrent bounds the requests in flight, event streams aside;
	// beyond it the answer is 503 with Retry-After.
	MaxConcurrent int
	// MaxEventStreams bounds the open GET /events/blocks streams.
	MaxEventStreams int
	// CORSAllowedOrigins are the origins ("https://app.example", or "*")
	// a browser may call the API from. None: no CORS headers at all, so
	// browsers keep other sites' pages from reading the API.
	CORSAllowedOrigins []string

	ReadHeaderTimeout time.Duration // default 5s: slow headers (slowloris) are cut off
	ReadTimeout       time.Duration // default 15s (content add lifts it for its body)
	WriteTimeout      time.Duration // default 30s (streams, add and fetch lift it)
	IdleTimeout       time.Duration // default 2m between requests on a kept-alive connection
	MaxHeaderBytes    int           // default 64 KiB

	// Extra handlers are mounted beside the API by path prefix (the
	// content gateway at "/ipfs/"); the limits above cover them too.
	Extra map[string]http.Handler
}

// DefaultOptions are the limits of a node that sets none.
func DefaultOptions() Options {
	return Options{
		MaxBodyBytes: MaxBodyBytes, MaxAddBytes: MaxAddBytes,
		MaxConcurrent: DefaultMaxConcurrent, MaxEventStreams: DefaultMaxEventStreams,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	fill := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&o.MaxBodyBytes, d.MaxBodyBytes)
	fill(&o.MaxAddBytes, d.MaxAddBytes)
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = d.MaxConcurrent
	}
	if o.MaxEventStreams <= 0 {
		o.MaxEventStreams = d.MaxEventStreams
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = d.MaxHeaderBytes
	}
	for _, p := range []struct{ v, def *time.Duration }{
		{&o.ReadHeaderTimeout, &d.ReadHeaderTimeout}, {&o.ReadTimeout, &d.ReadTimeout},
		{&o.WriteTimeout, &d.WriteTimeout}, {&o.IdleTimeout, &d.IdleTimeout},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return o
}

// ErrTokenRequired: the API would listen beyond loopback without a token.
var ErrTokenRequired = errors.New("the API listens beyond loopback and no API token is set")

// CheckToken says whether token may guard an API listening on addr: a
// non-loopback address needs one, and a token must be long enough not to
// be guessed.
func CheckToken(addr, token string) error {
	if token != "" && len(token) < MinTokenLength {
		return errors.New("the API token is shorter than " + strconv.Itoa(MinTokenLength) + " characters; make a new one with: openssl rand -hex 32")
	}
	if token == "" && !IsLoopback(addr) {
		return ErrTokenRequired
	}
	return nil
}

// IsLoopback says whether addr (host:port) only accepts local
// connections: a loopback IP or "localhost". An empty host, 0.0.0.0 and
// :: listen everywhere.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard wraps the API (and the extra handlers) with the protections of
// Options, in this order: CORS (a preflight is answered before anything
// else; browsers send no credentials with it), the concurrency caps, the
// token, the body limit.
type guard struct {
	next    http.Handler
	o       Options
	count   func(route string, code int)
	tokenH  [32]byte
	slots   chan struct{} // requests in flight
	streams chan struct{} // open event streams
}

func newGuard(next http.Handler, o Options, count func(string, int)) *guard {
	g := &guard{next: next, o: o, count: count,
		slots: make(chan struct{}, o.MaxConcurrent), streams: make(chan struct{}, o.MaxEventStreams)}
	g.tokenH = sha256.Sum256([]byte(o.Token))
	return g
}

// openWrite are the write endpoints anyone may call: what they take is
// checked and gossiped, as any peer could gossip it.
var openWrite = map[string]bool{"POST /txs": true, "POST /evidence": true}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.cors(w, r) {
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/events/blocks" {
		select {
		case g.streams <- struct{}{}:
			defer func() { <-g.streams }()
		default:
			g.refuse(w, "events", errorf(http.StatusServiceUnavailable, "too_many_streams",
				"this node already serves %d block event streams, its limit ([api] max_event_streams); retry later, or poll GET /blocks/latest", g.o.MaxEventStreams))
			return
		}
	} else {
		select {
		case g.slots <- struct{}{}:
			defer func() { <-g.slots }()
		default:
			g.refuse(w, "busy", errorf(http.StatusServiceUnavailable, "busy",
				"this node is serving %d requests, its limit ([api] max_concurrent_requests); retry after a second", g.o.MaxConcurrent))
			return
		}
	}
	if e := g.authorize(r); e != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="inferd"`)
		g.refuse(w, "auth", e)
		return
	}
	limit := g.o.MaxBodyBytes
	if r.URL.Path == "/content/add" {
		limit = g.o.MaxAddBytes
	}
	if r.ContentLength > limit {
		g.refuse(w, "body", bodyTooLarge(r, limit))
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	g.next.ServeHTTP(w, r)
}

func (g *guard) refuse(w http.ResponseWriter, route string, e *Error) {
	if e.Code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	g.count(route, e.Code)
	writeError(w, e)
}

// bodyTooLarge is the 413 of a body over limit; handlers that read a body
// return it when http.MaxBytesReader stops them.
func bodyTooLarge(r *http.Request, limit int64) *Error {
	if r.URL.Path == "/content/add" {
		return errorf(http.StatusRequestEntityTooLarge, "too_large",
			"the file is over %d bytes, the most POST /content/add takes here ([api] max_add_bytes); add it on the node's machine with inferd add", limit)
	}
	return errorf(http.StatusRequestEntityTooLarge, "body_too_large",
		"request body exceeds %d bytes, the most %s %s takes ([api] max_body_bytes)", limit, r.Method, r.URL.Path)
}

// authorize checks the bearer token of a write request. The comparison is
// of SHA-256 digests in constant time: neither the token's bytes nor its
// length leak through timing.
func (g *guard) authorize(r *http.Request) *Error {
	if g.o.Token == "" || r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions ||
		openWrite[r.Method+" "+r.URL.Path] {
		return nil
	}
	const how = "send the header \"Authorization: Bearer <token>\" with the node's API token (the CLI: --api-token or $INFERD_API_TOKEN; the node reads it from [api] token_file or $INFERD_API_TOKEN)"
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return errorf(http.StatusUnauthorized, "missing_token", "%s %s changes the node's store and needs its API token: %s", r.Method, r.URL.Path, how)
	}
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return errorf(http.StatusUnauthorized, "bad_token", "the Authorization header is not a bearer token: %s", how)
	}
	h := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	if subtle.ConstantTimeCompare(h[:], g.tokenH[:]) != 1 {
		return errorf(http.StatusUnauthorized, "bad_token", "the API token is wrong: %s", how)
	}
	return nil
}

// cors adds the CORS headers for an allowed origin and answers preflight
// requests; it reports whether it answered. Without allowed origins it
// does nothing: a browser then refuses cross-origin reads of the API.
func (g *guard) cors(w http.ResponseWriter, r *http.Request) bool {
	if len(g.o.CORSAllowedOrigins) == 0 {
		return false
	}
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	w.Header().Add("Vary", "Origin")
	allowed := origin != "" && (slices.Contains(g.o.CORSAllowedOrigins, origin) || slices.Contains(g.o.CORSAllowedOrigins, "*"))
	if !allowed {
		if preflight {
			g.refuse(w, "cors", errorf(http.StatusForbidden, "origin_not_allowed",
				"origin %q may not call this API; the node's operator lists allowed origins in [api] cors_allowed_origins", origin))
			return true
		}
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
	if !preflight {
		return false
	}
	w.Header().Add("Vary", "Access-Control-Request-Method")
	w.Header().Add("Vary", "Access-Control-Request-Headers")
	w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
	g.count("cors", http.StatusNoContent)
	w.WriteHeader(http.StatusNoContent)
	return true
}
