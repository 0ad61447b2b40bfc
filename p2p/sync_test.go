package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// fakeChain serves blocks 1..height, block h being "block <h>" padded to size.
type fakeChain struct {
	height uint64
	size   int
}

func (f fakeChain) Height() uint64 { return f.height }

func (f fakeChain) BlockBytes(h uint64) ([]byte, error) {
	if h == 0 || h > f.height {
		return nil, fmt.Errorf("no block %d", h)
	}
	return f.block(h), nil
}

func (f fakeChain) block(h uint64) []byte {
	b := []byte(fmt.Sprintf("block %d", h))
	if len(b) < f.size {
		b = append(b, bytes.Repeat([]byte{'.'}, f.size-len(b))...)
	}
	return b
}

// syncPair connects a client to a server host.
func syncPair(t *testing.T, serverMod, clientMod func(*Config)) (server, client *Host) {
	server = newTestHost(t, serverMod)
	client = newTestHost(t, func(c *Config) {
		if clientMod != nil {
			clientMod(c)
		}
		bootstrapTo(t, server)(c)
	})
	waitFor(t, 5*time.Second, "client to reach server", connectedTo(server, client.ID()))
	return server, client
}

func TestBlockSyncRoundTrip(t *testing.T) {
	chain := fakeChain{height: 100, size: 1000}
	server, client := syncPair(t, func(c *Config) { c.MaxResponseBytes = 10 * 1000; c.MaxBlockSize = 1000 }, nil)
	server.ServeBlocks(chain)
	ctx := context.Background()

	h, err := client.PeerHeight(ctx, server.ID())
	if err != nil || h != 100 {
		t.Fatalf("PeerHeight = %d, %v", h, err)
	}
	blocks, err := client.FetchBlocks(ctx, server.ID(), 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 5 {
		t.Fatalf("got %d blocks, want 5", len(blocks))
	}
	for i, b := range blocks {
		if want := chain.block(uint64(3 + i)); !bytes.Equal(b, want) {
			t.Fatalf("block %d = %.20q, want %.20q", 3+i, b, want)
		}
	}
	// The server's response limit (10 blocks of 1000 bytes) cuts long requests.
	if blocks, err := client.FetchBlocks(ctx, server.ID(), 1, 64); err != nil || len(blocks) != 10 {
		t.Fatalf("long request: %d blocks, %v; want 10", len(blocks), err)
	}
	// Past the tip: fewer, then none.
	if blocks, err := client.FetchBlocks(ctx, server.ID(), 98, 10); err != nil || len(blocks) != 3 {
		t.Fatalf("at the tip: %d blocks, %v; want 3", len(blocks), err)
	}
	if blocks, err := client.FetchBlocks(ctx, server.ID(), 101, 10); err != nil || len(blocks) != 0 {
		t.Fatalf("past the tip: %d blocks, %v; want 0", len(blocks), err)
	}
	if blocks, err := client.FetchBlocks(ctx, server.ID(), ^uint64(0), 10); err != nil || len(blocks) != 0 {
		t.Fatalf("at max uint64: %d blocks, %v; want 0", len(blocks), err)
	}
	for _, n := range []uint64{0, DefaultMaxBlocksPerRequest + 1} {
		if _, err := client.FetchBlocks(ctx, server.ID(), 1, n); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("count %d: %v", n, err)
		}
	}
	// A host that does not serve blocks answers with a protocol error.
	if _, err := server.PeerHeight(ctx, client.ID()); err == nil {
		t.Fatal("PeerHeight against a host without ServeBlocks succeeded")
	}
}

// TestBlockSyncMaliciousServer: garbage, oversized frames, extra frames,
// truncation and stalling all end in a clean error, within the timeout.
func TestBlockSyncMaliciousServer(t *testing.T) {
	const timeout = 300 * time.Millisecond
	short := func(c *Config) { c.RequestTimeout = timeout; c.MaxBlockSize = 1 << 20 }
	server, client := syncPair(t, nil, short)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // runs before the hosts close
	stall := func(s network.Stream) {
		select {
		case <-stop:
		case <-time.After(5 * time.Second):
		}
		_ = s.Reset()
	}
	uv := func(n uint64) []byte { return binary.AppendUvarint(nil, n) }
	frame := func(b string) []byte { return append(uv(uint64(len(b))), b...) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

	blockCases := []struct {
		name  string
		reply []byte // written before closing; nil means stall
		want  error
	}{
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11), ErrBadResponse},
		{"frame too large", uv(1 << 40), ErrBadResponse},
		{"frame over max block size", uv(1<<20 + 1), ErrBadResponse},
		{"empty frame", uv(0), ErrBadResponse},
		{"truncated frame", cat(uv(100), []byte("short")), ErrBadResponse},
		{"truncated varint", []byte{0x80}, ErrBadResponse},
		{"more blocks than asked", cat(frame("a"), frame("b"), frame("c")), ErrBadResponse},
		{"stall", nil, context.DeadlineExceeded},
		{"stall after a block", cat(frame("a")), context.DeadlineExceeded},
	}
	// behaviour is what the malicious handlers do; set per case.
	type behaviour struct {
		reply      []byte
		stallAfter bool
	}
	var cur atomic.Pointer[behaviour]
	server.host.SetStreamHandler(blocksProtocol(testChain), func(s network.Stream) {
		_, _ = io.CopyN(io.Discard, s, 16)
		b := cur.Load()
		if b.reply == nil {
			stall(s)
			return
		}
		_, _ = s.Write(b.reply)
		if b.stallAfter {
			stall(s)
			return
		}
		_ = s.Close()
	})
	for _, tc := range blockCases {
		t.Run("blocks/"+tc.name, func(t *testing.T) {
			cur.Store(&behaviour{reply: tc.reply, stallAfter: tc.name == "stall after a block"})
			start := time.Now()
			blocks, err := client.FetchBlocks(context.Background(), server.ID(), 1, 2)
			if !errors.Is(err, tc.want) {
				t.Fatalf("FetchBlocks = %d blocks, %v; want %v", len(blocks), err, tc.want)
			}
			if d := time.Since(start); d > timeout+2*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}

	statusCases := []struct {
		name  string
		reply []byte
		want  error
	}{
		{"short", []byte{1, 2, 3}, ErrBadResponse},
		{"long", make([]byte, 20), ErrBadResponse},
		{"empty", []byte{}, ErrBadResponse},
		{"stall", nil, context.DeadlineExceeded},
	}
	server.host.SetStreamHandler(statusProtocol(testChain), func(s network.Stream) {
		b := cur.Load()
		if b.reply == nil {
			stall(s)
			return
		}
		_, _ = s.Write(b.reply)
		_ = s.Close()
	})
	for _, tc := range statusCases {
		t.Run("status/"+tc.name, func(t *testing.T) {
			cur.Store(&behaviour{reply: tc.reply})
			if h, err := client.PeerHeight(context.Background(), server.ID()); !errors.Is(err, tc.want) {
				t.Fatalf("PeerHeight = %d, %v; want %v", h, err, tc.want)
			}
		})
	}

	// The caller's own deadline, when earlier, wins.
	cur.Store(&behaviour{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := client.PeerHeight(ctx, server.ID()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PeerHeight with a short ctx: %v", err)
	}
}

// prunedChain has pruned every block below base.
type prunedChain struct {
	fakeChain
	base uint64
}

func (p prunedChain) BlockBytes(h uint64) ([]byte, error) {
	if h < p.base {
		return nil, &PrunedError{Height: h, Base: p.base}
	}
	return p.fakeChain.BlockBytes(h)
}

func TestBlockSyncPrunedBlock(t *testing.T) {
	server, client := syncPair(t, nil, nil)
	server.ServeBlocks(prunedChain{fakeChain{height: 50, size: 10}, 40})
	_, err := client.FetchBlocks(context.Background(), server.ID(), 10, 5)
	var pe *PrunedError
	if !errors.As(err, &pe) || pe.Base != 40 || pe.Height != 10 || pe.Peer != server.ID() {
		t.Fatalf("fetch of a pruned block: %v, want a PrunedError naming base 40", err)
	}
	t.Log(err)
	got, err := client.FetchBlocks(context.Background(), server.ID(), 40, 5)
	if err != nil || len(got) != 5 {
		t.Fatalf("fetch above the base: %d blocks, %v", len(got), err)
	}
}
