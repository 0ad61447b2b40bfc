package badgerstore

import (
	"testing"

	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/ledger/store/storetest"
)

func TestBadgerConformance(t *testing.T) {
	s, err := Open(t.TempDir(), Options{SmallMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.Run(t, s)
}

func TestReopenKeepsLatest(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{SmallMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	for h := uint64(0); h < 3; h++ {
		if err := s.Commit(h, []store.Change{{Key: []byte("k"), Value: []byte{byte(h)}}}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(dir, Options{SmallMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h, ok := s.Latest(); !ok || h != 2 {
		t.Fatalf("latest after reopen = %d %v", h, ok)
	}
	r, _ := s.At(1)
	if v, _, _ := r.Get([]byte("k")); len(v) != 1 || v[0] != 1 {
		t.Fatalf("height 1 value %v", v)
	}
}
