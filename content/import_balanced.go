package content

import (
	"context"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	ihelper "github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// The parallel importer. For the fixed-size chunkers ("", "default",
// "size-N") with raw leaves, CIDv1, sha2-256 and the balanced layout (all
// that addFile asks of boxo), it gives the very DAG boxo's
// balanced.Layout gives, block for block, but hashes the leaves on all
// cores: a reader goroutine cuts the file into chunks, a pool of workers
// hashes them, and the calling goroutine takes the results in file order,
// hands the leaves to the DAG service and builds the internal dag-pb nodes
// with boxo's own ProtoNode and FSNode (so their encoding is boxo's).
// TestParallelImportMatchesBoxo checks it against boxo for many sizes.

// fixedChunkSize returns the chunk size of a fixed-size chunker spec, and
// false for any other chunker (which goes to boxo's importer). A spec the
// chunker package rejects is also false: boxo then reports the error.
func fixedChunkSize(spec string) (int, bool) {
	if _, err := chunker.FromString(strings.NewReader(""), spec); err != nil {
		return 0, false
	}
	if spec == "" || spec == "default" {
		return int(chunker.DefaultBlockSize), true
	}
	rest, ok := strings.CutPrefix(spec, "size-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest) // as chunker's parseSizeString
	if err != nil || n <= 0 || n > ihelper.BlockSizeLimit {
		return 0, false
	}
	return n, true
}

// importWorkers is the number of hashing goroutines.
func importWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }

// leafJob is one chunk on its way through the pipeline.
type leafJob struct {
	data []byte
	c    cid.Cid
	err  error
	done chan struct{}
}

// importBalanced imports r, cut in chunks of size bytes, as boxo's
// balanced.Layout over a DagBuilderHelper{Maxlinks: maxlinks, RawLeaves:
// true, CidBuilder: cidBuilder} does, adding every block to dag. progress,
// if set, is called with the bytes imported so far after each chunk.
func importBalanced(ctx context.Context, dag ipld.DAGService, r io.Reader, size, maxlinks int, progress func(int64)) (ipld.Node, error) {
	b := balancedBuilder{ctx: ctx, dag: dag, maxlinks: maxlinks}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := importWorkers()
	// Chunks in flight: about 16 MiB, so that the hashing goes on while
	// the calling goroutine writes a batch to the store.
	inflight := min(max((16<<20)/size, 4*workers), 4096)
	// Chunk buffers come back here once the DAG service is done with
	// them (see leafSink), and are read into again.
	// A batchDAG holds up to two batches of 8 MiB besides.
	free := make(chan []byte, inflight+2*(batchBytes/size+1)+workers)
	work := make(chan *leafJob, inflight)
	order := make(chan *leafJob, inflight)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rawPrefix := cidBuilder.WithCodec(cid.Raw)
			for j := range work {
				j.c, j.err = rawPrefix.Sum(j.data)
				close(j.done)
			}
		}()
	}
	wg.Add(1)
	go func() { // the reader
		defer wg.Done()
		defer close(order)
		defer close(work)
		for {
			if ctx.Err() != nil {
				return
			}
			var buf []byte
			select {
			case buf = <-free:
			default:
				buf = make([]byte, size)
			}
			n, err := io.ReadFull(r, buf)
			last := false
			switch {
			case err == nil:
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				last = true
				err = nil
			}
			j := &leafJob{data: buf[:n], err: err, done: make(chan struct{})}
			if err != nil || n == 0 {
				// A read error, or the end: passed on unhashed.
				close(j.done)
				select {
				case order <- j:
				case <-ctx.Done():
				}
				return
			}
			select {
			case work <- j:
			case <-ctx.Done():
				return
			}
			select {
			case order <- j:
			case <-ctx.Done():
				return
			}
			if last {
				return
			}
		}
	}()
	defer func() {
		cancel()
		for range order { // let the reader finish
		}
		wg.Wait()
	}()

	var read int64
	for j := range order {
		<-j.done
		if j.err != nil {
			return nil, j.err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(j.data) == 0 {
			break
		}
		blk, err := blocks.NewBlockWithCid(j.data, j.c)
		if err != nil {
			return nil, err
		}
		leaf, err := merkledag.DecodeRawBlock(blk)
		if err != nil {
			return nil, err
		}
		buf := j.data[:cap(j.data)]
		release := func() {
			select {
			case free <- buf:
			default:
			}
		}
		if err := b.addLeaf(leaf, uint64(len(j.data)), release); err != nil {
			return nil, err
		}
		read += int64(len(j.data))
		if progress != nil {
			progress(read)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.finish()
}

// balancedBuilder builds boxo's balanced layout bottom-up as leaves come:
// levels[k] holds the children of the node of height k+1 being filled.
// A level is closed into its node when a child beyond maxlinks comes, or
// at the end. The result is the tree of balanced.Layout: a single leaf is
// the root itself; otherwise the root is the lowest node that holds all
// the leaves, every node full except along the right edge.
type balancedBuilder struct {
	ctx      context.Context
	dag      ipld.DAGService
	maxlinks int
	levels   [][]dagChild
	leaves   int
	first    ipld.Node // the only leaf of a one-chunk file
}

type dagChild struct {
	c        cid.Cid
	size     uint64 // cumulative block size, as ipld.MakeLink gives it
	fileSize uint64 // file bytes under it
}

// leafSink is a DAG service that says when it is done with the bytes of
// a raw leaf (written, or dropped), so that the importer reads the next
// chunks into them: release is called at most once, from any goroutine,
// and never if the DAG service may still read the leaf's bytes.
type leafSink interface {
	addLeaf(ctx context.Context, nd ipld.Node, release func()) error
}

func (b *balancedBuilder) addLeaf(nd ipld.Node, fileSize uint64, release func()) error {
	if b.leaves == 0 {
		// The root if it stays the only leaf: its bytes are not reused
		// (they are once a second leaf came).
		b.first = nd
		release = nil
	}
	b.leaves++
	var err error
	if s, ok := b.dag.(leafSink); ok {
		err = s.addLeaf(b.ctx, nd, release)
	} else {
		err = b.dag.Add(b.ctx, nd)
	}
	if err != nil {
		return err
	}
	size, err := nd.Size()
	if err != nil {
		return err
	}
	return b.push(0, dagChild{c: nd.Cid(), size: size, fileSize: fileSize})
}

func (b *balancedBuilder) push(k int, ch dagChild) error {
	if k == len(b.levels) {
		b.levels = append(b.levels, make([]dagChild, 0, b.maxlinks))
	}
	if len(b.levels[k]) == b.maxlinks {
		_, parent, err := b.close(k)
		if err != nil {
			return err
		}
		if err := b.push(k+1, parent); err != nil {
			return err
		}
	}
	b.levels[k] = append(b.levels[k], ch)
	return nil
}

// close makes the node of level k's children, adds it to the DAG service
// and empties the level.
func (b *balancedBuilder) close(k int) (ipld.Node, dagChild, error) {
	pn := new(merkledag.ProtoNode)
	if err := pn.SetCidBuilder(cidBuilder); err != nil {
		return nil, dagChild{}, err
	}
	fsn := ft.NewFSNode(ft.TFile)
	for _, ch := range b.levels[k] {
		if err := pn.AddRawLink("", &ipld.Link{Size: ch.size, Cid: ch.c}); err != nil {
			return nil, dagChild{}, err
		}
		fsn.AddBlockSize(ch.fileSize)
	}
	data, err := fsn.GetBytes()
	if err != nil {
		return nil, dagChild{}, err
	}
	pn.SetData(data)
	b.levels[k] = b.levels[k][:0]
	if err := b.dag.Add(b.ctx, pn); err != nil {
		return nil, dagChild{}, err
	}
	size, err := pn.Size()
	if err != nil {
		return nil, dagChild{}, err
	}
	return pn, dagChild{c: pn.Cid(), size: size, fileSize: fsn.FileSize()}, nil
}

func (b *balancedBuilder) finish() (ipld.Node, error) {
	switch b.leaves {
	case 0:
		// An empty file is one empty raw leaf, as boxo's Layout makes it.
		nd, err := merkledag.NewRawNodeWPrefix(nil, cidBuilder)
		if err != nil {
			return nil, err
		}
		return nd, b.dag.Add(b.ctx, nd)
	case 1:
		return b.first, nil
	}
	for k := 0; ; k++ {
		nd, ch, err := b.close(k)
		if err != nil {
			return nil, err
		}
		if k == len(b.levels)-1 {
			return nd, nil
		}
		if err := b.push(k+1, ch); err != nil {
			return nil, err
		}
	}
}
