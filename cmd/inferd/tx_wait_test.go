package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inferd/inferd/node/api"
)

// A transaction the node reports dropped ends the wait at once with the
// node's reason; one that is merely not committed yet is waited for.
func TestTxWaitStopsOnDropped(t *testing.T) {
	var dropped atomic.Bool
	dropped.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		if dropped.Load() {
			w.Write([]byte(`{"code":404,"error":"tx_dropped","message":"transaction AB was dropped without being committed: its nonce was used by another transaction of the same account (sign and submit it again)"}`))
			return
		}
		w.Write([]byte(`{"code":404,"error":"tx_pending","message":"pending"}`))
	}))
	defer srv.Close()
	cl, err := api.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	a := &txArgs{waitTimeout: 10 * time.Second, poll: 10 * time.Millisecond}
	start := time.Now()
	_, err = a.wait(context.Background(), cl, [32]byte{0xab})
	if err == nil || !strings.Contains(err.Error(), "nonce was used") {
		t.Fatalf("want the drop reason, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("waited for a dropped transaction")
	}
	dropped.Store(false)
	a.waitTimeout = 100 * time.Millisecond
	if _, err := a.wait(context.Background(), cl, [32]byte{0xab}); err == nil || !strings.Contains(err.Error(), "not committed within") {
		t.Fatalf("pending: want the timeout, got %v", err)
	}
}
