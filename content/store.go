package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange/offline"
	"github.com/ipfs/boxo/ipld/merkledag"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	ipld "github.com/ipfs/go-ipld-format"
)

// Dir is where a node keeps its content store, relative to its home.
const Dir = "data/content"

// ErrNotPinned is returned by Unpin for a CID that is not pinned.
var ErrNotPinned = errors.New("not pinned")

// ErrNotFound is returned when a block of the requested DAG is not in the
// store.
var ErrNotFound = errors.New("not in the local content store")

var pinPrefix = ds.NewKey("/pins")

// Store holds blocks and the pin set in one Badger directory.
type Store struct {
	ds  ds.Batching // Badger (badgerDS); tests wrap it to inject faults
	bs  blockstore.Blockstore
	dag ipld.DAGService
	// gc is held for reading by writers (Add, Pin, Fetch) and for writing
	// by GC.
	gc sync.RWMutex
	// onPin, if set, is told of each root pinned (the Provider announces
	// it).
	onPin atomic.Pointer[func(cid.Cid)]
	// touched counts block bytes written or read; every trimEvery of
	// them the value log's pages are handed back to the kernel
	// (pageOutValueLog).
	touched  atomic.Int64
	trimming atomic.Bool
	// limits bound the walks of DAGs (SetLimits; nil: the defaults).
	limits atomic.Pointer[Limits]
}

// trimEvery is how many block bytes are written or read between two
// pageOutValueLog: the RSS a large add, fetch or read adds stays about
// this.
const trimEvery = 32 << 20

// touch records n block bytes written or read.
func (s *Store) touch(n int) {
	after := s.touched.Add(int64(n))
	if after/trimEvery == (after-int64(n))/trimEvery {
		return
	}
	d, ok := s.ds.(*badgerDS)
	if f, isFile := s.ds.(*fileDS); isFile {
		d, ok = f.badgerDS, true
	}
	if !ok || d.dir == "" || !s.trimming.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.trimming.Store(false)
		pageOutValueLog(d.dir)
	}()
}

func (s *Store) setOnPin(f func(cid.Cid)) { s.onPin.Store(&f) }

// Open opens (creating if needed) the content store in dir. If a running
// node holds dir, the error wraps ErrLocked.
func Open(dir string) (*Store, error) {
	d, err := openBadger(dir, false)
	if err != nil {
		return nil, err
	}
	f, err := newFileDS(d)
	if err != nil {
		d.Close()
		return nil, err
	}
	return newStore(f), nil
}

// OpenMemory returns a store that lives in memory only, for tests and
// tools.
func OpenMemory() (*Store, error) {
	d, err := openBadger("", true)
	if err != nil {
		return nil, err
	}
	return newStore(d), nil
}

func newStore(d ds.Batching) *Store {
	bs := blockstore.NewBlockstore(d, blockstore.WriteThrough(true))
	return &Store{ds: d, bs: bs, dag: merkledag.NewDAGService(blockservice.New(bs, offline.Exchange(bs)))}
}

// Close closes the Badger database.
func (s *Store) Close() error { return s.ds.Close() }

// Blockstore is the store's blocks, for bitswap and other boxo components.
func (s *Store) Blockstore() blockstore.Blockstore { return s.bs }

// DAG is the store's offline DAG service (local blocks only).
func (s *Store) DAG() ipld.DAGService { return s.dag }

// Has reports whether the block c is held.
func (s *Store) Has(ctx context.Context, c cid.Cid) (bool, error) { return s.bs.Has(ctx, c) }

// Cat returns the bytes of the UnixFS file c from local blocks, after
// Stat has checked that the whole DAG is held, well formed and within the
// store's limits. Reading stops with ctx.
func (s *Store) Cat(ctx context.Context, c cid.Cid) (uio.ReadSeekCloser, error) {
	if _, err := s.Stat(ctx, c); err != nil {
		return nil, err
	}
	return s.catChecked(ctx, c)
}

// catChecked is Cat for a DAG Stat has just passed.
func (s *Store) catChecked(ctx context.Context, c cid.Cid) (uio.ReadSeekCloser, error) {
	r, err := cat(ctx, checkedGetter{s.bs}, c)
	if err != nil {
		return nil, err
	}
	return touchReader{&sizedReader{ReadSeekCloser: r, c: c, size: int64(r.Size())}, s}, nil
}

// sizedReader holds a file to the size its root gives, which Stat has
// checked against the limits and the block sizes below it: Stat sizes raw
// leaves without reading them, so a leaf longer or shorter than its
// parent says is found here, as an error, not as extra bytes.
type sizedReader struct {
	uio.ReadSeekCloser
	c    cid.Cid
	size int64
	off  int64
}

func (r *sizedReader) errSize(more bool) error {
	if more {
		return fmt.Errorf("%s: %w: its leaves hold more than the %d bytes its root says", r.c, ErrBadDAG, r.size)
	}
	return fmt.Errorf("%s: %w: its leaves hold fewer than the %d bytes its root says", r.c, ErrBadDAG, r.size)
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if left := max(r.size-r.off, 0); int64(len(p)) > left+1 {
		p = p[:left+1] // one byte past the end finds a leaf too long
	}
	before := r.off
	n, err := r.ReadSeekCloser.Read(p)
	r.off += int64(n)
	if over := r.off - max(before, r.size); over > 0 {
		return n - int(over), r.errSize(true)
	}
	if err == io.EOF && r.off < r.size {
		return n, r.errSize(false)
	}
	return n, err
}

func (r *sizedReader) WriteTo(w io.Writer) (int64, error) {
	cw := &capWriter{w: w, left: max(r.size-r.off, 0)}
	n, err := r.ReadSeekCloser.WriteTo(cw)
	r.off += n
	if cw.over {
		return n, r.errSize(true)
	}
	if err == nil && r.off < r.size {
		return n, r.errSize(false)
	}
	return n, err
}

func (r *sizedReader) Seek(offset int64, whence int) (int64, error) {
	off, err := r.ReadSeekCloser.Seek(offset, whence)
	if err == nil {
		r.off = off
	}
	return off, err
}

// capWriter passes on at most left bytes and notes an attempt at more.
type capWriter struct {
	w    io.Writer
	left int64
	over bool
}

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		n, err := c.w.Write(p[:c.left])
		c.left -= int64(n)
		c.over = true
		if err == nil {
			err = errOverSize
		}
		return n, err
	}
	n, err := c.w.Write(p)
	c.left -= int64(n)
	return n, err
}

var errOverSize = errors.New("more bytes than the file's size")

// touchReader counts the bytes read for the value log's trimming.
type touchReader struct {
	uio.ReadSeekCloser
	s *Store
}

func (t touchReader) Read(p []byte) (int, error) {
	n, err := t.ReadSeekCloser.Read(p)
	t.s.touch(n)
	return n, err
}

// WriteTo is what io.Copy uses.
func (t touchReader) WriteTo(w io.Writer) (int64, error) {
	return t.ReadSeekCloser.WriteTo(touchWriter{w, t.s})
}

type touchWriter struct {
	w io.Writer
	s *Store
}

func (t touchWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.s.touch(n)
	return n, err
}

// servedStore is the blockstore bitswap serves peers from: the blocks it
// reads count for the value log's trimming.
type servedStore struct {
	blockstore.Blockstore
	s *Store
}

func (b servedStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	blk, err := b.Blockstore.Get(ctx, c)
	if err == nil {
		b.s.touch(len(blk.RawData()))
	}
	return blk, err
}

var errIsDirectory = errors.New("is a directory")

func cat(ctx context.Context, dag ipld.NodeGetter, c cid.Cid) (uio.DagReader, error) {
	nd, err := dag.Get(ctx, c)
	if err != nil {
		return nil, notFound(c, err)
	}
	r, err := uio.NewDagReader(ctx, nd, dag)
	if err != nil {
		if errors.Is(err, uio.ErrIsDir) {
			return nil, fmt.Errorf("%s %w, not a file (GET /ipfs/%s lists it)", c, errIsDirectory, c)
		}
		return nil, fmt.Errorf("%s: %w: not a UnixFS file that can be read: %v", c, ErrBadDAG, err)
	}
	return r, nil
}

func notFound(c cid.Cid, err error) error {
	if ipld.IsNotFound(err) {
		return fmt.Errorf("block %s: %w", c, ErrNotFound)
	}
	return fmt.Errorf("block %s: %w", c, err)
}

// Pin adds c to the pin set after checking that the whole DAG under c is
// held, well formed and within the store's limits (Stat). GC keeps every
// block reachable from a pin.
func (s *Store) Pin(ctx context.Context, c cid.Cid) error {
	s.gc.RLock()
	defer s.gc.RUnlock()
	return s.pin(ctx, c, s.Limits())
}

// pin checks the DAG under c with stat (held, well formed, within lim),
// then pins it.
func (s *Store) pin(ctx context.Context, c cid.Cid, lim Limits) error {
	if _, err := stat(ctx, s.bs, c, lim); err != nil {
		return fmt.Errorf("pin %s: %w", c, err)
	}
	return s.pinChecked(ctx, c)
}

// pinChecked pins c, whose DAG stat has just passed.
func (s *Store) pinChecked(ctx context.Context, c cid.Cid) error {
	if err := s.ds.Put(ctx, pinKey(c), nil); err != nil {
		return err
	}
	if err := s.ds.Sync(ctx, pinPrefix); err != nil {
		return err
	}
	if f := s.onPin.Load(); f != nil {
		(*f)(c)
	}
	return nil
}

// Unpin removes c from the pin set (its blocks stay until GC).
func (s *Store) Unpin(ctx context.Context, c cid.Cid) error {
	k := pinKey(c)
	ok, err := s.ds.Has(ctx, k)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", c, ErrNotPinned)
	}
	if err := s.ds.Delete(ctx, k); err != nil {
		return err
	}
	return s.ds.Sync(ctx, pinPrefix)
}

// Pins lists the pinned roots in key order.
func (s *Store) Pins(ctx context.Context) ([]cid.Cid, error) {
	res, err := s.ds.Query(ctx, dsq.Query{Prefix: pinPrefix.String(), KeysOnly: true})
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var out []cid.Cid
	for r := range res.Next() {
		if r.Error != nil {
			return nil, r.Error
		}
		c, err := cid.Decode(strings.TrimPrefix(r.Key, pinPrefix.String()+"/"))
		if err != nil {
			return nil, fmt.Errorf("pin set: bad key %q: %v", r.Key, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// IsPinned reports whether c is a pinned root.
func (s *Store) IsPinned(ctx context.Context, c cid.Cid) (bool, error) {
	return s.ds.Has(ctx, pinKey(c))
}

func pinKey(c cid.Cid) ds.Key { return pinPrefix.ChildString(c.String()) }

// GCResult says what a collection did.
type GCResult struct {
	Removed      int   // blocks deleted
	RemovedBytes int64 // their size
	Kept         int   // blocks reachable from a pin
}

// GC deletes every block not reachable from a pin. It fails, deleting
// nothing, if a pinned DAG is incomplete.
func (s *Store) GC(ctx context.Context) (GCResult, error) {
	s.gc.Lock()
	defer s.gc.Unlock()
	var res GCResult
	keep := map[string]struct{}{}
	pins, err := s.Pins(ctx)
	if err != nil {
		return res, err
	}
	for _, p := range pins {
		err := walkCIDs(ctx, s.bs, p, unlimited, func(c cid.Cid) error {
			keep[string(c.Hash())] = struct{}{}
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("gc: pinned %s: %w (nothing removed)", p, err)
		}
	}
	res.Kept = len(keep)
	keys, err := s.bs.AllKeysChan(ctx)
	if err != nil {
		return res, err
	}
	var drop []cid.Cid
	for c := range keys {
		if _, ok := keep[string(c.Hash())]; !ok {
			drop = append(drop, c)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for _, c := range drop {
		n, err := s.bs.GetSize(ctx, c)
		if err != nil && !ipld.IsNotFound(err) {
			return res, err
		}
		if err := s.bs.DeleteBlock(ctx, c); err != nil {
			return res, err
		}
		res.Removed++
		res.RemovedBytes += int64(max(n, 0))
	}
	if f, ok := s.ds.(*fileDS); ok {
		// Files a crash or a failed batch left without an index entry.
		n, err := f.sweepFiles(ctx)
		if err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
		res.Removed += n
		if _, _, err := f.compactPacks(ctx); err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
	}
	return res, s.ds.Sync(ctx, ds.NewKey("/"))
}

// walk visits every block of the DAG under root once, depth first, in link
// order, with its data. A missing block is an error wrapping ErrNotFound;
// more than lim.MaxBlocks blocks an error wrapping ErrTooLarge (each block
// is at most MaxBlockSize). Only dag-pb and raw blocks are understood.
func walk(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, lim Limits, visit func(cid.Cid, []byte) error) error {
	return traverse(ctx, bs, root, true, lim, visit)
}

// walkCIDs is walk for when the data is not needed: raw leaves (almost
// all of a file's bytes) are checked with Has, never read, so collecting
// a 1 GiB file reads only its few dag-pb nodes.
func walkCIDs(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, lim Limits, visit func(cid.Cid) error) error {
	return traverse(ctx, bs, root, false, lim, func(c cid.Cid, _ []byte) error { return visit(c) })
}

// traverse is walk and walkCIDs: with leafData false, raw leaves are
// visited with nil data after a Has check.
func traverse(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, leafData bool, lim Limits, visit func(cid.Cid, []byte) error) error {
	lim = lim.withDefaults()
	seen := map[string]struct{}{}
	var rec func(c cid.Cid, depth int) error
	rec = func(c cid.Cid, depth int) error {
		if _, ok := seen[c.KeyString()]; ok {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if depth > MaxDepth {
			return fmt.Errorf("%s: %w: deeper than %d levels (MaxDepth) at block %s", root, ErrBadDAG, MaxDepth, c)
		}
		if len(seen) >= lim.MaxBlocks {
			return tooManyBlocks(root, lim.MaxBlocks)
		}
		seen[c.KeyString()] = struct{}{}
		if !leafData && c.Type() == cid.Raw {
			ok, err := bs.Has(ctx, c)
			if err != nil {
				return fmt.Errorf("block %s: %w", c, err)
			}
			if !ok {
				return fmt.Errorf("block %s: %w", c, ErrNotFound)
			}
			return visit(c, nil)
		}
		b, err := bs.Get(ctx, c)
		if err != nil {
			return notFound(c, err)
		}
		links, err := links(c, b.RawData())
		if err != nil {
			return err
		}
		if err := visit(c, b.RawData()); err != nil {
			return err
		}
		for _, l := range links {
			if err := rec(l, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return rec(root, 1)
}

// links returns the CIDs a block links to, within MaxBlockSize and
// MaxLinks.
func links(c cid.Cid, data []byte) ([]cid.Cid, error) {
	switch c.Type() {
	case cid.Raw:
		if len(data) > MaxBlockSize {
			return nil, bigBlock(c, len(data))
		}
		return nil, nil
	case cid.DagProtobuf:
		nd, err := decodeNode(c, data)
		if err != nil {
			return nil, err
		}
		out := make([]cid.Cid, len(nd.Links()))
		for i, l := range nd.Links() {
			out[i] = l.Cid
		}
		return out, nil
	default:
		return nil, fmt.Errorf("block %s: %w: codec 0x%x is not supported (only dag-pb and raw)", c, ErrBadDAG, c.Type())
	}
}
