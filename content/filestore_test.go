package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
)

func blockFiles(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join(dir, "blocks", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func packFiles(t *testing.T, dir string) []string {
	t.Helper()
	fs, err := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
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
	if n := len(blockFiles(t, dir)); n != 0 {
		t.Errorf("%d per-block files, want none (leaves go to packs)", n)
	}
	if n := len(packFiles(t, dir)); n != 1 {
		t.Errorf("%d pack files for %d leaves, want 1", n, len(leaves))
	}
	f := s.ds.(*fileDS)
	v, err := f.badgerDS.Get(ctx, blockKey(leaves[0]))
	if _, ok := parsePackMarker(v); err != nil || !ok {
		t.Errorf("Badger holds %d bytes for a leaf (%v), want only a pack marker", len(v), err)
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
	// An orphan per-block file (a store of before packs: a crash between
	// file and index) and a stray temporary.
	os.MkdirAll(filepath.Join(dir, "blocks", "AA"), 0o755)
	os.WriteFile(filepath.Join(dir, "blocks", "AA", "CIQORPHANAA"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "blocks", "AA", ".tmp-1"), []byte("x"), 0o644)
	if _, err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if fs := blockFiles(t, dir); len(fs) != 0 {
		t.Errorf("after GC of an unpinned DAG: %d block files left: %v", len(fs), fs[:min(3, len(fs))])
	}
	if fs := packFiles(t, dir); len(fs) != 0 {
		t.Errorf("after GC of an unpinned DAG: packs left: %v", fs)
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
	if len(packFiles(t, dir)) == 0 {
		t.Error("new leaves were not put in packs")
	}
	if res, err := s.GC(ctx); err != nil || res.Removed != 0 {
		t.Fatalf("gc with both pinned: %+v, %v", res, err)
	}
	if !bytes.Equal(catAll(t, s, oc), oldData) || !bytes.Equal(catAll(t, s, nc), newData) {
		t.Fatal("files differ after GC")
	}
}

// Leaves whose bytes a crash lost (a pack cut short, a range never
// written back) are dropped from the index when the store opens again, so
// they are missing and a fetch gets them again, never read as other
// bytes; a small block that looks like either marker reads back as
// itself.
func TestFileStoreLostBytesAndLookalike(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := seededBytes(1 << 20)
	c, err := s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaves := leafCIDs(t, s, c)
	f := s.ds.(*fileDS)
	loc := func(leaf cid.Cid) packLoc {
		v, _ := f.badgerDS.Get(ctx, blockKey(leaf))
		l, ok := parsePackMarker(v)
		if !ok {
			t.Fatalf("leaf %s has no pack marker", leaf)
		}
		return l
	}
	// The crash: Badger kept its index, the packs were never synced (the
	// mark is from before), leaf 1's range reads as zeros and the pack
	// ends in the middle of the last leaf.
	l1, last := loc(leaves[1]), loc(leaves[len(leaves)-1])
	path := f.packs.path(l1.id)
	crashClose(f)
	f.packs.writeMark(syncMark{})
	pf, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	pf.WriteAt(make([]byte, l1.size), int64(l1.off))
	pf.Truncate(int64(last.off) + 10)
	pf.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f = s.ds.(*fileDS)
	for _, leaf := range []cid.Cid{leaves[1], leaves[len(leaves)-1]} {
		if has, err := s.bs.Has(ctx, leaf); has || err != nil {
			t.Errorf("a leaf whose bytes were lost: held %v (%v), want missing", has, err)
		}
	}
	if got, err := s.bs.Get(ctx, leaves[0]); err != nil || !bytes.Equal(got.RawData(), data[:256<<10]) {
		t.Errorf("an intact leaf beside them: %v", err)
	}
	if _, err := s.Stat(ctx, c); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat with lost leaves: %v, want ErrNotFound", err)
	}
	// Put again (as a fetch would), they read back.
	for i, leaf := range []cid.Cid{leaves[1], leaves[len(leaves)-1]} {
		raw := data[256<<10 : 512<<10]
		if i == 1 {
			raw = data[(len(leaves)-1)*(256<<10):]
		}
		b, _ := blocks.NewBlockWithCid(raw, leaf)
		if err := s.bs.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(catAll(t, s, c), data) {
		t.Fatal("after putting the lost leaves again the file differs")
	}
	// Bytes that rot where the mark says synced fail their CRC on read.
	l0 := loc(leaves[0])
	pf, _ = os.OpenFile(f.packs.path(l0.id), os.O_RDWR, 0)
	pf.WriteAt([]byte{0xff, 0xee}, int64(l0.off)+100)
	pf.Close()
	if _, err := s.bs.Get(ctx, leaves[0]); !ipld.IsNotFound(err) {
		t.Errorf("a leaf whose bytes rotted: %v, want not found", err)
	}

	for _, look := range [][]byte{marker(300 << 10), packLoc{id: 1, off: 0, size: 300 << 10, crc: 7}.marker()} {
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
}

// crashClose closes f as a crash would leave it: Badger's index as it is,
// the packs neither synced nor marked clean.
func crashClose(f *fileDS) {
	f.packs.mu.Lock()
	for id, h := range f.packs.open {
		f.packs.dropLocked(id, h)
	}
	f.packs.mu.Unlock()
	f.badgerDS.Close()
}

// A crash after blocks were put but before any sync: Badger kept their
// entries, the packs lost the unsynced tail (the file as it was at the
// last sync mark). Open finds the store not clean, drops those entries,
// keeps the synced ones, and appends to a new pack, not over the lost
// ranges.
func TestPackCrashLosesUnsyncedTail(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	synced := seededBytes(1 << 20)
	sc, err := s.AddReader(ctx, bytes.NewReader(synced), AddOptions{}) // pinned: synced
	if err != nil {
		t.Fatal(err)
	}
	f := s.ds.(*fileDS)
	mark, _ := f.packs.current()
	_, markSize := f.packs.current()
	var lost []cid.Cid
	for i := range 3 {
		raw := seededBytes(300<<10 + i)[i:]
		b, _ := blocks.NewBlockWithCid(raw, mustRawCID(t, raw))
		if err := s.bs.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		lost = append(lost, b.Cid())
	}
	if err := f.badgerDS.Sync(ctx, ds.NewKey("/")); err != nil { // Badger synced on its own schedule
		t.Fatal(err)
	}
	crashClose(f)
	if err := os.Truncate(f.packs.path(mark), markSize); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range lost {
		if has, _ := s.bs.Has(ctx, c); has {
			t.Errorf("block %s whose bytes the crash lost is still held", c)
		}
	}
	if !bytes.Equal(catAll(t, s, sc), synced) {
		t.Fatal("the synced file differs after the crash")
	}
	if cur, _ := s.ds.(*fileDS).packs.current(); cur == mark {
		t.Errorf("appends go on in pack %d, whose end a crash may have cut", cur)
	}
	more := seededBytes(700 << 10)[11:]
	mc, err := s.AddReader(ctx, bytes.NewReader(more), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(catAll(t, s, mc), more) || !bytes.Equal(catAll(t, s, sc), synced) {
		t.Fatal("files differ after adding past the crash")
	}
}

// A store of one file per block (before packs) reads, deletes and sweeps
// those files as before; new blocks go to packs.
func TestFileStoreReadsPerBlockFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := seededBytes(300 << 10)
	leaf := mustRawCID(t, data)
	f := s.ds.(*fileDS)
	p, _ := f.path(blockKey(leaf))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f.badgerDS.Put(ctx, blockKey(leaf), marker(len(data)))
	if got, err := s.bs.Get(ctx, leaf); err != nil || !bytes.Equal(got.RawData(), data) {
		t.Fatalf("a per-block file: %v", err)
	}
	if n, _ := s.bs.GetSize(ctx, leaf); n != len(data) {
		t.Errorf("its size: %d", n)
	}
	if err := s.bs.DeleteBlock(ctx, leaf); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file of a deleted block: %v, want gone", err)
	}
	s.Close()
}

// GC removes packs no block needs and compacts those mostly dead: what is
// pinned reads back, the space of the rest is freed, across reopening.
func TestPackCompaction(t *testing.T) {
	defer func(m int64) { packMax = m }(packMax)
	packMax = 3 << 20 // a few leaves per pack
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	// drop's 8 leaves fill 2 MiB of pack 1; keep's first 4 leaves fill
	// the rest of it and its next 12 all of pack 2. Once drop is unpinned,
	// pack 1 is a third live (compacted) and pack 2 all live (kept).
	drop := seededBytes(2<<20 + 1)[1:]
	dc, err := s.AddReader(ctx, bytes.NewReader(drop), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keep := seededBytes(4 << 20)
	kc, err := s.AddReader(ctx, bytes.NewReader(keep), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A batch that never committed (a crash mid-write): dead bytes in
	// pack 3, the current one.
	b, _ := s.ds.Batch(ctx)
	junk := seededBytes(1 << 20)[5:]
	b.Put(ctx, blockKey(mustRawCID(t, junk)), junk)
	if n := len(packFiles(t, dir)); n != 3 {
		t.Fatalf("%d packs, want 3", n)
	}
	if err := s.Unpin(ctx, dc); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range packFiles(t, dir) {
		st, _ := os.Stat(p)
		total += st.Size()
	}
	if total != int64(len(keep)) {
		t.Errorf("packs hold %d bytes after GC, want %d (the kept leaves alone)", total, len(keep))
	}
	if !bytes.Equal(catAll(t, s, kc), keep) {
		t.Fatal("the pinned file differs after compaction")
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !bytes.Equal(catAll(t, s, kc), keep) {
		t.Fatal("the pinned file differs after compaction and reopening")
	}
	if _, err := s.Stat(ctx, dc); !errors.Is(err, ErrNotFound) {
		t.Errorf("the unpinned file: %v, want ErrNotFound", err)
	}
	// New adds go on in the same store and survive another GC.
	more := seededBytes(1 << 20)[9:]
	mc, err := s.AddReader(ctx, bytes.NewReader(more), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(catAll(t, s, kc), keep) || !bytes.Equal(catAll(t, s, mc), more) {
		t.Fatal("files differ after a second GC")
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

// Adds, pins (each a sync), reads and GC at once over many small packs
// with few descriptors allowed: every file reads back, no sync fails on
// a handle an eviction closed, and the descriptors stay bounded.
func TestPacksConcurrentManyPacks(t *testing.T) {
	defer func(m int64, o int) { packMax, maxOpenPacks = m, o }(packMax, maxOpenPacks)
	packMax, maxOpenPacks = 1<<20, 2
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 4
	datas := make([][]byte, n)
	cids := make([]cid.Cid, n)
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		datas[i] = seededBytes(3<<20 + i)[i:]
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := s.AddReader(ctx, bytes.NewReader(datas[i]), AddOptions{})
			if err != nil {
				errs <- err
				return
			}
			cids[i] = c
		}()
	}
	wg.Wait()
	for round := range 2 {
		for i := 1; i < n; i++ { // file 0 is unpinned and collected meanwhile
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.Cat(ctx, cids[i])
				if err != nil {
					errs <- err
					return
				}
				defer r.Close()
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, datas[i]) {
					errs <- fmt.Errorf("file %d read back differs (%v)", i, err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Unpin(ctx, cids[0]); err != nil && round == 0 {
				errs <- err
			}
			if _, err := s.GC(ctx); err != nil {
				errs <- err
			}
			if err := s.Pin(ctx, cids[1]); err != nil {
				errs <- err
			}
		}()
		wg.Wait()
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	f := s.ds.(*fileDS)
	f.packs.mu.Lock()
	open := len(f.packs.open)
	f.packs.mu.Unlock()
	if open > maxOpenPacks+1 {
		t.Errorf("%d pack descriptors open, bound %d", open, maxOpenPacks)
	}
	for i := 1; i < n; i++ {
		if !bytes.Equal(catAll(t, s, cids[i]), datas[i]) {
			t.Fatalf("file %d differs after GC", i)
		}
	}
}
