package content

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func connect(t *testing.T, a, b host.Host) {
	t.Helper()
	if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

// watchDrops reports each disconnect of h from p as it happens. A fetch's
// bitswap may dial a disconnected bad peer again (the node's Penalize bans
// it, so that dial fails there; test hosts have no gater), so "not
// connected now" would be a race.
func watchDrops(h host.Host, p peer.ID) <-chan struct{} {
	dropped := make(chan struct{}, 8)
	h.Network().Notify(&network.NotifyBundle{DisconnectedF: func(_ network.Network, cn network.Conn) {
		if cn.RemotePeer() == p {
			select {
			case dropped <- struct{}{}:
			default:
			}
		}
	}})
	return dropped
}

func waitDropped(t *testing.T, dropped <-chan struct{}, who string) {
	t.Helper()
	select {
	case <-dropped:
	case <-time.After(5 * time.Second):
		t.Errorf("the %s was never disconnected", who)
	}
}

type node struct {
	h  host.Host
	s  *Store
	ex *Exchange
}

func newNode(t *testing.T, o ExchangeOptions) *node {
	t.Helper()
	n := &node{h: newHost(t), s: openMem(t)}
	ctx, cancel := context.WithCancel(context.Background())
	n.ex = NewExchange(ctx, n.h, n.s, o)
	t.Cleanup(func() { n.ex.Close(); cancel() })
	return n
}

func noFiles(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		t.Errorf("left behind in the output directory: %s", e.Name())
	}
}

func TestFetchBetweenTwoHosts(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, ExchangeOptions{}), newNode(t, ExchangeOptions{})
	data := seededBytes(32 << 20)
	c, err := a.s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, b.h, a.h)

	// Resume: B already holds the first 10 leaves.
	leaves := leafCIDs(t, a.s, c)
	for _, l := range leaves[:10] {
		blk, err := a.s.bs.Get(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		b.s.bs.Put(ctx, blk)
	}

	outDir := t.TempDir()
	out := filepath.Join(outDir, "model.bin")
	var calls int
	var last, lastTotal int64
	start := time.Now()
	// Bitswap alone (the IPFS path); stream_test.go has the DAG stream.
	err = b.ex.Fetch(ctx, c, out, FetchOptions{Timeout: 30 * time.Second, BitswapOnly: true, Progress: func(done, total int64) {
		calls++
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last, lastTotal = done, total
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fetched %d MiB in %v", len(data)>>20, time.Since(start))
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("output differs from the added file (err %v, %d bytes)", err, len(got))
	}
	if last != int64(len(data)) || lastTotal != int64(len(data)) || calls < len(leaves) {
		t.Errorf("progress ended at %d/%d after %d calls, want %d/%d", last, lastTotal, calls, len(data), len(data))
	}
	received, _, _ := b.ex.Stats()
	if want := uint64(1 + len(leaves) - 10); received != want {
		t.Errorf("B received %d blocks, want %d (root + leaves it did not hold)", received, want)
	}
	if ok, _ := b.s.IsPinned(ctx, c); !ok {
		t.Error("fetched root not pinned")
	}
	ents, _ := os.ReadDir(outDir)
	if len(ents) != 1 {
		t.Errorf("output directory holds %d entries, want only the file", len(ents))
	}
}

func leafCIDs(t *testing.T, s *Store, root cid.Cid) []cid.Cid {
	t.Helper()
	var out []cid.Cid
	err := walk(context.Background(), s.bs, root, Limits{}, func(c cid.Cid, _ []byte) error {
		if c.Type() == cid.Raw {
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// corruptStore serves every raw block with its first byte flipped.
type corruptStore struct{ blockstore.Blockstore }

func (c corruptStore) Get(ctx context.Context, id cid.Cid) (blocks.Block, error) {
	b, err := c.Blockstore.Get(ctx, id)
	if err != nil || id.Type() != cid.Raw {
		return b, err
	}
	d := bytes.Clone(b.RawData())
	d[0] ^= 0xff
	return blocks.NewBlockWithCid(d, id)
}

func TestCorruptPeerIsRejected(t *testing.T) {
	ctx := context.Background()
	data := seededBytes(2 << 20)

	// The bad peer holds the file but serves corrupted leaves.
	bad := &node{h: newHost(t), s: openMem(t)}
	c, err := bad.s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	badCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	badStore := &Store{ds: bad.s.ds, bs: corruptStore{bad.s.bs}, dag: bad.s.dag}
	bad.ex = NewExchange(badCtx, bad.h, badStore, ExchangeOptions{})
	defer bad.ex.Close()

	var mu sync.Mutex
	flagged := map[peer.ID]int{}
	b := newNode(t, ExchangeOptions{OnUnwantedBlock: func(p peer.ID, _ cid.Cid) {
		mu.Lock()
		flagged[p]++
		mu.Unlock()
	}})
	dropped := watchDrops(b.h, bad.h.ID())
	connect(t, b.h, bad.h)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "f")
	err = b.ex.Fetch(ctx, c, out, FetchOptions{Timeout: 3 * time.Second})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("fetch from a corrupting peer: %v, want a timeout", err)
	}
	noFiles(t, outDir)
	for _, l := range leafCIDs(t, bad.s, c) {
		if ok, _ := b.s.Has(ctx, l); ok {
			t.Fatalf("B stored leaf %s from the corrupting peer", l)
		}
	}
	mu.Lock()
	if flagged[bad.h.ID()] == 0 {
		t.Error("the corrupting peer was not reported")
	}
	mu.Unlock()

	waitDropped(t, dropped, "corrupting peer")

	// With the corrupting peer and an honest one connected, the fetch
	// completes byte for byte.
	honest := newNode(t, ExchangeOptions{})
	if _, err := honest.s.AddReader(ctx, bytes.NewReader(data), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	connect(t, b.h, bad.h)
	connect(t, b.h, honest.h)
	if err := b.ex.Fetch(ctx, c, out, FetchOptions{Timeout: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("output differs")
	}
	mu.Lock()
	if flagged[honest.h.ID()] != 0 {
		t.Errorf("the honest peer was reported %d times", flagged[honest.h.ID()])
	}
	mu.Unlock()
}

func TestFetchErrors(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, ExchangeOptions{}), newNode(t, ExchangeOptions{})
	connect(t, b.h, a.h)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "f")

	if _, err := ParseCID("bafy-not-a-cid"); !errors.Is(err, ErrBadCID) {
		t.Errorf("ParseCID of garbage: %v", err)
	}
	// A CID with the identity hash is refused before anything is fetched.
	idc, _ := cid.V1Builder{Codec: cid.Raw, MhType: 0x00}.Sum([]byte("x"))
	if err := b.ex.Fetch(ctx, idc, out, FetchOptions{}); !errors.Is(err, ErrBadCID) {
		t.Errorf("identity CID: %v", err)
	}
	if err := b.ex.Fetch(ctx, cid.Undef, out, FetchOptions{}); !errors.Is(err, ErrBadCID) {
		t.Errorf("undefined CID: %v", err)
	}

	unknown, _ := HashReader(ctx, strings.NewReader("nobody has this"), AddOptions{})
	err := b.ex.Fetch(ctx, unknown, out, FetchOptions{Timeout: time.Second})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "connected peers") {
		t.Errorf("unknown CID: %v", err)
	}
	t.Log(err)

	c, _ := a.s.AddReader(ctx, strings.NewReader("hello"), AddOptions{})
	if err := b.ex.Fetch(ctx, c, filepath.Join(outDir, "no", "such", "dir", "f"), FetchOptions{Timeout: 5 * time.Second}); err == nil {
		t.Error("fetch to an unwritable path succeeded")
	}
	noFiles(t, outDir)
}

func TestServiceStartClose(t *testing.T) {
	home := t.TempDir()
	svc, err := Start(context.Background(), home, newHost(t), ExchangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Store.AddReader(context.Background(), strings.NewReader("x"), AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(home, Dir))
	if err != nil {
		t.Fatalf("store not released by Close: %v", err)
	}
	s.Close()
}
