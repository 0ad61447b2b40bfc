package api_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

// TestServeShutdown: Serve answers on its listener and returns once ctx is
// done, ending open event streams.
func TestServeShutdown(t *testing.T) {
	b := apitest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.ServeListener(ctx, ln, b, api.NewMetrics()) }()
	c, err := api.NewClient("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(context.Background())
	if err != nil || st.ChainID != apitest.ChainID {
		t.Fatalf("status %+v, %v", st, err)
	}
	streamDone := make(chan error, 1)
	go func() {
		streamDone <- c.SubscribeBlocks(context.Background(), func(api.BlockView) bool { return true })
	}()
	waitSubscribers(t, b, 1)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	select {
	case <-streamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the event stream outlived the server")
	}
	if _, err := c.Status(context.Background()); err == nil {
		t.Fatal("the server still answers")
	}
	var ae *api.Error
	if err := api.Serve(context.Background(), "127.0.0.1:notaport", b, nil); err == nil || errors.As(err, &ae) {
		t.Fatalf("Serve on a bad address: %v", err)
	}
}
