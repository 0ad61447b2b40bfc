package content

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestStreamFetch(t *testing.T) {
	ctx := context.Background()
	a, b := newNode(t, ExchangeOptions{}), newNode(t, ExchangeOptions{})
	data := seededBytes(32 << 20)
	c, err := a.s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all := dagCIDs(t, a.s, c)
	connect(t, b.h, a.h)
	out := filepath.Join(t.TempDir(), "model.bin")
	var last int64
	res, err := b.ex.Get(ctx, c, out, FetchOptions{Timeout: 30 * time.Second, Progress: func(done, total int64) {
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last = done
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("output differs from the added file")
	}
	if res.Received != len(all) || res.Held != 0 || res.Blocks != len(all) || res.Size != int64(len(data)) {
		t.Errorf("result %+v, want %d blocks all received", res, len(all))
	}
	if last != int64(len(data)) {
		t.Errorf("progress ended at %d, want %d", last, len(data))
	}
	if got, _, _ := b.ex.Stats(); got != 0 {
		t.Errorf("bitswap received %d blocks; the DAG stream should have moved them all", got)
	}
	if ok, _ := b.s.IsPinned(ctx, c); !ok {
		t.Error("fetched root not pinned")
	}
}

// Two peers hold the file: both stream a share of its subtrees.
func TestStreamFetchSplitsAcrossPeers(t *testing.T) {
	ctx := context.Background()
	// 64 MiB: 256 leaves under two internal nodes, so there are two
	// subtrees to share out.
	data := seededBytes(64 << 20)
	var servers []*node
	for range 2 {
		n := newNode(t, ExchangeOptions{})
		if _, err := n.s.AddReader(ctx, bytes.NewReader(data), AddOptions{}); err != nil {
			t.Fatal(err)
		}
		servers = append(servers, n)
	}
	c, _ := servers[0].s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	b := newNode(t, ExchangeOptions{})
	for _, s := range servers {
		connect(t, b.h, s.h)
	}
	res, err := b.ex.Get(ctx, c, "", FetchOptions{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != res.Blocks {
		t.Errorf("received %d of %d blocks", res.Received, res.Blocks)
	}
	for i, s := range servers {
		if n := s.ex.streamed.Load(); n < 10 {
			t.Errorf("server %d streamed %d blocks; want a share of the %d", i, n, res.Blocks)
		}
	}
	if r, err := b.s.Cat(ctx, c); err != nil {
		t.Fatal(err)
	} else {
		r.Close()
	}
}

// action is what a hostile server does with frame i.
type action int

const (
	send action = iota
	stop        // close the stream after what was written
)

// hostileServer serves the DAG stream protocol from s, letting mutate
// change or replace each frame before it is written.
func hostileServer(t *testing.T, s *Store, mutate func(i int, b *served, w *bufio.Writer) action) host.Host {
	h := newHost(t)
	e := &Exchange{store: s, ctx: context.Background()}
	h.SetStreamHandler(streamProtocol, func(st network.Stream) {
		defer st.Close()
		req, err := readRequest(bufio.NewReader(st))
		if err != nil {
			return
		}
		ch := make(chan served, 4)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go e.readAhead(ctx, req, ch)
		w := bufio.NewWriter(st)
		i := 0
		for b := range ch {
			if mutate(i, &b, w) == stop {
				w.Flush()
				return
			}
			if b.data == nil {
				writeMissingFrame(w, b.c)
			} else {
				writeBlockFrame(w, b.c, b.data)
			}
			i++
		}
		w.WriteByte(frameEnd)
		w.Flush()
	})
	return h
}

func TestStreamBadPeers(t *testing.T) {
	ctx := context.Background()
	data := seededBytes(8 << 20)
	src := openMem(t)
	c, err := src.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rootBlock, _ := src.bs.Get(ctx, c)
	cases := []struct {
		name   string
		want   string // in the reason the peer is reported with
		mutate func(i int, b *served, w *bufio.Writer) action
	}{
		{"truncated", "truncated", func(i int, b *served, w *bufio.Writer) action {
			if i == 3 && !b.c.Equals(c) {
				return stop
			}
			return send
		}},
		{"corrupt block", "does not match its CID", func(i int, b *served, w *bufio.Writer) action {
			if i == 3 && !b.c.Equals(c) {
				b.data = bytes.Clone(b.data)
				b.data[0] ^= 1
			}
			return send
		}},
		{"corrupt root", "does not match its CID", func(i int, b *served, w *bufio.Writer) action {
			if b.c.Equals(c) { // a dag-pb node, checked as it is read
				b.data = bytes.Clone(b.data)
				b.data[len(b.data)-1] ^= 1
			}
			return send
		}},
		{"unexpected block", "unexpected block", func(i int, b *served, w *bufio.Writer) action {
			if i == 3 && !b.c.Equals(c) {
				*b = served{c: c, data: rootBlock.RawData()} // valid, but not the one asked for
			}
			return send
		}},
		{"oversized frame", "over the limit", func(i int, b *served, w *bufio.Writer) action {
			if i == 3 && !b.c.Equals(c) {
				w.WriteByte(frameBlock)
				writeBytes(w, b.c.Bytes())
				writeUvarint(w, MaxBlockSize+1)
				w.Flush()
				time.Sleep(time.Second)
				return stop
			}
			return send
		}},
		{"stall", "stalled", func(i int, b *served, w *bufio.Writer) action {
			if i == 3 && !b.c.Equals(c) {
				w.Flush()
				time.Sleep(2 * time.Second)
				return stop
			}
			return send
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := hostileServer(t, src, tc.mutate)
			var mu sync.Mutex
			var reasons []string
			b := newNode(t, ExchangeOptions{StreamIdleTimeout: 500 * time.Millisecond, OnBadPeer: func(p peer.ID, reason string) {
				mu.Lock()
				defer mu.Unlock()
				if p != bad.ID() {
					t.Errorf("reported %s, not the bad peer", p)
				}
				reasons = append(reasons, reason)
			}})
			dropped := watchDrops(b.h, bad.ID())
			connect(t, b.h, bad)
			outDir := t.TempDir()
			_, err := b.ex.Get(ctx, c, filepath.Join(outDir, "f"), FetchOptions{Timeout: 1500 * time.Millisecond})
			if err == nil {
				t.Fatal("fetch from a bad peer succeeded")
			}
			mu.Lock()
			if len(reasons) != 1 || !strings.Contains(reasons[0], tc.want) {
				t.Errorf("reported %q, want one reason containing %q", reasons, tc.want)
			}
			mu.Unlock()
			noFiles(t, outDir)
			if ok, _ := b.s.IsPinned(ctx, c); ok {
				t.Error("root pinned after a bad stream")
			}
			if _, err := b.s.Stat(ctx, c); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat of the partial DAG: %v, want ErrNotFound", err)
			}
			checkStoredBlocks(t, b.s)
			waitDropped(t, dropped, "bad peer")
			// The partial DAG resumes from an honest peer.
			honest := newNode(t, ExchangeOptions{})
			honest.s.AddReader(ctx, bytes.NewReader(data), AddOptions{})
			connect(t, b.h, honest.h)
			res, err := b.ex.Get(ctx, c, "", FetchOptions{Timeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if tc.name != "unexpected block" && tc.name != "corrupt root" && (res.Held < 2 || res.Held >= res.Blocks) {
				// The root and the blocks before the bad one were kept.
				t.Errorf("resumed with %d of %d blocks held", res.Held, res.Blocks)
			}
		})
	}
}

// checkStoredBlocks fails if s holds a block whose bytes do not match its
// CID.
func checkStoredBlocks(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	keys, err := s.bs.AllKeysChan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		b, err := s.bs.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := cid.NewPrefixV1(cid.Raw, k.Prefix().MhType).Sum(b.RawData())
		if !bytes.Equal(sum.Hash(), k.Hash()) {
			t.Errorf("stored block %s does not match its CID", k)
		}
	}
}

// A server answers a malformed request with an error frame.
func TestStreamServerRefusesBadRequest(t *testing.T) {
	a, b := newNode(t, ExchangeOptions{}), newNode(t, ExchangeOptions{})
	connect(t, b.h, a.h)
	for name, req := range map[string][]byte{
		"no CIDs":        {0, 0},
		"too many CIDs":  {0, 0xff, 0xff, 0xff, 0x7f},
		"CID too long":   {0, 1, 0xff, 0x01},
		"CID not parsed": {0, 1, 3, 1, 2, 3},
	} {
		st, err := b.h.NewStream(context.Background(), a.h.ID(), streamProtocol)
		if err != nil {
			t.Fatal(err)
		}
		st.Write(req)
		st.CloseWrite()
		st.SetReadDeadline(time.Now().Add(5 * time.Second))
		f, err := readFrame(bufio.NewReader(st))
		if err != nil || f.kind != frameError || !strings.Contains(f.msg, "bad request") {
			t.Errorf("%s: frame %+v, %v; want a bad request error frame", name, f, err)
		}
		st.Close()
	}
}

// FuzzStreamDecode: requests and frames from the network never panic,
// and what decodes is within the limits.
func FuzzStreamDecode(f *testing.F) {
	c := mustRawCID(f, []byte("x"))
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	streamRequest{cids: []cid.Cid{c}}.write(w)
	writeBlockFrame(w, c, []byte("x"))
	writeMissingFrame(w, c)
	writeErrorFrame(w, "busy")
	w.WriteByte(frameEnd)
	w.Flush()
	f.Add(buf.Bytes())
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		if req, err := readRequest(r); err == nil && (len(req.cids) == 0 || len(req.cids) > maxStreamCIDs) {
			t.Fatalf("request of %d CIDs accepted", len(req.cids))
		}
		for range 64 {
			fr, err := readFrame(r)
			if err != nil {
				return
			}
			if len(fr.data) > MaxBlockSize || len(fr.msg) > maxErrorBytes {
				t.Fatalf("frame over the limits: %d bytes, %d of message", len(fr.data), len(fr.msg))
			}
		}
	})
}
