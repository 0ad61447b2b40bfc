// Package storetest is a conformance suite run against every store.Store
// implementation, so the in-memory twin and Badger cannot drift apart.
package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/inferd/inferd/ledger/store"
)

// Run checks versioned reads, deletes, iteration order and commit ordering.
func Run(t *testing.T, s store.Store) {
	t.Helper()
	if _, has := s.Latest(); has {
		t.Fatal("new store reports a committed height")
	}
	if _, err := s.At(0); !errors.Is(err, store.ErrUnknownHeight) {
		t.Fatalf("At on empty store: %v", err)
	}
	must(t, s.Commit(0, []store.Change{{Key: []byte("a/1"), Value: []byte("x")}, {Key: []byte("a/2"), Value: []byte("y")}, {Key: []byte("b"), Value: []byte("z")}}))
	must(t, s.Commit(1, []store.Change{{Key: []byte("a/1"), Value: []byte("x2")}, {Key: []byte("a/2"), Delete: true}, {Key: []byte("a/0"), Value: []byte("w")}}))
	if err := s.Commit(3, nil); !errors.Is(err, store.ErrOutOfOrder) {
		t.Fatalf("commit out of order: %v", err)
	}
	if h, _ := s.Latest(); h != 1 {
		t.Fatalf("latest %d, want 1", h)
	}
	want := map[uint64]string{0: "a/1=x,a/2=y,", 1: "a/0=w,a/1=x2,"}
	for h, w := range want {
		r, err := s.At(h)
		must(t, err)
		got := ""
		must(t, r.Iterate([]byte("a/"), func(k, v []byte) bool { got += fmt.Sprintf("%s=%s,", k, v); return true }))
		if got != w {
			t.Errorf("height %d: iterate a/ = %q, want %q", h, got, w)
		}
	}
	r0, _ := s.At(0)
	if v, ok, _ := r0.Get([]byte("a/2")); !ok || string(v) != "y" {
		t.Errorf("height 0 a/2 = %q %v", v, ok)
	}
	r1, _ := s.At(1)
	if _, ok, _ := r1.Get([]byte("a/2")); ok {
		t.Error("deleted key still visible at height 1")
	}
	if v, ok, _ := r1.Get([]byte("b")); !ok || string(v) != "z" {
		t.Errorf("unchanged key at height 1 = %q %v", v, ok)
	}
	n := 0
	must(t, r1.Iterate(nil, func(k, v []byte) bool { n++; return n < 2 }))
	if n != 2 {
		t.Errorf("iteration did not stop when asked: %d", n)
	}
	if _, err := s.At(2); !errors.Is(err, store.ErrUnknownHeight) {
		t.Errorf("future height: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
