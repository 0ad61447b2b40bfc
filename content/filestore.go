package content

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
)

// fileDS keeps large blocks in files beside Badger, so the bulk of a
// model's bytes is written once with write(2) instead of through Badger's
// memory-mapped value log (copied, then held in the process's RSS until
// paged out). Badger keeps the index: the block's key with a small
// marker value (fileMagic and the size) instead of the bytes. Blocks
// smaller than fileThreshold, pins and every other key stay in Badger.
//
// Files: <dir>/blocks/<last two letters of the key>/<key>, written to a
// temporary file and renamed into place before the index entry is
// written, so an index entry never names a half-written file. Fsync
// policy: as Badger's (SyncWrites off), nothing is synced per block;
// Sync (each pin, each GC) flushes the file system holding the files
// (syncfs) before Badger's own sync, so a pinned DAG is on disk. After a
// crash, an index entry whose file is gone reads as not found (the fetch
// resumes and fetches it again); files without an index entry are
// removed by GC (sweepFiles).
//
// Compatibility: a store written before holds its blocks in Badger; they
// are read as before. A value is a marker only if it parses as one, and
// a block that would (never a real file's leaf) is put in a file too, so
// a marker always names a file.
type fileDS struct {
	*badgerDS
	root string // <dir>/blocks

	mu    sync.Mutex
	dirty bool // files written since the last Sync
}

// fileThreshold: blocks of at least this size go to files (a file's
// leaves are 256 KiB; directory nodes and small files stay in Badger). A
// variable only for BenchmarkAddBadgerOnly's comparison.
var fileThreshold = 64 << 10

const (
	fileMagic    = "\x00inferd-file-block\x00"
	blocksPrefix = "/blocks/"
)

func newFileDS(d *badgerDS) (*fileDS, error) {
	root := filepath.Join(d.dir, "blocks")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("content store: %w", err)
	}
	return &fileDS{badgerDS: d, root: root}, nil
}

// path is the file of a block key, or false for a key that is not a
// block's (or has letters a file name must not have).
func (f *fileDS) path(key ds.Key) (string, bool) {
	k := key.String()
	if !strings.HasPrefix(k, blocksPrefix) {
		return "", false
	}
	name := k[len(blocksPrefix):]
	if len(name) < 4 {
		return "", false
	}
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return "", false
		}
	}
	return filepath.Join(f.root, name[len(name)-2:], name), true
}

func marker(size int) []byte {
	return binary.AppendUvarint([]byte(fileMagic), uint64(size))
}

// parseMarker is the size a marker value gives, or false.
func parseMarker(v []byte) (int, bool) {
	if !bytes.HasPrefix(v, []byte(fileMagic)) {
		return 0, false
	}
	n, k := binary.Uvarint(v[len(fileMagic):])
	if k <= 0 || len(fileMagic)+k != len(v) || n > 1<<31 {
		return 0, false
	}
	return int(n), true
}

// writeFile puts a block's bytes in its file, renamed into place.
func (f *fileDS) writeFile(path string, value []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if errors.Is(err, os.ErrNotExist) {
		if err = os.MkdirAll(dir, 0o755); err == nil {
			tmp, err = os.CreateTemp(dir, ".tmp-*")
		}
	}
	if err != nil {
		return err
	}
	_, err = tmp.Write(value)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	f.mu.Lock()
	f.dirty = true
	f.mu.Unlock()
	return nil
}

// put is Put and a batch's Put: the file first, then the index entry
// (through set).
func (f *fileDS) put(key ds.Key, value []byte, set func(ds.Key, []byte) error) error {
	p, ok := f.path(key)
	if _, looksLikeMarker := parseMarker(value); !ok || len(value) < fileThreshold && !looksLikeMarker {
		// A small block that reads as a marker goes to a file too, so a
		// marker value always names a file.
		return set(key, value)
	}
	if err := f.writeFile(p, value); err != nil {
		return err
	}
	return set(key, marker(len(value)))
}

func (f *fileDS) Put(ctx context.Context, key ds.Key, value []byte) error {
	return f.put(key, value, func(k ds.Key, v []byte) error { return f.badgerDS.Put(ctx, k, v) })
}

// resolve reads the file a marker value names; a value that is not a
// marker is the block itself.
func (f *fileDS) resolve(key ds.Key, v []byte) ([]byte, error) {
	size, ok := parseMarker(v)
	p, okp := f.path(key)
	if !ok || !okp {
		return v, nil
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ds.ErrNotFound // a crash lost the file: refetch it
	}
	if err != nil {
		return nil, fmt.Errorf("content store: read %s: %w", p, err)
	}
	if len(data) != size {
		return nil, ds.ErrNotFound // torn by a crash: refetch it
	}
	return data, nil
}

func (f *fileDS) Get(ctx context.Context, key ds.Key) ([]byte, error) {
	v, err := f.badgerDS.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return f.resolve(key, v)
}

func (f *fileDS) GetSize(ctx context.Context, key ds.Key) (int, error) {
	n, err := f.badgerDS.GetSize(ctx, key)
	if err != nil || n > len(fileMagic)+binary.MaxVarintLen64 {
		return n, err
	}
	v, err := f.badgerDS.Get(ctx, key)
	if err != nil {
		return -1, err
	}
	if size, ok := parseMarker(v); ok {
		return size, nil
	}
	return len(v), nil
}

func (f *fileDS) Delete(ctx context.Context, key ds.Key) error {
	if err := f.badgerDS.Delete(ctx, key); err != nil {
		return err
	}
	if p, ok := f.path(key); ok {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("content store: %w", err)
		}
	}
	return nil
}

// Query resolves the values of a query that asks for them.
func (f *fileDS) Query(ctx context.Context, q dsq.Query) (dsq.Results, error) {
	res, err := f.badgerDS.Query(ctx, q)
	if err != nil || q.KeysOnly {
		return res, err
	}
	return dsq.ResultsFromIterator(q, dsq.Iterator{
		Next: func() (dsq.Result, bool) {
			r, ok := res.NextSync()
			if ok && r.Error == nil {
				r.Value, r.Error = f.resolve(ds.NewKey(r.Key), r.Value)
				r.Size = len(r.Value)
			}
			return r, ok
		},
		Close: res.Close,
	}), nil
}

// Sync flushes the files written since the last Sync, then Badger.
func (f *fileDS) Sync(ctx context.Context, key ds.Key) error {
	f.mu.Lock()
	dirty := f.dirty
	f.dirty = false
	f.mu.Unlock()
	if dirty {
		if err := syncDir(f.root); err != nil {
			f.mu.Lock()
			f.dirty = true
			f.mu.Unlock()
			return fmt.Errorf("content store: sync %s: %w", f.root, err)
		}
	}
	return f.badgerDS.Sync(ctx, key)
}

func (f *fileDS) Batch(ctx context.Context) (ds.Batch, error) {
	b, err := f.badgerDS.Batch(ctx)
	if err != nil {
		return nil, err
	}
	return &fileBatch{Batch: b, f: f, sem: make(chan struct{}, fileWriters)}, nil
}

// fileWriters is how many block files a batch writes at once: creating a
// file waits on the file system's journal, so a few in flight keep the
// importer's hashing busy meanwhile.
const fileWriters = 4

// fileBatch writes large blocks' files on up to fileWriters goroutines,
// each index entry once its file is in place; Commit waits for them. A
// batch that never commits leaves files without entries, for GC.
type fileBatch struct {
	ds.Batch
	f   *fileDS
	sem chan struct{}
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

func (b *fileBatch) Put(ctx context.Context, key ds.Key, value []byte) error {
	set := func(k ds.Key, v []byte) error { return b.Batch.Put(ctx, k, v) } // Badger's WriteBatch locks
	p, ok := b.f.path(key)
	if _, m := parseMarker(value); !ok || len(value) < fileThreshold && !m {
		return set(key, value)
	}
	if err := b.failed(); err != nil {
		return err
	}
	b.sem <- struct{}{}
	b.wg.Add(1)
	go func() {
		defer func() { <-b.sem; b.wg.Done() }()
		err := b.f.writeFile(p, value)
		if err == nil {
			err = set(key, marker(len(value)))
		}
		if err != nil {
			b.mu.Lock()
			b.err = cmp.Or(b.err, err)
			b.mu.Unlock()
		}
	}()
	return nil
}

func (b *fileBatch) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Commit waits for the files, then writes the index.
func (b *fileBatch) Commit(ctx context.Context) error {
	b.wg.Wait()
	if err := b.failed(); err != nil {
		return err
	}
	return b.Batch.Commit(ctx)
}

func (b *fileBatch) Delete(ctx context.Context, key ds.Key) error {
	if err := b.Batch.Delete(ctx, key); err != nil {
		return err
	}
	if p, ok := b.f.path(key); ok {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("content store: %w", err)
		}
	}
	return nil
}

// sweepFiles removes block files that no index entry names (left by a
// crash or a batch that failed) and stray temporary files. It returns how
// many it removed.
func (f *fileDS) sweepFiles(ctx context.Context) (int, error) {
	shards, err := os.ReadDir(f.root)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, sh := range shards {
		ents, err := os.ReadDir(filepath.Join(f.root, sh.Name()))
		if err != nil {
			continue
		}
		for _, e := range ents {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			p := filepath.Join(f.root, sh.Name(), e.Name())
			if !strings.HasPrefix(e.Name(), ".tmp-") {
				if ok, err := f.badgerDS.Has(ctx, ds.NewKey(blocksPrefix+e.Name())); err != nil || ok {
					continue
				}
			}
			if os.Remove(p) == nil {
				removed++
			}
		}
	}
	return removed, nil
}
