package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"sync"
	"testing"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	ihelper "github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// recDAG records every block added, in order.
type recDAG struct {
	hashDAG
	mu     sync.Mutex
	blocks map[cid.Cid][]byte
	order  []cid.Cid
}

func newRecDAG() *recDAG {
	return &recDAG{hashDAG: *newHashDAG(), blocks: map[cid.Cid][]byte{}}
}

func (d *recDAG) Add(ctx context.Context, nd ipld.Node) error {
	d.mu.Lock()
	d.blocks[nd.Cid()] = bytes.Clone(nd.RawData())
	d.order = append(d.order, nd.Cid())
	d.mu.Unlock()
	return d.hashDAG.Add(ctx, nd)
}

// addLeaf makes recDAG a leafSink that releases the leaf's bytes at once
// (it keeps a copy), so that the tests reuse chunk buffers as eagerly as
// can be.
func (d *recDAG) addLeaf(ctx context.Context, nd ipld.Node, release func()) error {
	err := d.Add(ctx, nd)
	if release != nil {
		release()
	}
	return err
}

func (d *recDAG) AddMany(ctx context.Context, nds []ipld.Node) error {
	for _, nd := range nds {
		if err := d.Add(ctx, nd); err != nil {
			return err
		}
	}
	return nil
}

// boxoImport is the reference: boxo's balanced layout, as addFile used it
// before the parallel importer (maxlinks aside).
func boxoImport(t *testing.T, data []byte, size, maxlinks int) (cid.Cid, *recDAG) {
	t.Helper()
	d := newRecDAG()
	p := ihelper.DagBuilderParams{Maxlinks: maxlinks, RawLeaves: true, CidBuilder: cidBuilder, Dagserv: d}
	db, err := p.New(chunker.NewSizeSplitter(bytes.NewReader(data), int64(size)))
	if err != nil {
		t.Fatal(err)
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		t.Fatal(err)
	}
	return nd.Cid(), d
}

func ourImport(t *testing.T, data []byte, size, maxlinks int) (cid.Cid, *recDAG) {
	t.Helper()
	d := newRecDAG()
	nd, err := importBalanced(context.Background(), d, bytes.NewReader(data), size, maxlinks, nil)
	if err != nil {
		t.Fatal(err)
	}
	return nd.Cid(), d
}

// sameDAG checks that the two imports gave the same root and the same
// blocks, byte for byte, each added as many times and in the same order.
func sameDAG(t *testing.T, name string, data []byte, size, maxlinks int) {
	t.Helper()
	want, wd := boxoImport(t, data, size, maxlinks)
	got, gd := ourImport(t, data, size, maxlinks)
	if got != want {
		t.Fatalf("%s: root %s, boxo %s", name, got, want)
	}
	if len(gd.blocks) != len(wd.blocks) || len(gd.order) != len(wd.order) {
		t.Fatalf("%s: %d blocks (%d adds), boxo %d (%d adds)", name, len(gd.blocks), len(gd.order), len(wd.blocks), len(wd.order))
	}
	for c, b := range wd.blocks {
		if !bytes.Equal(gd.blocks[c], b) {
			t.Fatalf("%s: block %s differs from boxo's", name, c)
		}
	}
	// Same multiset of adds (boxo adds a parent's children as it goes).
	count := map[cid.Cid]int{}
	for _, c := range wd.order {
		count[c]++
	}
	for _, c := range gd.order {
		count[c]--
	}
	for c, n := range count {
		if n != 0 {
			t.Fatalf("%s: block %s added %d times more by boxo", name, c, n)
		}
	}
}

func TestParallelImportMatchesBoxo(t *testing.T) {
	const k = 256 << 10
	rng := rand.New(rand.NewSource(7))
	big := make([]byte, 176*k+3)
	rng.Read(big)
	// The default chunker and links per block.
	for _, n := range []int{0, 1, 2, k - 1, k, k + 1, 2 * k, 3*k - 5,
		173 * k, 174*k - 1, 174 * k, 174*k + 1, 175 * k, 175*k + 1, 176*k + 3} {
		sameDAG(t, fmt.Sprintf("%d bytes", n), big[:n], k, ihelper.DefaultLinksPerBlock)
	}
	for range 4 {
		n := rng.Intn(len(big))
		sameDAG(t, fmt.Sprintf("%d bytes", n), big[:n], k, ihelper.DefaultLinksPerBlock)
	}
	// Zeros: every leaf the same block.
	sameDAG(t, "zeros", make([]byte, 200*k+9), k, ihelper.DefaultLinksPerBlock)

	// Deep trees, cheaply: 174 links per node over 16-byte chunks, around
	// 174² leaves (where the root goes from height 2 to 3).
	const c = 16
	deep := make([]byte, (174*174+2*174+1)*c)
	rng.Read(deep)
	for _, leaves := range []int{174*174 - 1, 174 * 174, 174*174 + 1, 174*174 + 174, 174*174 + 175} {
		sameDAG(t, fmt.Sprintf("%d leaves of %d", leaves, c), deep[:leaves*c], c, 174)
		sameDAG(t, fmt.Sprintf("%d leaves of %d, short last", leaves, c), deep[:leaves*c-c/2], c, 174)
	}
	// Every leaf count up to 3⁴+2 with 3 links per node (heights 0 to 5),
	// and random ones with other small fan-outs.
	small := make([]byte, 3000)
	rng.Read(small)
	for leaves := 0; leaves <= 83; leaves++ {
		sameDAG(t, fmt.Sprintf("%d leaves of 3, 3 links", leaves), small[:leaves*3], 3, 3)
		if leaves > 0 {
			sameDAG(t, fmt.Sprintf("%d leaves of 3, 3 links, short last", leaves), small[:leaves*3-1], 3, 3)
		}
	}
	for _, links := range []int{2, 4, 5, 7} {
		for range 20 {
			n := rng.Intn(len(small))
			sameDAG(t, fmt.Sprintf("%d bytes in 5, %d links", n, links), small[:n], 5, links)
		}
	}
}

// TestAddMatchesBoxo checks the public paths: Add stores the blocks of
// boxo's DAG, every one, and only-hash and other size-N specs give boxo's
// root.
func TestAddMatchesBoxo(t *testing.T) {
	ctx := context.Background()
	data := seededBytes(175<<18 + 12345)
	want, wd := boxoImport(t, data, 256<<10, ihelper.DefaultLinksPerBlock)
	disk, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { disk.Close() })
	for _, s := range []*Store{openMem(t), disk} {
		var progress int64
		got, err := s.AddReader(ctx, bytes.NewReader(data), AddOptions{Progress: func(n int64) { progress = n }})
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("Add gave %s, boxo %s", got, want)
		}
		if progress != int64(len(data)) {
			t.Errorf("progress ended at %d, want %d", progress, len(data))
		}
		n := 0
		err = walkCIDs(ctx, s.bs, got, Limits{}, func(cid.Cid) error { n++; return nil })
		if err != nil || n != len(wd.blocks) {
			t.Errorf("the stored DAG has %d blocks (%v), boxo's %d", n, err, len(wd.blocks))
		}
		for c, b := range wd.blocks {
			blk, err := s.bs.Get(ctx, c)
			if err != nil {
				t.Fatalf("block %s: %v", c, err)
			}
			if !bytes.Equal(blk.RawData(), b) {
				t.Fatalf("stored block %s differs from boxo's", c)
			}
		}
	}
	if h, err := HashReader(ctx, bytes.NewReader(data), AddOptions{}); err != nil || h != want {
		t.Errorf("only-hash gave %s, %v; boxo %s", h, err, want)
	}
	for _, spec := range []string{"default", "size-262144", "size-1000", "size-+777", "size-1048576"} {
		size, ok := fixedChunkSize(spec)
		if !ok {
			t.Fatalf("%s not taken as a fixed-size chunker", spec)
		}
		w, _ := boxoImport(t, data[:3<<20], size, ihelper.DefaultLinksPerBlock)
		if h, err := HashReader(ctx, bytes.NewReader(data[:3<<20]), AddOptions{Chunker: spec}); err != nil || h != w {
			t.Errorf("%s: only-hash gave %s, %v; boxo %s", spec, h, err, w)
		}
	}
	for _, spec := range []string{"buzhash", "rabin-262144-524288-1048576", "size-0", "size-x", "size-", "size-1-2", "size-99999999", "bogus"} {
		if _, ok := fixedChunkSize(spec); ok {
			t.Errorf("%s taken as a fixed-size chunker", spec)
		}
	}
	// Other chunkers still go to boxo and give its root.
	b1, err1 := HashReader(ctx, bytes.NewReader(data[:2<<20]), AddOptions{Chunker: "buzhash"})
	b2, err2 := addFileBoxo(ctx, newHashDAG(), bytes.NewReader(data[:2<<20]), "buzhash", nil)
	if err1 != nil || err2 != nil || b1 != b2.Cid() {
		t.Errorf("buzhash: %s %v, boxo %v %v", b1, err1, b2, err2)
	}
}

type failingReader struct {
	r     io.Reader
	left  int
	fails error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, f.fails
	}
	if len(p) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= n
	return n, err
}

func TestParallelImportErrors(t *testing.T) {
	boom := errors.New("boom")
	data := seededBytes(8 << 20)
	for _, at := range []int{0, 1, 256 << 10, 5<<20 + 3} {
		r := &failingReader{r: bytes.NewReader(data), left: at, fails: boom}
		if _, err := HashReader(context.Background(), r, AddOptions{}); !errors.Is(err, boom) {
			t.Errorf("read error at %d: got %v", at, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := HashReader(ctx, bytes.NewReader(data), AddOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	// A DAG service that fails.
	s := openMem(t)
	s.Close()
	if _, err := s.AddReader(context.Background(), bytes.NewReader(data), AddOptions{}); err == nil {
		t.Error("add to a closed store succeeded")
	}
}
