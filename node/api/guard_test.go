package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

const testToken = "0123456789abcdef0123456789abcdef"

// serveOpts serves b with o on a loopback port until the test ends and
// returns the base URL.
func serveOpts(t *testing.T, b api.Backend, o api.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.ServeOptions(ctx, ln, b, api.NewMetrics(), o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeOptions: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// contentServer is a node API with a real content store behind o.
func contentServer(t *testing.T, o api.Options) string {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	svc, err := content.Start(context.Background(), t.TempDir(), h, content.ExchangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return serveOpts(t, contentBackend{apitest.New(t), svc}, o)
}

// do sends a request and returns the status, headers and decoded error.
func do(t *testing.T, method, url string, body io.Reader, hdr map[string]string) (int, http.Header, api.Error) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e api.Error
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("%s %s: %d with a body that is not a JSON error: %q", method, url, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, resp.Header, e
}

// With a token, the write endpoints need it; reads and POST /txs do not.
// The upload of a request without it never reaches the store.
func TestTokenGuardsWriteEndpoints(t *testing.T) {
	ctx := context.Background()
	base := contentServer(t, api.Options{Token: testToken})
	anon, _ := api.NewClient(base)
	authed, _ := api.NewClient(base)
	authed.Token = testToken
	wrong, _ := api.NewClient(base)
	wrong.Token = strings.Repeat("x", 32)

	var ae *api.Error
	_, err := anon.ContentAdd(ctx, strings.NewReader("hello"), api.ContentAddOptions{})
	if !errors.As(err, &ae) || ae.Code != http.StatusUnauthorized || ae.Err != "missing_token" ||
		!strings.Contains(ae.Message, "Authorization: Bearer") || !strings.Contains(ae.Message, "--api-token") {
		t.Fatalf("add without a token: %v", err)
	}
	if _, err := wrong.ContentGC(ctx); !errors.As(err, &ae) || ae.Code != http.StatusUnauthorized || ae.Err != "bad_token" {
		t.Fatalf("gc with a wrong token: %v", err)
	}
	code, hdr, e := do(t, "POST", base+"/content/gc", nil, map[string]string{"Authorization": "Basic " + testToken})
	if code != http.StatusUnauthorized || e.Err != "bad_token" || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("basic auth: %d %+v %v", code, e, hdr)
	}
	for _, p := range []string{"/content/fetch/bafkreigdtrogefk6gz2ivg5kz4koacdaq7bunvy5eatytp42xfdq32pwlu", "/content/pins/bafkreigdtrogefk6gz2ivg5kz4koacdaq7bunvy5eatytp42xfdq32pwlu"} {
		if code, _, e := do(t, "POST", base+p, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("POST %s without a token: %d %+v", p, code, e)
		}
	}
	if code, _, _ := do(t, "DELETE", base+"/content/pins/bafkreigdtrogefk6gz2ivg5kz4koacdaq7bunvy5eatytp42xfdq32pwlu", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("DELETE a pin without a token: %d", code)
	}
	if pins, err := authed.ContentPins(ctx); err != nil || len(pins) != 0 {
		t.Fatalf("the refused add left pins %v (%v)", pins, err)
	}
	// Reads are open, and so is the mempool (anyone may gossip a tx).
	if _, err := anon.Status(ctx); err != nil {
		t.Fatalf("status without a token: %v", err)
	}
	if pins, err := anon.ContentPins(ctx); err != nil || len(pins) != 0 {
		t.Fatalf("pins without a token: %v %v", pins, err)
	}
	if code, _, e := do(t, "POST", base+"/txs", strings.NewReader(`{"tx":""}`), map[string]string{"Content-Type": "application/json"}); code != http.StatusBadRequest {
		t.Fatalf("POST /txs without a token: %d %+v, want 400 (not 401)", code, e)
	}
	// With the token, the add goes through.
	res, err := authed.ContentAdd(ctx, strings.NewReader("hello"), api.ContentAddOptions{})
	if err != nil || !res.Pinned {
		t.Fatalf("add with the token: %+v %v", res, err)
	}
	if pins, err := anon.ContentPins(ctx); err != nil || len(pins) != 1 || pins[0] != res.CID {
		t.Fatalf("pins after the add: %v %v", pins, err)
	}
}

// fakeAddr makes a loopback listener claim another address, so that the
// refusal is tested without listening on every interface.
type fakeAddr struct {
	net.Listener
	addr net.Addr
}

func (f fakeAddr) Addr() net.Addr { return f.addr }

func TestServeRefusesAnExposedAPIWithoutToken(t *testing.T) {
	for _, c := range []struct {
		addr  string
		token string
		ok    bool
	}{
		{"127.0.0.1:26657", "", true}, {"[::1]:26657", "", true}, {"localhost:26657", "", true},
		{"0.0.0.0:26657", "", false}, {":26657", "", false}, {"10.1.2.3:26657", "", false}, {"[::]:26657", "", false},
		{"0.0.0.0:26657", testToken, true}, {"127.0.0.1:26657", "short", false},
	} {
		if err := api.CheckToken(c.addr, c.token); (err == nil) != c.ok {
			t.Errorf("CheckToken(%q, %q) = %v, want ok=%v", c.addr, c.token, err, c.ok)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	exposed := fakeAddr{ln, &net.TCPAddr{IP: net.IPv4zero, Port: 26657}}
	err = api.ServeOptions(context.Background(), exposed, apitest.New(t), nil, api.Options{})
	if !errors.Is(err, api.ErrTokenRequired) {
		t.Fatalf("ServeOptions on 0.0.0.0 without a token: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("the refused listener is still open")
	}
}

func TestBodyLimits(t *testing.T) {
	base := contentServer(t, api.Options{MaxBodyBytes: 1 << 10, MaxAddBytes: 4 << 10})
	// Declared too large: refused before any handler reads it.
	code, _, e := do(t, "POST", base+"/txs", bytes.NewReader(make([]byte, 2<<10)), map[string]string{"Content-Type": "application/cbor"})
	if code != http.StatusRequestEntityTooLarge || e.Err != "body_too_large" || !strings.Contains(e.Message, "max_body_bytes") {
		t.Fatalf("POST /txs of 2 KiB: %d %+v", code, e)
	}
	// Chunked (no length): the handler's read stops at the limit.
	code, _, e = do(t, "POST", base+"/txs", io.MultiReader(bytes.NewReader(make([]byte, 2<<10))), map[string]string{"Content-Type": "application/cbor"})
	if code != http.StatusRequestEntityTooLarge || e.Err != "body_too_large" {
		t.Fatalf("chunked POST /txs of 2 KiB: %d %+v", code, e)
	}
	// Endpoints that read no body still refuse a large one.
	if code, _, e := do(t, "GET", base+"/status", bytes.NewReader(make([]byte, 2<<10)), nil); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("GET /status with a 2 KiB body: %d %+v", code, e)
	}
	// Content add has its own, larger cap: 2 KiB passes, 5 KiB does not.
	if code, _, e := do(t, "POST", base+"/content/add", bytes.NewReader(make([]byte, 2<<10)), nil); code != http.StatusOK {
		t.Fatalf("add of 2 KiB: %d %+v", code, e)
	}
	for _, body := range []io.Reader{bytes.NewReader(make([]byte, 5<<10)), io.MultiReader(bytes.NewReader(make([]byte, 5<<10)))} {
		code, _, e := do(t, "POST", base+"/content/add", body, nil)
		if code != http.StatusRequestEntityTooLarge || e.Err != "too_large" || !strings.Contains(e.Message, "max_add_bytes") {
			t.Fatalf("add of 5 KiB: %d %+v", code, e)
		}
	}
}

// A client that sends its headers slowly (slowloris) is cut off after
// ReadHeaderTimeout; a normal request on the same server is answered.
func TestSlowHeadersAreCutOff(t *testing.T) {
	base := serveOpts(t, apitest.New(t), api.Options{ReadHeaderTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	// Trickle a byte every 100ms: each is within any per-read timeout, but
	// the headers never end.
	go func() {
		for i := 0; i < 40; i++ {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a connection whose headers never ended for 5s")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the slow connection was closed after %v, want about 300ms", d)
	}
	if code, _, _ := do(t, "GET", base+"/status", nil, nil); code != http.StatusOK {
		t.Fatalf("status: %d", code)
	}
}

func TestEventStreamCap(t *testing.T) {
	b := apitest.New(t)
	base := serveOpts(t, b, api.Options{MaxEventStreams: 2})
	open := func() (*http.Response, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events/blocks", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, cancel
	}
	r1, c1 := open()
	defer c1()
	r2, c2 := open()
	defer c2()
	if r1.StatusCode != 200 || r2.StatusCode != 200 {
		t.Fatalf("streams: %d %d", r1.StatusCode, r2.StatusCode)
	}
	waitSubscribers(t, b, 2)
	r3, c3 := open()
	var e api.Error
	json.NewDecoder(r3.Body).Decode(&e)
	c3()
	if r3.StatusCode != http.StatusServiceUnavailable || e.Err != "too_many_streams" || r3.Header.Get("Retry-After") == "" ||
		!strings.Contains(e.Message, "max_event_streams") {
		t.Fatalf("third stream: %d %+v %v", r3.StatusCode, e, r3.Header)
	}
	// The Go client reports the server's error.
	cl, _ := api.NewClient(base)
	var ae *api.Error
	if err := cl.SubscribeBlocks(context.Background(), func(api.BlockView) bool { return false }); !errors.As(err, &ae) || ae.Err != "too_many_streams" {
		t.Fatalf("SubscribeBlocks over the cap: %v", err)
	}
	// Streams do not count against the request cap: queries still work.
	if code, _, _ := do(t, "GET", base+"/status", nil, nil); code != 200 {
		t.Fatalf("status with full streams: %d", code)
	}
	// A closed stream frees its place.
	c1()
	r1.Body.Close()
	waitSubscribers(t, b, 1)
	r4, c4 := open()
	defer c4()
	if r4.StatusCode != 200 {
		t.Fatalf("stream after one closed: %d", r4.StatusCode)
	}
	bufio.NewReader(r4.Body).ReadString('\n')
}

func TestConcurrencyCap(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(200)
	})
	base := serveOpts(t, apitest.New(t), api.Options{MaxConcurrent: 2, Extra: map[string]http.Handler{"/slow": slow}})
	done := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() {
			resp, err := http.Get(base + "/slow")
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		<-entered
	}
	code, hdr, e := do(t, "GET", base+"/status", nil, nil)
	if code != http.StatusServiceUnavailable || e.Err != "busy" || hdr.Get("Retry-After") != "1" || !strings.Contains(e.Message, "max_concurrent_requests") {
		t.Fatalf("third request: %d %+v %v", code, e, hdr)
	}
	close(release)
	for i := 0; i < 2; i++ {
		if c := <-done; c != 200 {
			t.Fatalf("slow request: %d", c)
		}
	}
	if code, _, _ := do(t, "GET", base+"/status", nil, nil); code != 200 {
		t.Fatalf("status after the slow ones ended: %d", code)
	}
}

func TestCORS(t *testing.T) {
	const site = "https://app.example"
	preflight := map[string]string{"Origin": site, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}

	// Off by default: no CORS headers; a preflight is just a wrong method.
	off := serveOpts(t, apitest.New(t), api.Options{})
	code, hdr, _ := do(t, "GET", off+"/status", nil, map[string]string{"Origin": site})
	if code != 200 || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS off, GET: %d %v", code, hdr)
	}
	code, hdr, _ = do(t, "OPTIONS", off+"/content/gc", nil, preflight)
	if code != http.StatusMethodNotAllowed || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS off, preflight: %d %v", code, hdr)
	}

	on := serveOpts(t, apitest.New(t), api.Options{Token: testToken, CORSAllowedOrigins: []string{site}})
	code, hdr, _ = do(t, "GET", on+"/status", nil, map[string]string{"Origin": site})
	if code != 200 || hdr.Get("Access-Control-Allow-Origin") != site || !strings.Contains(strings.Join(hdr.Values("Vary"), ","), "Origin") {
		t.Fatalf("CORS on, GET: %d %v", code, hdr)
	}
	// A preflight carries no credentials: answered before the token check.
	code, hdr, _ = do(t, "OPTIONS", on+"/content/gc", nil, preflight)
	if code != http.StatusNoContent || hdr.Get("Access-Control-Allow-Origin") != site ||
		!strings.Contains(hdr.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("CORS on, preflight: %d %v", code, hdr)
	}
	// The request after it still needs the token.
	if code, hdr, _ := do(t, "POST", on+"/content/gc", nil, map[string]string{"Origin": site}); code != http.StatusUnauthorized || hdr.Get("Access-Control-Allow-Origin") != site {
		t.Fatalf("CORS on, POST without token: %d %v", code, hdr)
	}
	// Another origin gets no CORS headers, and its preflight is refused.
	other := map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
	code, hdr, e := do(t, "OPTIONS", on+"/content/gc", nil, other)
	if code != http.StatusForbidden || e.Err != "origin_not_allowed" || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight of another origin: %d %+v %v", code, e, hdr)
	}
	if code, hdr, _ := do(t, "GET", on+"/status", nil, map[string]string{"Origin": "https://evil.example"}); code != 200 || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("GET from another origin: %d %v", code, hdr)
	}
}
