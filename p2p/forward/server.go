package forward

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// Target is where an authorised stream goes: the container's published
// port on the provider's loopback and the lease's health path.
type Target struct {
	Addr   string // "127.0.0.1:PORT"
	Health string // "/healthz"; "" when the lease has none
}

// Authorizer decides whether account who may use lease for purpose, and
// where its stream goes. Its error is sent to the client as the refusal,
// so it should say what was wrong and what to do. It is called from many
// stream goroutines at once.
type Authorizer func(lease uint64, who keys.Address, purpose Purpose) (Target, error)

// ServerConfig of a Server. Zero fields take the defaults.
type ServerConfig struct {
	ChainID string
	// Authorize is required.
	Authorize Authorizer
	// HandshakeTimeout bounds the handshake (default 10s).
	HandshakeTimeout time.Duration
	// DialTimeout bounds the dial of the container (default 5s).
	DialTimeout time.Duration
	// ProbeTimeout bounds a health probe's GET (default 5s).
	ProbeTimeout time.Duration
	// Logs, when set, opens the live output of a job (PurposeLogs, after
	// Authorize allowed it); the reader ends with the job or ctx.
	Logs func(ctx context.Context, job uint64) (io.ReadCloser, error)
	// MaxStreams caps the forwarded streams at once (default 1024); a slot
	// is taken only once a stream is authorised.
	MaxStreams int
	// MaxHandshakesPerPeer caps one peer's streams still in their
	// handshake (default 16), so that unauthenticated streams cannot hold
	// the slots of those that are.
	MaxHandshakesPerPeer int
	Logger               *slog.Logger
}

// Server accepts lease streams on a libp2p host.
type Server struct {
	h     host.Host
	cfg   ServerConfig
	slots chan struct{}
	probe *http.Client

	mu      sync.Mutex
	closed  bool
	conns   map[io.Closer]struct{}
	shaking map[peer.ID]int // streams in their handshake, by peer
	wg      sync.WaitGroup
}

// NewServer registers the protocol's handler on h. Close removes it and
// ends every stream it carries.
func NewServer(h host.Host, cfg ServerConfig) (*Server, error) {
	if cfg.Authorize == nil {
		return nil, errors.New("lease forward: server needs an Authorizer")
	}
	if cfg.ChainID == "" {
		return nil, errors.New("lease forward: server needs the chain id")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.HandshakeTimeout, 10*time.Second)
	def(&cfg.DialTimeout, 5*time.Second)
	def(&cfg.ProbeTimeout, 5*time.Second)
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 1024
	}
	if cfg.MaxHandshakesPerPeer <= 0 {
		cfg.MaxHandshakesPerPeer = 16
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{h: h, cfg: cfg, slots: make(chan struct{}, cfg.MaxStreams), conns: map[io.Closer]struct{}{}, shaking: map[peer.ID]int{},
		probe: &http.Client{
			Timeout: cfg.ProbeTimeout,
			// A probe is one GET of the health path, never a redirect
			// elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		}}
	h.SetStreamHandler(ProtocolID(cfg.ChainID), s.handle)
	return s, nil
}

// Close stops accepting streams and ends those in progress.
func (s *Server) Close() error {
	s.h.RemoveStreamHandler(ProtocolID(s.cfg.ChainID))
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) track(c io.Closer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c io.Closer) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) handle(st network.Stream) {
	// Add under the lock Close takes: no Add after Close's Wait began.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		st.Reset()
		return
	}
	s.wg.Add(1)
	s.conns[st] = struct{}{}
	s.mu.Unlock()
	defer s.wg.Done()
	defer s.untrack(st)
	remote := st.Conn().RemotePeer()
	log := s.cfg.Logger.With("peer", remote)
	if !s.startHandshake(remote) {
		writeReply(st, StatusBusy, []byte("too many handshakes in progress from this peer; finish them first"))
		st.Close()
		return
	}
	_ = st.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	h, who, status, err := s.handshake(st)
	s.endHandshake(remote)
	if err != nil {
		log.Debug("lease forward refused", "lease", h.Lease, "err", err)
		writeReply(st, status, []byte(err.Error()))
		st.Close()
		return
	}
	t, err := s.cfg.Authorize(h.Lease, who, h.Purpose)
	if err != nil {
		log.Info("lease forward refused", "lease", h.Lease, "account", who, "purpose", h.Purpose, "err", err)
		writeReply(st, StatusRefused, []byte(err.Error()))
		st.Close()
		return
	}
	if h.Purpose == PurposeForward || h.Purpose == PurposeLogs {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		default:
			writeReply(st, StatusBusy, []byte("the provider forwards too many streams right now; try again shortly"))
			st.Close()
			return
		}
	}
	if h.Purpose == PurposeLogs {
		s.serveLogs(st, h.Lease)
		return
	}
	if h.Purpose == PurposeLocate {
		writeReply(st, StatusOK, nil)
		st.Close()
		return
	}
	if h.Purpose == PurposeProbe {
		res := s.doProbe(t)
		writeReply(st, StatusOK, codec.MustMarshal(res))
		st.Close()
		return
	}
	up, err := net.DialTimeout("tcp", t.Addr, s.cfg.DialTimeout)
	if err != nil {
		writeReply(st, StatusUnavailable, fmt.Appendf(nil, "lease %d: the service container is not reachable on the provider (%v); it may have stopped or be restarting: check `inferd query job %d`", h.Lease, err, h.Lease))
		st.Close()
		return
	}
	defer up.Close()
	if !s.track(up) {
		st.Reset()
		return
	}
	defer s.untrack(up)
	if err := writeReply(st, StatusOK, nil); err != nil {
		st.Reset()
		return
	}
	_ = st.SetDeadline(time.Time{})
	pipe(st, up.(*net.TCPConn))
}

func (s *Server) startHandshake(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shaking[p] >= s.cfg.MaxHandshakesPerPeer {
		return false
	}
	s.shaking[p]++
	return true
}

func (s *Server) endHandshake(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shaking[p]--; s.shaking[p] <= 0 {
		delete(s.shaking, p)
	}
}

// handshake sends the nonce and checks the Hello's signature.
func (s *Server) handshake(st network.Stream) (Hello, keys.Address, byte, error) {
	nonce := make([]byte, NonceLen)
	rand.Read(nonce)
	if _, err := st.Write(nonce); err != nil {
		return Hello{}, keys.Address{}, StatusBadRequest, err
	}
	body, err := readFrame(st, MaxHello)
	if err != nil {
		return Hello{}, keys.Address{}, StatusBadRequest, fmt.Errorf("read hello: %w", err)
	}
	h, pub, err := decodeHello(body)
	if err != nil {
		return h, keys.Address{}, StatusBadRequest, err
	}
	msg := signPayload(nonce, h.Lease, h.Purpose, st.Conn().RemotePeer(), s.h.ID())
	if !keys.Verify(pub, s.cfg.ChainID, Domain, msg, h.Sig) {
		return h, keys.Address{}, StatusBadRequest, fmt.Errorf("%w: the signature does not verify with the key it names (wrong chain id %q?)", ErrBadHandshake, s.cfg.ChainID)
	}
	return h, keys.AddressOf(pub), StatusOK, nil
}

func (s *Server) doProbe(t Target) ProbeResult {
	if t.Health == "" {
		return ProbeResult{Err: "the lease has no health path"}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.Addr+t.Health, nil)
	if err != nil {
		return ProbeResult{Err: err.Error()}
	}
	resp, err := s.probe.Do(req)
	micros := uint64(time.Since(start).Microseconds())
	if err != nil {
		return ProbeResult{Micros: micros, Err: err.Error()}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return ProbeResult{Code: resp.StatusCode, Micros: micros}
}

// serveLogs streams job's live output until it ends or the client closes.
func (s *Server) serveLogs(st network.Stream, job uint64) {
	if s.cfg.Logs == nil {
		writeReply(st, StatusUnavailable, []byte("this provider serves no live logs"))
		st.Close()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rd, err := s.cfg.Logs(ctx, job)
	if err != nil {
		writeReply(st, StatusUnavailable, fmt.Appendf(nil, "job %d: %v", job, err))
		st.Close()
		return
	}
	defer rd.Close()
	if err := writeReply(st, StatusOK, nil); err != nil {
		st.Reset()
		return
	}
	_ = st.SetDeadline(time.Time{})
	// The client sends nothing more: its close (or reset) ends the stream.
	go func() {
		io.Copy(io.Discard, st)
		cancel()
	}()
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	if _, err := io.CopyBuffer(onlyWriter{st}, onlyReader{rd}, *bp); err != nil {
		st.Reset()
		return
	}
	st.Close()
}
