package content

import (
	"bytes"
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

// fileDS keeps large blocks in pack files beside Badger (packs.go), so
// the bulk of a model's bytes is written once with write(2) instead of
// through Badger's memory-mapped value log (copied, then held in the
// process's RSS until paged out). Badger keeps the index: the block's key
// with a small marker value (where the bytes are) instead of the bytes.
// Blocks smaller than fileThreshold, pins and every other key stay in
// Badger. Fsync policy: as Badger's (SyncWrites off), nothing is synced
// per block; Sync (each pin, each GC) flushes the packs before Badger's
// own sync, so a pinned DAG is on disk.
//
// Compatibility: a store written before packs existed may hold blocks in
// Badger (read as before) or one file per block, <dir>/blocks/<last two
// letters of the key>/<key> with a file marker (fileMagic and the size):
// those are read, deleted and swept (sweepFiles) as before, never
// written. A value is a marker only if it parses as one, and a block that
// would (never a real file's leaf) is put in a pack too, so a marker
// always names stored bytes.
type fileDS struct {
	*badgerDS
	root  string // <dir>/blocks: the per-block files of older stores
	packs *packs

	mu    sync.Mutex
	dirty bool // per-block files written since the last Sync (old stores: none)
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
	pk, err := openPacks(filepath.Join(d.dir, "packs"))
	if err != nil {
		return nil, err
	}
	f := &fileDS{badgerDS: d, root: filepath.Join(d.dir, "blocks"), packs: pk}
	if _, err := f.recoverPacks(context.Background()); err != nil {
		pk.close()
		return nil, err
	}
	return f, nil
}

// isMarker: v names bytes outside Badger (either kind).
func isMarker(v []byte) bool {
	if _, ok := parseMarker(v); ok {
		return true
	}
	_, ok := parsePackMarker(v)
	return ok
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

// put is Put and a batch's Put: the bytes in a pack first, then the index
// entry (through set).
func (f *fileDS) put(key ds.Key, value []byte, set func(ds.Key, []byte) error) error {
	if _, ok := f.path(key); !ok || len(value) < fileThreshold && !isMarker(value) {
		// A small block that reads as a marker goes to a pack too, so a
		// marker value always names stored bytes.
		return set(key, value)
	}
	loc, err := f.packs.append(value)
	if err != nil {
		return err
	}
	return set(key, loc.marker())
}

func (f *fileDS) Put(ctx context.Context, key ds.Key, value []byte) error {
	return f.put(key, value, func(k ds.Key, v []byte) error { return f.badgerDS.Put(ctx, k, v) })
}

// resolve reads the bytes a marker value names; a value that is not a
// marker is the block itself.
func (f *fileDS) resolve(key ds.Key, v []byte) ([]byte, error) {
	if loc, ok := parsePackMarker(v); ok {
		return f.packs.read(loc)
	}
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
	if err != nil || n > maxMarkerLen {
		return n, err
	}
	v, err := f.badgerDS.Get(ctx, key)
	if err != nil {
		return -1, err
	}
	if loc, ok := parsePackMarker(v); ok {
		return loc.size, nil
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

// Sync flushes the packs (and any per-block files) written since the
// last Sync, then Badger.
func (f *fileDS) Sync(ctx context.Context, key ds.Key) error {
	if err := f.packs.sync(); err != nil {
		return err
	}
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
	return &fileBatch{Batch: b, f: f}, nil
}

// fileBatch puts large blocks' bytes in a pack as they come (an append to
// the page cache, no file to create), each index entry in the batch. A
// batch that never commits leaves dead bytes in the pack, for compaction.
type fileBatch struct {
	ds.Batch
	f *fileDS
}

func (b *fileBatch) Put(ctx context.Context, key ds.Key, value []byte) error {
	return b.f.put(key, value, func(k ds.Key, v []byte) error { return b.Batch.Put(ctx, k, v) })
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

// Close syncs and closes the packs (so the next Open has nothing to
// check), then closes Badger.
func (f *fileDS) Close() error {
	perr := f.packs.close()
	if err := f.badgerDS.Close(); err != nil {
		return err
	}
	return perr
}

// sweepFiles removes per-block files (of older stores) that no index entry names (left by a
// crash or a batch that failed) and stray temporary files. It returns how
// many it removed.
func (f *fileDS) sweepFiles(ctx context.Context) (int, error) {
	shards, err := os.ReadDir(f.root)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // a store made with packs
	}
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
