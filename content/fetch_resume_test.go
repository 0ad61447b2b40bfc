package content

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
)

// diskNode is a node whose store is a real Badger directory, so that it
// can be stopped and started again over the same blocks.
type diskNode struct {
	dir string
	key crypto.PrivKey
	h   host.Host
	s   *Store
	ex  *Exchange
	mu  sync.Mutex
	off bool
}

func startDiskNode(t *testing.T, dir string, key crypto.PrivKey) *diskNode {
	t.Helper()
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	n := &diskNode{dir: dir, key: key, h: h, s: s, ex: NewExchange(context.Background(), h, s, ExchangeOptions{})}
	t.Cleanup(n.stop)
	return n
}

// stop is what a killed node looks like to its peers: its connections
// drop and it answers nothing more.
func (n *diskNode) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.off {
		return
	}
	n.off = true
	n.h.Close()
	n.ex.Close()
	n.s.Close()
}

func heldBlocks(t *testing.T, all []cid.Cid, s *Store) int {
	t.Helper()
	n := 0
	for _, c := range all {
		if ok, _ := s.Has(context.Background(), c); ok {
			n++
		}
	}
	return n
}

func dagCIDs(t *testing.T, s *Store, root cid.Cid) []cid.Cid {
	t.Helper()
	var out []cid.Cid
	if err := walk(context.Background(), s.bs, root, Limits{}, func(c cid.Cid, _ []byte) error {
		out = append(out, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// Issue 5: a 64 MiB file added on A is fetched on B byte for byte; A goes
// away partway (a quarter in) and comes back, and the fetch completes without fetching
// again the blocks B already had.
// TestFetchResumesAfterPeerRestart runs for the default path (DAG
// stream, bitswap behind it) and for bitswap alone.
func TestFetchResumesAfterPeerRestart(t *testing.T) {
	for _, bitswapOnly := range []bool{false, true} {
		t.Run(map[bool]string{false: "stream", true: "bitswap"}[bitswapOnly], func(t *testing.T) {
			testFetchResumes(t, bitswapOnly)
		})
	}
}

func testFetchResumes(t *testing.T, bitswapOnly bool) {
	ctx := context.Background()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dirA := t.TempDir()
	a := startDiskNode(t, dirA, key)
	data := seededBytes(64 << 20)
	c, err := a.s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all := dagCIDs(t, a.s, c)
	b := startDiskNode(t, t.TempDir(), mustKey(t))
	connect(t, b.h, a.h)

	outDir := t.TempDir()
	out := filepath.Join(outDir, "model.bin")
	// The first pass waits for A for a second after A is gone, then gives
	// up (a timeout on the CLI; here its context is cancelled).
	var killed atomic.Bool
	fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	_, err = b.ex.Get(fctx, c, out, FetchOptions{BitswapOnly: bitswapOnly, Progress: func(done, total int64) {
		// A quarter in, not half: up to about 20 MiB more may already be
		// on its way (bitswap's queue, yamux's window, socket buffers).
		if total > 0 && done >= total/4 && !killed.Swap(true) {
			go a.stop()
			time.AfterFunc(time.Second, cancel)
		}
	}})
	if !killed.Load() {
		t.Fatalf("the fetch ended (%v) before reaching a quarter of the file", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("fetch with the only peer gone: %v, want it cancelled", err)
	}
	noFiles(t, outDir)
	held := heldBlocks(t, all, b.s)
	if held == 0 || held >= len(all) {
		t.Fatalf("B holds %d of %d blocks after the first pass; want some, not all", held, len(all))
	}
	t.Logf("first pass: B holds %d of %d blocks when A is gone", held, len(all))

	// A comes back: same identity, same store, a new port.
	a = startDiskNode(t, dirA, key)
	connect(t, b.h, a.h)
	before, _, _ := b.ex.Stats()
	res, err := b.ex.Get(ctx, c, out, FetchOptions{Timeout: 30 * time.Second, BitswapOnly: bitswapOnly})
	if err != nil {
		t.Fatal(err)
	}
	after, _, _ := b.ex.Stats()
	want := uint64(len(all) - held)
	if !bitswapOnly {
		want = 0 // the DAG stream moved them all
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("the resumed fetch wrote other bytes than the 64 MiB added on A")
	}
	if res.Held != held || res.Received != len(all)-held || res.Blocks != len(all) {
		t.Errorf("second pass: held %d, received %d of %d; want held %d, received %d", res.Held, res.Received, res.Blocks, held, len(all)-held)
	}
	if d := after - before; d != want {
		t.Errorf("bitswap received %d blocks in the second pass, want %d", d, want)
	}
	if ok, _ := b.s.IsPinned(ctx, c); !ok {
		t.Error("resumed fetch did not pin the root")
	}
}

func mustKey(t *testing.T) crypto.PrivKey {
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// faultDS fails every block write after the first `after` ones, while
// armed, as a full disk would.
type faultDS struct {
	ds.Batching
	mu    sync.Mutex
	after int
	armed bool
	puts  int
}

var errInjected = errors.New("injected: no space left on device")

func (f *faultDS) check(k ds.Key) error {
	if !strings.HasPrefix(k.String(), "/blocks/") {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.armed {
		return nil
	}
	f.puts++
	if f.puts > f.after {
		return errInjected
	}
	return nil
}

func (f *faultDS) arm(after int) {
	f.mu.Lock()
	f.armed, f.after, f.puts = true, after, 0
	f.mu.Unlock()
}

func (f *faultDS) disarm() {
	f.mu.Lock()
	f.armed = false
	f.mu.Unlock()
}

func (f *faultDS) Put(ctx context.Context, k ds.Key, v []byte) error {
	if err := f.check(k); err != nil {
		return err
	}
	return f.Batching.Put(ctx, k, v)
}

func (f *faultDS) Batch(ctx context.Context) (ds.Batch, error) {
	b, err := f.Batching.Batch(ctx)
	if err != nil {
		return nil, err
	}
	return &faultBatch{Batch: b, f: f}, nil
}

type faultBatch struct {
	ds.Batch
	f *faultDS
}

func (b *faultBatch) Put(ctx context.Context, k ds.Key, v []byte) error {
	if err := b.f.check(k); err != nil {
		return err
	}
	return b.Batch.Put(ctx, k, v)
}

// A write error at the blockstore, during a fetch and during an add: a
// clear error at once (not a timeout), no output file, nothing pinned,
// and a store that gc, pin and a later fetch find consistent.
func TestStoreWriteError(t *testing.T) {
	ctx := context.Background()
	a := newNode(t, ExchangeOptions{})
	data := seededBytes(8 << 20)
	c, err := a.s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all := dagCIDs(t, a.s, c)

	dir := t.TempDir()
	bd, err := openBadger(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	fault := &faultDS{Batching: bd}
	bs := newStore(fault)
	t.Cleanup(func() { bs.Close() })
	b := &node{h: newHost(t), s: bs}
	b.ex = NewExchange(ctx, b.h, bs, ExchangeOptions{})
	t.Cleanup(func() { b.ex.Close() })
	connect(t, b.h, a.h)

	outDir := t.TempDir()
	out := filepath.Join(outDir, "model.bin")
	fault.arm(10)
	start := time.Now()
	_, err = b.ex.Get(ctx, c, out, FetchOptions{Timeout: 20 * time.Second})
	if !errors.Is(err, ErrStoreWrite) || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "fetch again") {
		t.Fatalf("fetch into a failing store: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the write error took %v to surface", d)
	}
	t.Log(err)
	noFiles(t, outDir)
	if ok, _ := bs.IsPinned(ctx, c); ok {
		t.Error("root pinned after a failed fetch")
	}
	held := heldBlocks(t, all, bs)
	if held == 0 || held >= len(all) {
		t.Fatalf("store holds %d of %d blocks after the failure", held, len(all))
	}

	// An add into the failing store fails the same way and pins nothing.
	fault.arm(3)
	if _, err := bs.AddReader(ctx, bytes.NewReader(seededBytes(4 << 20)[1:]), AddOptions{}); !errors.Is(err, errInjected) {
		t.Fatalf("add into a failing store: %v", err)
	}
	if pins, _ := bs.Pins(ctx); len(pins) != 0 {
		t.Errorf("pins after failures: %v", pins)
	}

	// The disk is fixed: the fetch resumes from the blocks stored, then gc
	// keeps exactly the pinned DAG.
	fault.disarm()
	res, err := b.ex.Get(ctx, c, out, FetchOptions{Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Held != held || res.Received != len(all)-held {
		t.Errorf("resumed fetch: held %d, received %d; want %d, %d", res.Held, res.Received, held, len(all)-held)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("output differs")
	}
	gc, err := bs.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if gc.Kept != len(all) {
		t.Errorf("gc: %+v, want the %d blocks of the pinned DAG kept", gc, len(all))
	}
	if again, _ := bs.GC(ctx); again.Removed != 0 || again.Kept != len(all) {
		t.Errorf("second gc: %+v", again)
	}
	if pins, _ := bs.Pins(ctx); len(pins) != 1 || !pins[0].Equals(c) {
		t.Errorf("pins: %v, want [%s]", pins, c)
	}
	r, err := bs.Cat(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// An output path that cannot be written is refused before anything is
// fetched, with an error that says which path, and leaves no file.
func TestFetchUnwritableOutput(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, ExchangeOptions{}), newNode(t, ExchangeOptions{})
	connect(t, b.h, a.h)
	c, _ := a.s.AddReader(ctx, strings.NewReader("weights"), AddOptions{})
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, out := range []string{filepath.Join(dir, "no", "such", "dir", "f"), filepath.Join(file, "f")} {
		_, err := b.ex.Get(ctx, c, out, FetchOptions{Timeout: 5 * time.Second})
		if err == nil || !strings.Contains(err.Error(), "writable -o path") || !strings.Contains(err.Error(), out) {
			t.Errorf("fetch to %s: %v", out, err)
		}
		if ok, _ := b.s.Has(ctx, c); ok {
			t.Errorf("fetch to %s fetched although the output cannot be written", out)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d entries in the directory, want only a-file", len(ents))
	}
	// The store is fine: the same fetch to a good path works.
	if err := b.ex.Fetch(ctx, c, filepath.Join(dir, "ok"), FetchOptions{Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
}
