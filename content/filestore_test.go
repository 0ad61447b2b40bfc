package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
)

func blockFiles(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join(dir, "blocks", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func catAll(t *testing.T, s *Store, c cid.Cid) []byte {
	t.Helper()
	r, err := s.Cat(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileStoreKeepsLeavesInFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := seededBytes(4 << 20)
	c, err := s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaves := leafCIDs(t, s, c)
	if n := len(blockFiles(t, dir)); n != len(leaves) {
		t.Errorf("%d block files for %d leaves", n, len(leaves))
	}
	f := s.ds.(*fileDS)
	v, err := f.badgerDS.Get(ctx, blockKey(leaves[0]))
	if _, ok := parseMarker(v); err != nil || !ok {
		t.Errorf("Badger holds %d bytes for a leaf (%v), want only a marker", len(v), err)
	}
	if n, err := s.bs.GetSize(ctx, leaves[0]); err != nil || n != 256<<10 {
		t.Errorf("GetSize of a leaf in a file: %d, %v", n, err)
	}
	if !bytes.Equal(catAll(t, s, c), data) {
		t.Fatal("file read back differs")
	}
	s.Close()

	// Reopened, the same; unpinned, GC removes the files.
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !bytes.Equal(catAll(t, s, c), data) {
		t.Fatal("file read back after reopening differs")
	}
	if err := s.Unpin(ctx, c); err != nil {
		t.Fatal(err)
	}
	// An orphan (a crash between file and index) and a stray temporary.
	os.WriteFile(filepath.Join(dir, "blocks", "AA", "CIQORPHANAA"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "blocks", "AA", ".tmp-1"), []byte("x"), 0o644)
	if _, err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if fs := blockFiles(t, dir); len(fs) != 0 {
		t.Errorf("after GC of an unpinned DAG: %d block files left: %v", len(fs), fs[:min(3, len(fs))])
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "blocks", "*", ".tmp-*")); len(tmp) != 0 {
		t.Errorf("temporary files left after GC: %v", tmp)
	}
}

// A store written before block files existed reads as before, and new
// blocks go to files beside the old ones.
func TestFileStoreOpensOldStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := openBadger(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	old := newStore(d)
	oldData := seededBytes(2 << 20)
	oc, err := old.AddReader(ctx, bytes.NewReader(oldData), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !bytes.Equal(catAll(t, s, oc), oldData) {
		t.Fatal("old file reads back differently")
	}
	newData := seededBytes(3 << 20)[7:]
	nc, err := s.AddReader(ctx, bytes.NewReader(newData), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(blockFiles(t, dir)) == 0 {
		t.Error("new leaves were not put in files")
	}
	if res, err := s.GC(ctx); err != nil || res.Removed != 0 {
		t.Fatalf("gc with both pinned: %+v, %v", res, err)
	}
	if !bytes.Equal(catAll(t, s, oc), oldData) || !bytes.Equal(catAll(t, s, nc), newData) {
		t.Fatal("files differ after GC")
	}
}

// A leaf whose file a crash lost is not found (so a fetch gets it again),
// never read as other bytes; a small block that looks like a marker
// reads back as itself.
func TestFileStoreLostFileAndLookalike(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.AddReader(ctx, bytes.NewReader(seededBytes(1<<20)), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaf := leafCIDs(t, s, c)[1]
	p, _ := s.ds.(*fileDS).path(blockKey(leaf))
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.bs.Get(ctx, leaf); err == nil {
		t.Error("a leaf whose file is gone was read")
	}
	if _, err := s.Stat(ctx, c); err != nil && !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat with a lost leaf file: %v", err)
	}

	look := marker(300 << 10)
	b, _ := blocks.NewBlockWithCid(look, mustRawCID(t, look))
	if err := s.bs.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.bs.Get(ctx, b.Cid())
	if err != nil || !bytes.Equal(got.RawData(), look) {
		t.Errorf("a block that looks like a marker read back as %q, %v", got, err)
	}
	if n, _ := s.bs.GetSize(ctx, b.Cid()); n != len(look) {
		t.Errorf("its size: %d, want %d", n, len(look))
	}
}

func blockKey(c cid.Cid) ds.Key {
	return ds.NewKey("/blocks").Child(dshelp.MultihashToDsKey(c.Hash()))
}

func mustRawCID(t testing.TB, data []byte) cid.Cid {
	t.Helper()
	c, err := cid.NewPrefixV1(cid.Raw, 0x12).Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
