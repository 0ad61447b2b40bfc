package forward

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/p2p/p2ptest"
)

const testChain = "fwd-test"

func newKey(t testing.TB) keys.PrivKey {
	_, priv, err := keys.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func addr(priv keys.PrivKey) keys.Address { return keys.AddressOf(priv.Public().(keys.PubKey)) }

// rig is a provider host with a Server in front of an upstream, and a
// user host, connected.
type rig struct {
	prov, user      host.Host
	srv             *Server
	owner, stranger keys.PrivKey
	validator       keys.PrivKey
	upstream        *httptest.Server
	lease           uint64
	// upConns counts connections the upstream accepted, localConns those
	// the user-side listeners accepted (keep-alive keeps both at one per
	// client connection).
	upConns, localConns atomic.Int64
}

// echo answers /healthz with 200 (or 500 with ?sick), and echoes bodies.
func echoHandler(sick *bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if *sick {
			http.Error(w, "sick", 500)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			// Echo as the body arrives. Without full duplex, net/http
			// answering before the body is read discards the rest of a
			// body under 256 KiB, or closes the connection after a larger
			// one (no keep-alive: a new stream per 1 MiB request).
			if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			io.Copy(w, r.Body)
			return
		}
		io.WriteString(w, `{"model":"m","prediction":[1,2,3]}`)
	})
	return mux
}

func newRig(t testing.TB) *rig {
	r := &rig{prov: p2ptest.NewHost(t), user: p2ptest.NewHost(t), owner: newKey(t), stranger: newKey(t), validator: newKey(t), lease: 7}
	sick := new(bool)
	r.upstream = httptest.NewUnstartedServer(echoHandler(sick))
	r.upstream.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			r.upConns.Add(1)
		}
	}
	r.upstream.Start()
	t.Cleanup(r.upstream.Close)
	up := strings.TrimPrefix(r.upstream.URL, "http://")
	srv, err := NewServer(r.prov, ServerConfig{ChainID: testChain, Authorize: func(lease uint64, who keys.Address, p Purpose) (Target, error) {
		if lease != r.lease {
			return Target{}, fmt.Errorf("no live lease %d runs on this provider", lease)
		}
		switch {
		case who == addr(r.owner):
		case who == addr(r.validator) && p == PurposeProbe:
		case p == PurposeLocate:
		default:
			return Target{}, fmt.Errorf("account %s may not %s lease %d: only its owner and the keys it names", who, p, lease)
		}
		return Target{Addr: up, Health: "/healthz"}, nil
	}, Logs: func(ctx context.Context, job uint64) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("line 1\nline 2\n")), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	r.srv = srv
	if err := r.user.Connect(context.Background(), peer.AddrInfo{ID: r.prov.ID(), Addrs: r.prov.Addrs()}); err != nil {
		t.Fatal(err)
	}
	return r
}

// listen starts a user-side forwarder with key priv and returns its URL.
func (r *rig) listen(t testing.TB, priv keys.PrivKey) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := NewClient(r.user, testChain, priv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Serve(ctx, countingListener{ln, &r.localConns}, r.prov.ID(), r.lease, nil)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// countingListener counts the connections it accepts (and hands them on
// unwrapped: Serve needs the *net.TCPConn).
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func TestForwardHTTP(t *testing.T) {
	r := newRig(t)
	url := r.listen(t, r.owner)
	resp, err := http.Get(url + "/v1/predict")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"model":"m","prediction":[1,2,3]}` {
		t.Fatalf("GET through the forwarder: %d %q", resp.StatusCode, body)
	}
	big := make([]byte, 1<<20)
	rand.Read(big)
	resp, err = http.Post(url+"/echo", "application/octet-stream", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, big) {
		t.Fatalf("1 MiB echo came back as %d bytes, not the same", len(got))
	}
}

func TestOtherKeyRefused(t *testing.T) {
	r := newRig(t)
	c := NewClient(r.user, testChain, r.stranger)
	_, err := c.Dial(context.Background(), r.prov.ID(), r.lease)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "only its owner") {
		t.Fatalf("a stranger's key: %v, want a refusal naming who may connect", err)
	}
	// Through the listener, a plain HTTP client gets a 502 saying why.
	resp, err := http.Get(r.listen(t, r.stranger) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "only its owner") {
		t.Fatalf("stranger through the listener: %d %q", resp.StatusCode, body)
	}
	// Another lease id is refused even for the owner.
	if _, err := NewClient(r.user, testChain, r.owner).Dial(context.Background(), r.prov.ID(), 8); !errors.Is(err, ErrRefused) {
		t.Fatalf("unknown lease: %v", err)
	}
	// A key signing for another chain is refused as a bad signature.
	if _, err := NewClient(r.user, "other-chain", r.owner).Dial(context.Background(), r.prov.ID(), r.lease); err == nil {
		t.Fatal("a hello signed for another chain was accepted")
	}
}

func TestUpstreamGone(t *testing.T) {
	r := newRig(t)
	r.upstream.Close()
	_, err := NewClient(r.user, testChain, r.owner).Dial(context.Background(), r.prov.ID(), r.lease)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not reachable") {
		t.Fatalf("upstream gone: %v, want service unavailable", err)
	}
}

func TestProbe(t *testing.T) {
	r := newRig(t)
	v := NewClient(r.user, testChain, r.validator)
	res, err := v.Probe(context.Background(), r.prov.ID(), r.lease)
	if err != nil || !res.Healthy() || res.Code != 200 {
		t.Fatalf("probe: %+v %v", res, err)
	}
	// A validator may probe but not forward.
	if _, err := v.Dial(context.Background(), r.prov.ID(), r.lease); !errors.Is(err, ErrRefused) {
		t.Fatalf("validator forward: %v, want refused", err)
	}
	r.upstream.Close()
	res, err = v.Probe(context.Background(), r.prov.ID(), r.lease)
	if err != nil || res.Healthy() || res.Err == "" {
		t.Fatalf("probe of a stopped service: %+v %v, want unhealthy with a reason", res, err)
	}
}

// rawStream opens a protocol stream from the user host and reads the nonce.
func rawStream(t *testing.T, r *rig) (network.Stream, []byte) {
	st, err := r.user.NewStream(context.Background(), r.prov.ID(), ProtocolID(testChain))
	if err != nil {
		t.Fatal(err)
	}
	st.SetDeadline(time.Now().Add(5 * time.Second))
	nonce := make([]byte, NonceLen)
	if _, err := io.ReadFull(st, nonce); err != nil {
		t.Fatal(err)
	}
	return st, nonce
}

func TestBadHandshakes(t *testing.T) {
	r := newRig(t)
	signed := func(nonce []byte) []byte {
		p := signPayload(nonce, r.lease, PurposeForward, r.user.ID(), r.prov.ID())
		return encodeHello(Hello{Lease: r.lease, Purpose: PurposeForward, PubKey: r.owner.Public().(keys.PubKey), Sig: keys.Sign(r.owner, testChain, Domain, p)})
	}
	var captured []byte
	cases := []struct {
		name string
		send func(nonce []byte) []byte
		want string
	}{
		{"oversized", func([]byte) []byte { return []byte{0x80, 0x80, 0x40} }, "the most is"},
		{"long prefix", func([]byte) []byte { return bytes.Repeat([]byte{0xff}, 11) }, "length prefix"},
		{"not cbor", func([]byte) []byte { return append([]byte{5}, "hello"...) }, "bad handshake"},
		{"bad purpose", func(n []byte) []byte {
			h := Hello{Lease: 7, Purpose: 9, PubKey: r.owner.Public().(keys.PubKey), Sig: make([]byte, 64)}
			b := encodeHello(h)
			return append([]byte{byte(len(b))}, b...)
		}, "unknown purpose"},
		{"short key", func(n []byte) []byte {
			b := encodeHello(Hello{Lease: 7, Purpose: PurposeForward, PubKey: []byte{1, 2}, Sig: make([]byte, 64)})
			return append([]byte{byte(len(b))}, b...)
		}, "public key"},
		{"wrong nonce", func(n []byte) []byte {
			b := signed(make([]byte, NonceLen))
			return append([]byte{byte(len(b))}, b...)
		}, "does not verify"},
		{"replayed", func(n []byte) []byte {
			captured = signed(n) // valid here ...
			return nil
		}, ""},
		{"replay", func(n []byte) []byte { // ... and worthless on the next stream
			return append([]byte{byte(len(captured))}, captured...)
		}, "does not verify"},
	}
	for _, tc := range cases {
		st, nonce := rawStream(t, r)
		msg := tc.send(nonce)
		if msg == nil {
			st.Close()
			continue
		}
		st.Write(msg)
		status, reply, err := readReply(st)
		st.Close()
		if err != nil || status != StatusBadRequest || !strings.Contains(string(reply), tc.want) {
			t.Errorf("%s: status %d %q %v, want bad request with %q", tc.name, status, reply, err, tc.want)
		}
	}
	// Truncated: the stream ends mid-frame; the server must not hang or
	// panic, and serves the next stream.
	st, _ := rawStream(t, r)
	st.Write([]byte{50, 1, 2})
	st.Close()
	if _, err := NewClient(r.user, testChain, r.owner).Dial(context.Background(), r.prov.ID(), r.lease); err != nil {
		t.Fatalf("after bad handshakes, a good one: %v", err)
	}
}

// TestGarbage sends random bytes as handshakes: every one is answered or
// closed, and the server keeps working.
func TestGarbage(t *testing.T) {
	r := newRig(t)
	for i := 0; i < 50; i++ {
		st, _ := rawStream(t, r)
		b := make([]byte, 1+i*7)
		rand.Read(b)
		st.Write(b)
		st.CloseWrite() // a partial frame then EOF: the server must not wait for more
		io.Copy(io.Discard, st)
		st.Close()
	}
	if _, err := NewClient(r.user, testChain, r.owner).Dial(context.Background(), r.prov.ID(), r.lease); err != nil {
		t.Fatalf("after garbage: %v", err)
	}
}

func TestServerClose(t *testing.T) {
	r := newRig(t)
	c := NewClient(r.user, testChain, r.owner)
	conn, err := c.Dial(context.Background(), r.prov.ID(), r.lease)
	if err != nil {
		t.Fatal(err)
	}
	r.srv.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("a stream survived the server's close")
	}
	if _, err := c.Dial(context.Background(), r.prov.ID(), r.lease); err == nil {
		t.Fatal("a closed server accepted a stream")
	}
}

func TestLocate(t *testing.T) {
	r := newRig(t)
	other := p2ptest.NewHost(t)
	r.user.Connect(context.Background(), peer.AddrInfo{ID: other.ID(), Addrs: other.Addrs()})
	c := NewClient(r.user, testChain, r.stranger) // anyone may ask where a lease runs
	p, err := c.Locate(context.Background(), []peer.ID{other.ID(), r.prov.ID()}, r.lease)
	if err != nil || p != r.prov.ID() {
		t.Fatalf("locate: %s %v, want %s", p, err, r.prov.ID())
	}
	if _, err := c.Locate(context.Background(), []peer.ID{other.ID(), r.prov.ID()}, 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("locate an unknown lease: %v", err)
	}
}

func TestLogs(t *testing.T) {
	r := newRig(t)
	rd, err := NewClient(r.user, testChain, r.owner).Logs(context.Background(), r.prov.ID(), r.lease)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rd)
	rd.Close()
	if err != nil || string(b) != "line 1\nline 2\n" {
		t.Fatalf("logs: %q %v", b, err)
	}
	if _, err := NewClient(r.user, testChain, r.stranger).Logs(context.Background(), r.prov.ID(), r.lease); !errors.Is(err, ErrRefused) {
		t.Fatalf("a stranger's logs: %v", err)
	}
}

// TestHandshakeFlood: one peer holding streams open without a hello gets
// "busy" past its handshake cap, and cannot take the forwarding slots of
// an authorised client on another peer.
func TestHandshakeFlood(t *testing.T) {
	r := newRig(t)
	r.srv.Close()
	up := strings.TrimPrefix(r.upstream.URL, "http://")
	srv, err := NewServer(r.prov, ServerConfig{ChainID: testChain, MaxStreams: 2, MaxHandshakesPerPeer: 3,
		Authorize: func(uint64, keys.Address, Purpose) (Target, error) { return Target{Addr: up}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var held []network.Stream
	for i := 0; i < 3; i++ {
		st, _ := rawStream(t, r) // nonce read, no hello sent
		held = append(held, st)
	}
	st, err := r.user.NewStream(context.Background(), r.prov.ID(), ProtocolID(testChain))
	if err != nil {
		t.Fatal(err)
	}
	st.SetDeadline(time.Now().Add(5 * time.Second))
	status, msg, err := readReply(st)
	if err != nil || status != StatusBusy {
		t.Fatalf("a 4th handshake from the same peer: status %d %q %v, want busy", status, msg, err)
	}
	st.Close()
	other := p2ptest.NewHost(t)
	other.Connect(context.Background(), peer.AddrInfo{ID: r.prov.ID(), Addrs: r.prov.Addrs()})
	c := NewClient(other, testChain, r.owner)
	for i := 0; i < 2; i++ {
		conn, err := c.Dial(context.Background(), r.prov.ID(), r.lease)
		if err != nil {
			t.Fatalf("authorised stream %d while another peer floods: %v", i, err)
		}
		defer conn.Close()
	}
	// Both slots are taken by authorised streams now: a third is busy.
	if _, err := c.Dial(context.Background(), r.prov.ID(), r.lease); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("a third forwarded stream with 2 slots: %v", err)
	}
	for _, h := range held {
		h.Close()
	}
}
