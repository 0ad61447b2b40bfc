package content

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	ihelper "github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// DefaultChunker is the chunker of `ipfs add`: fixed 256 KiB chunks.
const DefaultChunker = "size-262144"

// AddOptions tune Add. The zero value is `ipfs add --cid-version=1`.
type AddOptions struct {
	// Chunker is an ipfs chunker spec: "size-N", "rabin-MIN-AVG-MAX" or
	// "buzhash". Default DefaultChunker.
	Chunker string
	// NoPin leaves the root unpinned (GC may remove it). Default: pinned.
	NoPin bool
	// Hidden includes files and directories whose names start with "."
	// when adding a directory, as `ipfs add --hidden`. Default: skipped.
	Hidden bool
	// Progress, if set, is called with the number of file bytes read so
	// far, after each chunk.
	Progress func(bytes int64)
}

// cidBuilder is CIDv1, dag-pb, sha2-256 (the codec is set per node).
var cidBuilder = func() cid.Builder {
	p, err := merkledag.PrefixForCidVersion(1)
	if err != nil {
		panic(err)
	}
	return p
}()

// Add imports the file or directory at path, stores its blocks and pins
// the root (unless o.NoPin), and returns the root CID.
func (s *Store) Add(ctx context.Context, path string, o AddOptions) (cid.Cid, error) {
	s.gc.RLock()
	defer s.gc.RUnlock()
	return s.finish(ctx, o, func(b *batchDAG) (cid.Cid, error) { return addPath(ctx, b, path, o) })
}

// AddReader imports the bytes of r as one UnixFS file, stores and pins it
// as Add does.
func (s *Store) AddReader(ctx context.Context, r io.Reader, o AddOptions) (cid.Cid, error) {
	s.gc.RLock()
	defer s.gc.RUnlock()
	return s.finish(ctx, o, func(b *batchDAG) (cid.Cid, error) {
		nd, err := addFile(ctx, b, r, o)
		if err != nil {
			return cid.Undef, err
		}
		return nd.Cid(), nil
	})
}

func (s *Store) finish(ctx context.Context, o AddOptions, build func(*batchDAG) (cid.Cid, error)) (cid.Cid, error) {
	b := newBatchDAG(ctx, s.dag)
	b.store = s
	c, err := build(b)
	if err == nil {
		err = b.Commit()
	}
	if err != nil {
		b.Abort()
		return cid.Undef, err
	}
	if !o.NoPin {
		// Our own importer made this DAG from a stream the caller
		// bounds: no limit applies, only the presence check.
		if err := s.pin(ctx, c, unlimited); err != nil {
			return cid.Undef, err
		}
	}
	return c, nil
}

// Hash computes the CID Add would give path, storing nothing (`ipfs add
// --only-hash`). It needs no store, so it works while a node runs.
func Hash(ctx context.Context, path string, o AddOptions) (cid.Cid, error) {
	return addPath(ctx, newHashDAG(), path, o)
}

// HashReader computes the CID of the bytes of r as one UnixFS file.
func HashReader(ctx context.Context, r io.Reader, o AddOptions) (cid.Cid, error) {
	nd, err := addFile(ctx, newHashDAG(), r, o)
	if err != nil {
		return cid.Undef, err
	}
	return nd.Cid(), nil
}

func addPath(ctx context.Context, dag ipld.DAGService, path string, o AddOptions) (cid.Cid, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return cid.Undef, err
	}
	var nd ipld.Node
	if fi.IsDir() {
		nd, err = addDir(ctx, dag, path, o)
	} else {
		nd, err = addFileAt(ctx, dag, path, o)
	}
	if err != nil {
		return cid.Undef, err
	}
	return nd.Cid(), nil
}

func addFileAt(ctx context.Context, dag ipld.DAGService, path string, o AddOptions) (ipld.Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return addFile(ctx, dag, f, o)
}

func addFile(ctx context.Context, dag ipld.DAGService, r io.Reader, o AddOptions) (ipld.Node, error) {
	spec := o.Chunker
	if spec == "" {
		spec = DefaultChunker
	}
	if size, ok := fixedChunkSize(spec); ok {
		return importBalanced(ctx, dag, r, size, ihelper.DefaultLinksPerBlock, o.Progress)
	}
	return addFileBoxo(ctx, dag, r, spec, o.Progress)
}

// addFileBoxo is addFile through boxo's importer, for any chunker spec.
func addFileBoxo(ctx context.Context, dag ipld.DAGService, r io.Reader, spec string, progress func(int64)) (ipld.Node, error) {
	if progress != nil {
		r = &progressReader{r: r, f: progress}
	}
	spl, err := chunker.FromString(&ctxReader{ctx: ctx, r: r}, spec)
	if err != nil {
		return nil, fmt.Errorf("chunker %q: %v", spec, err)
	}
	p := ihelper.DagBuilderParams{
		Maxlinks:   ihelper.DefaultLinksPerBlock,
		RawLeaves:  true,
		CidBuilder: cidBuilder,
		Dagserv:    dag,
	}
	db, err := p.New(spl)
	if err != nil {
		return nil, err
	}
	return balanced.Layout(db)
}

// addDir imports a directory tree as `ipfs add -r` does: entries in name
// order, dot-files skipped unless o.Hidden, symlinks stored as UnixFS
// symlinks (not followed).
func addDir(ctx context.Context, dag ipld.DAGService, path string, o AddOptions) (ipld.Node, error) {
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	dir, err := uio.NewDirectory(dag, uio.WithCidBuilder(cidBuilder))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !o.Hidden && strings.HasPrefix(e.Name(), ".") {
			continue
		}
		full := filepath.Join(path, e.Name())
		var nd ipld.Node
		switch {
		case e.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(full)
			if err != nil {
				return nil, err
			}
			data, err := unixfs.SymlinkData(target)
			if err != nil {
				return nil, err
			}
			pn := merkledag.NodeWithData(data)
			if err := pn.SetCidBuilder(cidBuilder); err != nil {
				return nil, err
			}
			if err := dag.Add(ctx, pn); err != nil {
				return nil, err
			}
			nd = pn
		case e.IsDir():
			nd, err = addDir(ctx, dag, full, o)
		case e.Type().IsRegular():
			nd, err = addFileAt(ctx, dag, full, o)
		default:
			return nil, fmt.Errorf("%s: not a regular file, directory or symlink", full)
		}
		if err != nil {
			return nil, err
		}
		if err := dir.AddChild(ctx, e.Name(), nd); err != nil {
			return nil, err
		}
	}
	nd, err := dir.GetNode()
	if err != nil {
		return nil, err
	}
	return nd, dag.Add(ctx, nd)
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type progressReader struct {
	r io.Reader
	n int64
	f func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if n > 0 {
		p.f(p.n)
	}
	return n, err
}

// batchDAG buffers added nodes and writes them to the store in batches of
// about 8 MiB: one Badger write per batch instead of one per block. A batch
// is written by a goroutine of its own while the next one fills (at most
// one write in flight), so that an import goes on hashing meanwhile.
type batchDAG struct {
	ipld.DAGService
	ctx   context.Context
	store *Store // told of the bytes written
	mu    sync.Mutex
	buf   []ipld.Node
	bytes int
	// releases are the leafSink release functions of the nodes in buf,
	// called once their batch is written.
	releases []func()
	// writing is the batch being written, writingReleases its leaves'
	// release functions; done receives its result.
	writing         []ipld.Node
	writingReleases []func()
	done            chan error
}

const batchBytes = 8 << 20

func newBatchDAG(ctx context.Context, d ipld.DAGService) *batchDAG {
	return &batchDAG{DAGService: d, ctx: ctx}
}

func (b *batchDAG) Add(ctx context.Context, nd ipld.Node) error {
	return b.addLeaf(ctx, nd, nil)
}

// addLeaf implements leafSink: release is called once nd is written.
func (b *batchDAG) addLeaf(ctx context.Context, nd ipld.Node, release func()) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, nd)
	if release != nil {
		b.releases = append(b.releases, release)
	}
	b.bytes += len(nd.RawData())
	if b.bytes >= batchBytes {
		return b.flush(ctx)
	}
	return nil
}

func (b *batchDAG) AddMany(ctx context.Context, nds []ipld.Node) error {
	for _, nd := range nds {
		if err := b.Add(ctx, nd); err != nil {
			return err
		}
	}
	return nil
}

// Get serves buffered nodes too: the directory builder may read back what
// it just wrote.
func (b *batchDAG) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	b.mu.Lock()
	for _, nds := range [][]ipld.Node{b.buf, b.writing} {
		for _, nd := range nds {
			if nd.Cid().Equals(c) {
				b.mu.Unlock()
				return nd, nil
			}
		}
	}
	b.mu.Unlock()
	return b.DAGService.Get(ctx, c)
}

// flush waits for the batch being written, then starts writing buf.
func (b *batchDAG) flush(context.Context) error {
	if err := b.wait(); err != nil {
		return err
	}
	if len(b.buf) == 0 {
		return nil
	}
	nds, n := b.buf, b.bytes
	done := make(chan error, 1)
	b.writing, b.writingReleases, b.done = nds, b.releases, done
	b.buf, b.bytes, b.releases = nil, 0, nil
	go func() {
		// b.ctx, not ctx: an importer's own context ends when it returns,
		// maybe before this write.
		err := b.DAGService.AddMany(b.ctx, nds)
		if err == nil && b.store != nil {
			b.store.touch(n)
		}
		done <- err
	}()
	return nil
}

// wait waits for the batch being written, if any, and returns its error.
// Once it is written, its leaves' bytes are released (under b.mu, so that
// Get never serves a released leaf).
func (b *batchDAG) wait() error {
	if b.done == nil {
		return nil
	}
	err := <-b.done
	if err == nil {
		for _, r := range b.writingReleases {
			r()
		}
	}
	b.writing, b.writingReleases, b.done = nil, nil, nil
	return err
}

// Commit writes what is still buffered and waits for it.
func (b *batchDAG) Commit() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.flush(b.ctx); err != nil {
		return err
	}
	return b.wait()
}

// Abort waits for a write in flight and drops what is buffered.
func (b *batchDAG) Abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.wait()
	b.buf, b.bytes, b.releases = nil, 0, nil
}

// hashDAG is the DAG service of --only-hash: raw leaves are dropped at
// once; dag-pb nodes (about one per 43 MiB of file) are kept in memory in
// case the directory builder reads them back.
type hashDAG struct {
	mu    sync.Mutex
	nodes map[cid.Cid]ipld.Node
}

func newHashDAG() *hashDAG { return &hashDAG{nodes: map[cid.Cid]ipld.Node{}} }

func (h *hashDAG) Add(_ context.Context, nd ipld.Node) error {
	if nd.Cid().Type() == cid.Raw {
		return nil
	}
	h.mu.Lock()
	h.nodes[nd.Cid()] = nd
	h.mu.Unlock()
	return nil
}

// addLeaf implements leafSink: a raw leaf is dropped at once.
func (h *hashDAG) addLeaf(ctx context.Context, nd ipld.Node, release func()) error {
	err := h.Add(ctx, nd)
	if nd.Cid().Type() == cid.Raw && release != nil {
		release()
	}
	return err
}

func (h *hashDAG) AddMany(ctx context.Context, nds []ipld.Node) error {
	for _, nd := range nds {
		h.Add(ctx, nd)
	}
	return nil
}

func (h *hashDAG) Get(_ context.Context, c cid.Cid) (ipld.Node, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if nd, ok := h.nodes[c]; ok {
		return nd, nil
	}
	return nil, ipld.ErrNotFound{Cid: c}
}

func (h *hashDAG) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(cs))
	for _, c := range cs {
		nd, err := h.Get(ctx, c)
		out <- &ipld.NodeOption{Node: nd, Err: err}
	}
	close(out)
	return out
}

func (h *hashDAG) Remove(_ context.Context, c cid.Cid) error {
	h.mu.Lock()
	delete(h.nodes, c)
	h.mu.Unlock()
	return nil
}

func (h *hashDAG) RemoveMany(ctx context.Context, cs []cid.Cid) error {
	for _, c := range cs {
		h.Remove(ctx, c)
	}
	return nil
}
