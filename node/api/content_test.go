package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

type contentBackend struct {
	*apitest.Backend
	svc *content.Service
}

func (b contentBackend) Content() *content.Service { return b.svc }

func startContent(t *testing.T) (host.Host, *api.Client) {
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		api.ServeListenerWith(ctx, ln, contentBackend{apitest.New(t), svc}, api.NewMetrics(), map[string]http.Handler{"/ipfs/": svc.Gateway})
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	c, err := api.NewClient("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return h, c
}

func TestContentEndpoints(t *testing.T) {
	ctx := context.Background()
	a, ca := startContent(t)
	b, cb := startContent(t)
	data := make([]byte, 3<<20+17)
	rand.New(rand.NewSource(7)).Read(data)
	want, _ := content.HashReader(ctx, bytes.NewReader(data), content.AddOptions{})

	// Add through A's API: the same CID as a local add.
	res, err := ca.ContentAdd(ctx, bytes.NewReader(data), api.ContentAddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.CID != want.String() || res.Bytes != int64(len(data)) || !res.Pinned {
		t.Fatalf("add: %+v, want %s", res, want)
	}
	if pins, err := ca.ContentPins(ctx); err != nil || len(pins) != 1 || pins[0] != want.String() {
		t.Fatalf("pins on A: %v %v", pins, err)
	}

	// B fetches it from A through B's API, with progress.
	if err := b.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()}); err != nil {
		t.Fatal(err)
	}
	var calls int
	rep, err := cb.ContentFetch(ctx, want.String(), 20*time.Second, false, func(done, total int64) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Bytes != int64(len(data)) || rep.Received != rep.Blocks || rep.Held != 0 || calls == 0 {
		t.Errorf("fetch report %+v after %d progress calls", rep, calls)
	}
	r, n, err := cb.ContentGet(ctx, want.String())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, data) || n != int64(len(data)) {
		t.Fatalf("GET /ipfs/: %d bytes (announced %d), equal %v", len(got), n, bytes.Equal(got, data))
	}

	// Errors: each one line, with the right code.
	var e *api.Error
	if _, err := cb.ContentFetch(ctx, "bafy-garbage", time.Second, false, nil); !errors.As(err, &e) || e.Code != 400 || e.Err != "bad_cid" {
		t.Errorf("fetch of a bad CID: %v", err)
	}
	unknown, _ := content.HashReader(ctx, strings.NewReader("nobody has this"), content.AddOptions{})
	if _, err := cb.ContentFetch(ctx, unknown.String(), time.Second, false, nil); !errors.As(err, &e) || e.Err != "timeout" || !strings.Contains(e.Message, "timed out") {
		t.Errorf("fetch of an unknown CID: %v", err)
	}
	if err := cb.ContentPin(ctx, unknown.String()); !errors.As(err, &e) || e.Code != 404 || !strings.Contains(e.Message, "fetch it first") {
		t.Errorf("pin of an unknown CID: %v", err)
	}
	if _, err := cb.ContentFetch(ctx, want.String(), -time.Second, false, nil); err != nil {
		t.Errorf("fetch with no timeout: %v", err)
	}

	// Unpin and gc on B: the blocks go, the pin set is empty.
	if err := cb.ContentUnpin(ctx, want.String()); err != nil {
		t.Fatal(err)
	}
	if err := cb.ContentUnpin(ctx, want.String()); !errors.As(err, &e) || e.Err != "not_pinned" {
		t.Errorf("second unpin: %v", err)
	}
	gc, err := cb.ContentGC(ctx)
	if err != nil || gc.Removed != rep.Blocks || gc.Kept != 0 {
		t.Errorf("gc: %+v %v, want %d removed", gc, err, rep.Blocks)
	}
	if pins, _ := cb.ContentPins(ctx); len(pins) != 0 {
		t.Errorf("pins after unpin: %v", pins)
	}
	if _, _, err := cb.ContentGet(ctx, want.String()); !errors.As(err, &e) || e.Code != 404 {
		t.Errorf("GET after gc: %v", err)
	}
}
