package content

import (
	"context"
	"crypto/sha256"
	"math/rand"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The add benchmarks measure a file of INFERD_BENCH_MIB MiB (default 1024)
// of math/rand bytes (seed 42), written to a temporary file first:
//
//	go test ./content -run '^$' -bench . -benchtime 1x
//
// BenchmarkSHA256 is the single-core sha256 throughput over the same
// number of bytes, the limit for any verified transfer.
func benchSize(b *testing.B) int64 {
	mib := int64(1024)
	if v := os.Getenv("INFERD_BENCH_MIB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		mib = n
	}
	return mib << 20
}

func benchFile(b *testing.B, size int64) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewSource(42))
	buf := make([]byte, 1<<20)
	for n := int64(0); n < size; n += int64(len(buf)) {
		rng.Read(buf)
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

func BenchmarkAdd(b *testing.B) { benchAdd(b) }

// BenchmarkAddBadgerOnly is BenchmarkAdd with every block in Badger's
// value log (the store before block files), for comparison.
func BenchmarkAddBadgerOnly(b *testing.B) {
	defer func(t int) { fileThreshold = t }(fileThreshold)
	fileThreshold = 1 << 62
	benchAdd(b)
}

func benchAdd(b *testing.B) {
	size := benchSize(b)
	path := benchFile(b, size)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), "content"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.Add(context.Background(), path, AddOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddOnlyHash(b *testing.B) {
	size := benchSize(b)
	path := benchFile(b, size)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		if _, err := Hash(context.Background(), path, AddOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSHA256(b *testing.B) {
	size := benchSize(b)
	buf := make([]byte, 256<<10)
	rand.New(rand.NewSource(42)).Read(buf)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		h := sha256.New()
		for n := int64(0); n < size; n += int64(len(buf)) {
			h.Write(buf)
		}
		h.Sum(nil)
	}
}

// BenchmarkFetch fetches a file of INFERD_BENCH_MIB MiB between two hosts
// in this process (both stores on disk), over loopback TCP, by the DAG
// stream: the in-process view of e2e's TestContentFetchBench, for
// profiling. It reports the process's CPU seconds per GiB fetched (both
// sides together; cpu-s/GiB). In a -cpuprofile, the setup (writing the
// file, adding it) is labelled phase=setup, the serving side's stream
// handler side=server and the fetch side=fetcher; the transport's
// goroutines (yamux, TLS) carry no label:
//
//	go tool pprof -tagignore phase=setup -tagfocus side=server -top ...
func BenchmarkFetch(b *testing.B) { benchFetch(b, false) }

// BenchmarkFetchBitswap is BenchmarkFetch by bitswap alone.
func BenchmarkFetchBitswap(b *testing.B) { benchFetch(b, true) }

func benchFetch(b *testing.B, bitswapOnly bool) {
	ctx := context.Background()
	size := benchSize(b)
	a := benchNode(b)
	var c cid.Cid
	pprof.Do(ctx, pprof.Labels("phase", "setup"), func(ctx context.Context) {
		var err error
		if c, err = a.s.Add(ctx, benchFile(b, size), AddOptions{}); err != nil {
			b.Fatal(err)
		}
	})
	a.h.SetStreamHandler(streamProtocol, func(s network.Stream) {
		pprof.Do(ctx, pprof.Labels("side", "server"), func(context.Context) { a.ex.serveStream(s) })
	})
	b.SetBytes(size)
	b.ResetTimer()
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		n := benchNode(b)
		if err := n.h.Connect(ctx, peer.AddrInfo{ID: a.h.ID(), Addrs: a.h.Addrs()}); err != nil {
			b.Fatal(err)
		}
		cpu0 := processCPU()
		b.StartTimer()
		pprof.Do(ctx, pprof.Labels("side", "fetcher"), func(ctx context.Context) {
			if err := n.ex.Fetch(ctx, c, "", FetchOptions{BitswapOnly: bitswapOnly}); err != nil {
				b.Fatal(err)
			}
		})
		b.StopTimer()
		cpu += processCPU() - cpu0
		b.StartTimer()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N)/(float64(size)/(1<<30)), "cpu-s/GiB")
}

func benchNode(b *testing.B) *node {
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(filepath.Join(b.TempDir(), "content"))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{h: h, s: s, ex: NewExchange(ctx, h, s, ExchangeOptions{})}
	b.Cleanup(func() { n.ex.Close(); cancel(); h.Close(); s.Close() })
	return n
}
