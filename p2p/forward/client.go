package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// Client opens lease streams, signing with an account key.
type Client struct {
	h       host.Host
	chainID string
	priv    keys.PrivKey
	// HandshakeTimeout bounds a stream's opening and handshake (default 10s).
	HandshakeTimeout time.Duration
}

// NewClient returns a client on h for chainID that signs with priv (the
// lease owner's key, or one the lease names; a validator's for probes).
func NewClient(h host.Host, chainID string, priv keys.PrivKey) *Client {
	return &Client{h: h, chainID: chainID, priv: priv, HandshakeTimeout: 10 * time.Second}
}

// RefusedError is the provider's answer when it did not open the stream.
type RefusedError struct {
	Status byte
	Msg    string
}

func (e *RefusedError) Error() string {
	what := map[byte]string{StatusRefused: "refused", StatusUnavailable: "service unavailable",
		StatusBadRequest: "bad request", StatusBusy: "busy"}[e.Status]
	if what == "" {
		what = fmt.Sprintf("status %d", e.Status)
	}
	return fmt.Sprintf("lease forward: the provider answered %s: %s", what, e.Msg)
}

// ErrRefused matches a RefusedError with StatusRefused (errors.Is).
var ErrRefused = &RefusedError{Status: StatusRefused}

// ErrUnavailable matches a RefusedError with StatusUnavailable.
var ErrUnavailable = &RefusedError{Status: StatusUnavailable}

// Is matches RefusedErrors by status.
func (e *RefusedError) Is(target error) bool {
	t, ok := target.(*RefusedError)
	return ok && t.Status == e.Status
}

// open opens a stream to provider and does the handshake.
func (c *Client) open(ctx context.Context, provider peer.ID, lease uint64, purpose Purpose) (network.Stream, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.HandshakeTimeout)
	defer cancel()
	st, err := c.h.NewStream(network.WithAllowLimitedConn(ctx, "lease"), provider, ProtocolID(c.chainID))
	if err != nil {
		return nil, nil, fmt.Errorf("lease forward: open a stream to provider %s: %w (is its node reachable, and does it run this lease?)", provider, err)
	}
	deadline, _ := ctx.Deadline()
	_ = st.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	msg, err := c.handshake(st, provider, lease, purpose)
	if err != nil {
		st.Reset()
		if ctx.Err() != nil {
			err = fmt.Errorf("lease forward: handshake with %s: %w", provider, ctx.Err())
		}
		return nil, nil, err
	}
	_ = st.SetDeadline(time.Time{})
	return st, msg, nil
}

func (c *Client) handshake(st network.Stream, provider peer.ID, lease uint64, purpose Purpose) ([]byte, error) {
	nonce := make([]byte, NonceLen)
	if _, err := io.ReadFull(st, nonce); err != nil {
		return nil, fmt.Errorf("lease forward: read the provider's nonce: %w", err)
	}
	payload := signPayload(nonce, lease, purpose, c.h.ID(), provider)
	h := Hello{Lease: lease, Purpose: purpose, PubKey: c.priv.Public().(keys.PubKey),
		Sig: keys.Sign(c.priv, c.chainID, Domain, payload)}
	if err := writeFrame(st, encodeHello(h)); err != nil {
		return nil, fmt.Errorf("lease forward: send hello: %w", err)
	}
	status, msg, err := readReply(st)
	if err != nil {
		return nil, fmt.Errorf("lease forward: read the provider's answer: %w", err)
	}
	if status != StatusOK {
		return nil, &RefusedError{Status: status, Msg: string(msg)}
	}
	return msg, nil
}

// Dial opens a forwarded connection to the service of lease on provider.
func (c *Client) Dial(ctx context.Context, provider peer.ID, lease uint64) (net.Conn, error) {
	st, _, err := c.open(ctx, provider, lease, PurposeForward)
	if err != nil {
		return nil, err
	}
	return &streamConn{Stream: st}, nil
}

// Probe asks provider to GET the health path of lease.
func (c *Client) Probe(ctx context.Context, provider peer.ID, lease uint64) (ProbeResult, error) {
	st, msg, err := c.open(ctx, provider, lease, PurposeProbe)
	if err != nil {
		return ProbeResult{}, err
	}
	st.Close()
	var r ProbeResult
	if err := codec.Unmarshal(msg, &r); err != nil {
		return r, fmt.Errorf("lease forward: bad probe answer from %s: %v", provider, err)
	}
	return r, nil
}

// Logs follows job's live output on provider (the job's owner only).
// Close the reader to stop.
func (c *Client) Logs(ctx context.Context, provider peer.ID, job uint64) (io.ReadCloser, error) {
	st, _, err := c.open(ctx, provider, job, PurposeLogs)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	return &logStream{Stream: st, stop: stop}, nil
}

type logStream struct {
	network.Stream
	stop func() bool
}

func (l *logStream) Close() error {
	l.stop()
	return l.Stream.Close()
}

// ErrNotFound: no peer asked runs the lease.
var ErrNotFound = errors.New("lease forward: none of the connected peers runs this lease")

// Locate asks peers, all at once, which one runs lease, and returns the
// first that says so.
func (c *Client) Locate(ctx context.Context, peers []peer.ID, lease uint64) (peer.ID, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make(chan peer.ID, len(peers))
	for _, p := range peers {
		go func() {
			st, _, err := c.open(ctx, p, lease, PurposeLocate)
			if err != nil {
				found <- ""
				return
			}
			st.Close()
			found <- p
		}()
	}
	for range peers {
		if p := <-found; p != "" {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w (lease %d, %d peers asked)", ErrNotFound, lease, len(peers))
}

// HTTPTransport returns a transport whose every connection is a forwarded
// stream to lease (the URL's host is ignored); it keeps connections alive
// so requests reuse streams.
func (c *Client) HTTPTransport(provider peer.ID, lease uint64) *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.Dial(ctx, provider, lease)
		},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
}

// Serve accepts connections on ln and forwards each to lease on provider
// until ctx ends or ln is closed. A connection the provider will not
// carry is answered with an HTTP 502 carrying the provider's reason (the
// traffic is HTTP, as users bring) and logged.
func (c *Client) Serve(ctx context.Context, ln net.Listener, provider peer.ID, lease uint64, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return ctx.Err()
			}
			return fmt.Errorf("lease forward: accept: %w", err)
		}
		go func() {
			st, err := c.Dial(ctx, provider, lease)
			if err != nil {
				log.Warn("lease forward", "lease", lease, "err", err)
				badGateway(conn, err)
				conn.Close()
				return
			}
			tc, ok := conn.(*net.TCPConn)
			if !ok {
				conn.Close()
				st.Close()
				return
			}
			pipe(tc, st.(*streamConn))
		}()
	}
}

func badGateway(conn net.Conn, err error) {
	body := err.Error() + "\n"
	_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(conn, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
}

// streamConn is a stream as a net.Conn.
type streamConn struct{ network.Stream }

type peerAddr string

func (a peerAddr) Network() string { return "libp2p" }
func (a peerAddr) String() string  { return string(a) }

func (s *streamConn) LocalAddr() net.Addr  { return peerAddr(s.Conn().LocalPeer().String()) }
func (s *streamConn) RemoteAddr() net.Addr { return peerAddr(s.Conn().RemotePeer().String()) }
