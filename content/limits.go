package content

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// A DAG's shape is chosen by whoever made it, and a few blocks can
// describe an enormous file: a node may link many times to one child, so
// d+1 blocks can describe 2^d bytes. Every walk of a DAG that came from
// someone else (the gateway, cat, pin, fetch, CAR export, the agents'
// fetches) is bounded by Limits and by the constants below, and honours
// its context. docs/content.md ("Limits") lists them.

// Limits bound a walk of a DAG. A zero field takes its default.
type Limits struct {
	// MaxBytes bounds the logical size of a DAG: the bytes its files
	// describe, counting a block linked twice twice (what cat or the
	// gateway would stream). Default DefaultMaxBytes.
	MaxBytes int64
	// MaxBlocks bounds the distinct blocks of a DAG (what a fetch
	// stores, a pin or a CAR walks). Default DefaultMaxBlocks.
	MaxBlocks int
}

const (
	// DefaultMaxBytes is 256 GiB, the most POST /content/add takes.
	DefaultMaxBytes int64 = 256 << 30
	// DefaultMaxBlocks is 2^21: twice the leaves of 256 GiB in the default
	// 256 KiB chunks, leaving room for smaller chunkers and directories.
	DefaultMaxBlocks = 1 << 21

	// MaxBlockSize is the largest block read or fetched: bitswap's 2 MiB
	// (boxo's chunker.BlockSizeLimit); no importer makes larger ones.
	MaxBlockSize = 2 << 20
	// MaxLinks bounds the links of one dag-pb node. Files have 174,
	// HAMT shards 256, and a basic directory is sharded past 256 KiB,
	// about 6,000 entries; 2^15 leaves room for other importers.
	MaxLinks = 1 << 15
	// MaxDepth bounds the levels of a DAG (walks recurse once per level).
	// A balanced file of 256 GiB has 4; nested directories add theirs.
	MaxDepth = 1024
	// MaxPathElements bounds the names of a gateway path.
	MaxPathElements = 256
)

// ErrTooLarge is wrapped by the errors of walks that stop at a limit.
var ErrTooLarge = errors.New("over the content limit")

// ErrBadDAG is wrapped by the errors of walks that meet a malformed DAG:
// a block too large, too many links, sizes that do not add up.
var ErrBadDAG = errors.New("malformed DAG")

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxBlocks <= 0 {
		l.MaxBlocks = DefaultMaxBlocks
	}
	return l
}

// unlimited is for walks of DAGs already pinned (GC): they were checked
// when pinned, and a limit lowered since must not make GC fail for ever.
var unlimited = Limits{MaxBytes: 1<<63 - 1, MaxBlocks: 1<<63 - 1}

// SetLimits sets the limits of the store's walks (zero fields: defaults).
func (s *Store) SetLimits(l Limits) {
	l = l.withDefaults()
	s.limits.Store(&l)
}

// Limits are the store's limits.
func (s *Store) Limits() Limits {
	if l := s.limits.Load(); l != nil {
		return *l
	}
	return Limits{}.withDefaults()
}

func tooManyBlocks(root cid.Cid, max int) error {
	return fmt.Errorf("%s: %w: the DAG has more than %d blocks, the limit (MaxBlocks); raise the limit only for a DAG you trust", root, ErrTooLarge, max)
}

func tooManyBytes(root cid.Cid, n, max int64) error {
	return fmt.Errorf("%s: %w: the DAG describes at least %d bytes, more than the limit of %d (MaxBytes; a block linked many times counts each time); raise the limit only for a DAG you trust", root, ErrTooLarge, n, max)
}

// DAGStat is what Stat learns of a DAG.
type DAGStat struct {
	Size   int64 // logical bytes of its files (a block linked twice counts twice)
	Blocks int   // distinct blocks
	Dir    bool  // the root is a directory
}

// Stat walks the DAG under c, each distinct block once, checking that
// every block is held and the DAG is within the store's limits and well
// formed (UnixFS file sizes add up). It reads only dag-pb nodes; raw leaves
// are sized without being read. Errors wrap ErrNotFound, ErrTooLarge,
// ErrBadDAG or ctx's error.
func (s *Store) Stat(ctx context.Context, c cid.Cid) (DAGStat, error) {
	return stat(ctx, s.bs, c, s.Limits())
}

func stat(ctx context.Context, bs blockstore.Blockstore, root cid.Cid, lim Limits) (DAGStat, error) {
	lim = lim.withDefaults()
	w := &statWalk{ctx: ctx, bs: bs, root: root, lim: lim, memo: map[string]int64{}, notFile: map[string]bool{}}
	n, err := w.node(root, 1, false)
	if err != nil {
		return DAGStat{}, err
	}
	return DAGStat{Size: n, Blocks: len(w.memo), Dir: w.rootDir}, nil
}

type statWalk struct {
	ctx     context.Context
	bs      blockstore.Blockstore
	root    cid.Cid
	lim     Limits
	memo    map[string]int64 // logical size by CID: each block is read once
	notFile map[string]bool  // dag-pb nodes that are not file data (a file may not link them)
	rootDir bool
}

// sizeSlack is how far Badger's GetSize may be from a value's length: it
// estimates the varint header of a value-log entry instead of reading it.
// Leaves up to readBelow bytes are read instead: cheap, and exact.
const (
	sizeSlack = 16
	readBelow = 4 << 10
)

// node returns the logical size of the DAG under c. A raw leaf of a file
// (leaf) is sized with GetSize, never read, and the size is approximate
// (within sizeSlack): the parent's block size is checked against it and
// counted instead, and the reader (sizedReader) holds the file to the
// size so counted. Other raw blocks (a root, a directory entry) and small
// leaves are read.
func (w *statWalk) node(c cid.Cid, depth int, leaf bool) (int64, error) {
	if n, ok := w.memo[c.KeyString()]; ok {
		return n, nil
	}
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if depth > MaxDepth {
		return 0, fmt.Errorf("%s: %w: deeper than %d levels (MaxDepth) at block %s", w.root, ErrBadDAG, MaxDepth, c)
	}
	if len(w.memo) >= w.lim.MaxBlocks {
		return 0, tooManyBlocks(w.root, w.lim.MaxBlocks)
	}
	var size int64
	switch c.Type() {
	case cid.Raw:
		n, err := w.bs.GetSize(w.ctx, c)
		if err != nil {
			return 0, notFound(c, err)
		}
		if n > MaxBlockSize+sizeSlack {
			return 0, bigBlock(c, n)
		}
		if !leaf || n <= readBelow {
			b, err := w.bs.Get(w.ctx, c)
			if err != nil {
				return 0, notFound(c, err)
			}
			if n = len(b.RawData()); n > MaxBlockSize {
				return 0, bigBlock(c, n)
			}
		}
		size = int64(n)
	case cid.DagProtobuf:
		var err error
		if size, err = w.protoNode(c, depth); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("block %s: %w: codec 0x%x is not supported (only dag-pb and raw)", c, ErrBadDAG, c.Type())
	}
	w.memo[c.KeyString()] = size
	return size, nil
}

func (w *statWalk) protoNode(c cid.Cid, depth int) (int64, error) {
	b, err := w.bs.Get(w.ctx, c)
	if err != nil {
		return 0, notFound(c, err)
	}
	nd, err := decodeNode(c, b.RawData())
	if err != nil {
		return 0, err
	}
	// A dag-pb node without UnixFS data is a plain DAG: it can be pinned,
	// not read; its size is its children's.
	fs, ferr := unixfs.FSNodeFromBytes(nd.Data())
	file := ferr == nil && (fs.Type() == unixfs.TFile || fs.Type() == unixfs.TRaw)
	if depth == 1 && ferr == nil {
		w.rootDir = fs.IsDir()
	}
	if !file {
		w.notFile[c.KeyString()] = true
	}
	var sum int64
	if ferr == nil {
		switch fs.Type() {
		case unixfs.TFile, unixfs.TRaw, unixfs.TSymlink:
			sum = int64(len(fs.Data()))
		case unixfs.TMetadata:
			return 0, fmt.Errorf("block %s: %w: UnixFS metadata nodes are not supported", c, ErrBadDAG)
		}
		if file && int64(fs.FileSize()) > w.lim.MaxBytes {
			return 0, tooManyBytes(w.root, int64(fs.FileSize()), w.lim.MaxBytes)
		}
		if file && fs.NumChildren() != len(nd.Links()) {
			return 0, fmt.Errorf("block %s: %w: UnixFS file node lists %d block sizes for %d links", c, ErrBadDAG, fs.NumChildren(), len(nd.Links()))
		}
		// The UnixFS reader skips the data of a node with links: such a
		// node would read back other than its sizes say.
		if file && sum > 0 && len(nd.Links()) > 0 {
			return 0, fmt.Errorf("block %s: %w: UnixFS file node has both data and links", c, ErrBadDAG)
		}
	}
	for i, l := range nd.Links() {
		n, err := w.node(l.Cid, depth+1, file)
		if err != nil {
			return 0, err
		}
		if file && w.notFile[l.Cid.KeyString()] {
			return 0, fmt.Errorf("block %s: %w: UnixFS file node links (link %d) to %s, which is not file data", c, ErrBadDAG, i, l.Cid)
		}
		if file {
			want := int64(fs.BlockSize(i))
			approx := l.Cid.Type() == cid.Raw && n > readBelow
			if approx && n-sizeSlack <= want && want <= n+sizeSlack {
				n = want // GetSize is approximate; the reader enforces the sum
			}
			if want != n || want < 0 {
				return 0, fmt.Errorf("block %s: %w: UnixFS file node says link %d holds %d bytes, it holds %d", c, ErrBadDAG, i, fs.BlockSize(i), n)
			}
		}
		if sum += n; sum > w.lim.MaxBytes || sum < 0 {
			return 0, tooManyBytes(w.root, sum, w.lim.MaxBytes)
		}
	}
	if file && int64(fs.FileSize()) != sum {
		return 0, fmt.Errorf("block %s: %w: UnixFS file node says %d bytes, its data and links hold %d", c, ErrBadDAG, fs.FileSize(), sum)
	}
	return sum, nil
}

func bigBlock(c cid.Cid, n int) error {
	return fmt.Errorf("block %s: %w: %d bytes, over the %d-byte block limit (MaxBlockSize)", c, ErrBadDAG, n, MaxBlockSize)
}

// decodeNode decodes a dag-pb block within MaxBlockSize and MaxLinks.
func decodeNode(c cid.Cid, data []byte) (*merkledag.ProtoNode, error) {
	if len(data) > MaxBlockSize {
		return nil, bigBlock(c, len(data))
	}
	nd, err := merkledag.DecodeProtobuf(data)
	if err != nil {
		return nil, fmt.Errorf("block %s: %w: not a dag-pb node: %v", c, ErrBadDAG, err)
	}
	if n := len(nd.Links()); n > MaxLinks {
		return nil, tooManyLinks(c, n)
	}
	return nd, nil
}

func tooManyLinks(c cid.Cid, n int) error {
	return fmt.Errorf("block %s: %w: %d links, over the limit of %d per node (MaxLinks)", c, ErrBadDAG, n, MaxLinks)
}

// checkedGetter is the NodeGetter cat reads through: every node it hands
// the UnixFS reader is within MaxBlockSize and MaxLinks, and reads stop
// with ctx.
type checkedGetter struct{ bs blockstore.Blockstore }

func (g checkedGetter) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := g.bs.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(b.RawData()) > MaxBlockSize {
		return nil, bigBlock(c, len(b.RawData()))
	}
	switch c.Type() {
	case cid.Raw:
		return merkledag.DecodeRawBlock(b)
	case cid.DagProtobuf:
		nd, err := merkledag.DecodeProtobufBlock(b)
		if err != nil {
			return nil, fmt.Errorf("block %s: %w: not a dag-pb node: %v", c, ErrBadDAG, err)
		}
		if n := len(nd.Links()); n > MaxLinks {
			return nil, tooManyLinks(c, n)
		}
		return nd, nil
	}
	return nil, fmt.Errorf("block %s: %w: codec 0x%x is not supported (only dag-pb and raw)", c, ErrBadDAG, c.Type())
}

func (g checkedGetter) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(cs))
	go func() {
		defer close(out)
		for _, c := range cs {
			nd, err := g.Get(ctx, c)
			select {
			case out <- &ipld.NodeOption{Node: nd, Err: err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
