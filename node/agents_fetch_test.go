package node

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/content"
)

type contentPeer struct {
	h  host.Host
	s  *content.Store
	ex *content.Exchange
}

func newContentPeer(t *testing.T) (*contentPeer, peer.AddrInfo) {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	s, err := content.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ex := content.NewExchange(ctx, h, s, content.ExchangeOptions{})
	t.Cleanup(func() { ex.Close(); cancel(); h.Close(); s.Close() })
	return &contentPeer{h, s, ex}, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
}

// expanding stores, as a hostile peer would, d levels of UnixFS file nodes
// above a one-byte leaf, each linking twice to the one below: d+1 blocks
// describing 2^d bytes. With claim > 0 the root says it holds claim bytes.
func expanding(t *testing.T, s *content.Store, d int, claim int64) cid.Cid {
	t.Helper()
	ctx := context.Background()
	leaf := merkledag.NewRawNode([]byte{'x'})
	if err := s.Blockstore().Put(ctx, leaf); err != nil {
		t.Fatal(err)
	}
	c, size := leaf.Cid(), uint64(1)
	for i := range d {
		fs := unixfs.NewFSNode(unixfs.TFile)
		fs.AddBlockSize(size)
		fs.AddBlockSize(size)
		if i == d-1 && claim > 0 {
			fs.UpdateFilesize(claim - int64(2*size))
		}
		data, _ := fs.GetBytes()
		nd := merkledag.NodeWithData(data)
		nd.SetCidBuilder(cid.V1Builder{Codec: cid.DagProtobuf, MhType: multihash.SHA2_256})
		l := &ipld.Link{Cid: c, Size: size}
		nd.AddRawLink("", l)
		nd.AddRawLink("", l)
		if err := s.Blockstore().Put(ctx, nd); err != nil {
			t.Fatal(err)
		}
		c, size = nd.Cid(), 2*size
	}
	return c
}

// TestAgentFetchLimits: what the contest and compute agents fetch by a
// stranger's CID is bounded: a file within the limits reads back, a DAG
// that describes more than 256 MiB is refused quickly with an error naming
// the limit, and nothing is pinned.
func TestAgentFetchLimits(t *testing.T) {
	ctx := context.Background()
	a, aInfo := newContentPeer(t)
	b, _ := newContentPeer(t)
	if err := b.h.Connect(ctx, aInfo); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("model"), 100_000)
	good, err := a.s.AddReader(ctx, bytes.NewReader(data), content.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := agentFetch(ctx, b.ex, b.s, good)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("a 500 KB file: %d bytes, %v", len(got), err)
	}
	for _, d := range []int{40, 29} { // 1 TiB; 512 MiB
		root := expanding(t, a.s, d, 0)
		start := time.Now()
		_, err := agentFetch(ctx, b.ex, b.s, root)
		if !errors.Is(err, content.ErrTooLarge) || !strings.Contains(err.Error(), "the most an agent reads into memory is 256 MiB") {
			t.Errorf("2^%d bytes in %d blocks: %v", d, d+1, err)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("2^%d bytes: refused after %v", d, el)
		}
		if pinned, _ := b.s.IsPinned(ctx, root); pinned {
			t.Errorf("2^%d bytes: pinned", d)
		}
	}
	// A root that says 1,000 bytes above 2^40 of leaves is refused at the
	// level below it (the old code fetched it and read 256 MiB through
	// one-byte leaves); above 2^20 bytes, for its sizes that do not add up
	// (the old code returned 1 MiB for a file of 1,000 bytes).
	start := time.Now()
	_, err = agentFetch(ctx, b.ex, b.s, expanding(t, a.s, 40, 1000))
	if !errors.Is(err, content.ErrTooLarge) {
		t.Errorf("a 1 TiB root that says 1000 bytes: %v", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("a 1 TiB root that says 1000 bytes: refused after %v", el)
	}
	_, err = agentFetch(ctx, b.ex, b.s, expanding(t, a.s, 20, 1000))
	if !errors.Is(err, content.ErrBadDAG) || !strings.Contains(err.Error(), "says 1000 bytes, its data and links hold 1048576") {
		t.Errorf("a 1 MiB root that says 1000 bytes: %v", err)
	}
}

// TestContentConfig: config.toml's content limits default to the content
// package's, and a zero or negative one is refused with its name.
func TestContentConfig(t *testing.T) {
	c := DefaultConfig("n")
	if c.Content.MaxDAGBytes != content.DefaultMaxBytes || c.Content.MaxDAGBlocks != content.DefaultMaxBlocks {
		t.Fatalf("defaults %+v", c.Content)
	}
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ConfigDir), 0o755)
	c.Content.MaxDAGBytes = 1 << 30
	if err := SaveConfig(home, c); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadConfig(home); err != nil || got.Content != c.Content {
		t.Fatalf("round trip: %+v, %v", got.Content, err)
	}
	c.Content.MaxDAGBlocks = 0
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "content.max_dag_blocks") {
		t.Fatalf("zero max_dag_blocks: %v", err)
	}
}
