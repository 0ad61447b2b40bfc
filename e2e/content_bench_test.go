package e2e

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestContentFetchBench measures a fetch between two inferd processes on
// loopback: node A (`inferd run`) holds a file of INFERD_BENCH_FETCH MiB,
// `inferd fetch --peer A` fetches it into its own store. In the same run:
// single-core sha256 over the same bytes and a raw TCP copy of them over
// loopback. Not part of `make test`:
//
//	INFERD_BENCH_FETCH=1024 go test ./e2e -count=1 -run TestContentFetchBench -v -timeout 30m
//	make bench-content
func TestContentFetchBench(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("INFERD_BENCH_FETCH"))
	if mib <= 0 {
		t.Skip("set INFERD_BENCH_FETCH=MiB (e.g. 1024) to run the fetch benchmark")
	}
	size := int64(mib) << 20
	dir := t.TempDir()
	file := filepath.Join(dir, "bench.bin")
	writeRandomFile(t, file, size)
	mbs := func(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

	// Single-core sha256 of the file's bytes (read from the page cache).
	f, _ := os.Open(file)
	start := time.Now()
	h := sha256.New()
	buf := make([]byte, 256<<10)
	io.CopyBuffer(h, f, buf)
	f.Close()
	shaD := time.Since(start)
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		t.Logf("load average at the start: %s", strings.TrimSpace(string(la)))
	}
	t.Logf("sha256 (one core): %.0f MB/s", mbs(size, shaD))

	// Raw TCP copy of the same bytes over loopback.
	tcpD := tcpCopy(t, file, size)
	t.Logf("raw TCP copy over loopback: %.0f MB/s", mbs(size, tcpD))

	// Node A adds the file and serves it.
	tn := newNet(t, 1, time.Second)
	nd := tn.info.Nodes[0]
	start = time.Now()
	out, err := exec.Command(inferdBin, "add", file, "--home", nd.Home).Output()
	if err != nil {
		t.Fatalf("inferd add: %v", err)
	}
	addD := time.Since(start)
	cid := strings.TrimSpace(string(out))
	t.Logf("inferd add (process, into Badger): %.0f MB/s", mbs(size, addD))
	tn.startAll()
	waitHeight(t, nd.API, 1, 60*time.Second)

	// The DAG stream (the default between inferd peers), the same with
	// -o, and bitswap alone (the IPFS-compatible path).
	for _, run := range []struct {
		withOut, bitswap bool
	}{{false, false}, {true, false}, {false, true}} {
		withOut := run.withOut
		home := t.TempDir()
		args := []string{"fetch", cid, "--peer", nd.P2P, "--home", home, "--timeout", "20m"}
		label := "stream into the store"
		dst := filepath.Join(t.TempDir(), "out.bin")
		if withOut {
			args = append(args, "-o", dst)
			label = "stream into the store, then -o FILE"
		}
		if run.bitswap {
			args = append(args, "--bitswap-only")
			label = "bitswap only into the store"
		}
		cmd := exec.Command(inferdBin, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		peak := sampleRSS(cmd.Process.Pid)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("inferd fetch: %v\n%s", err, stderr.String())
		}
		wall := time.Since(start)
		anon, fileRSS := peak()
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
		rep := regexp.MustCompile(`MiB in (\S+) \(.*first byte after (\S+)`).FindStringSubmatch(stderr.String())
		if rep == nil {
			t.Fatalf("no report in:\n%s", stderr.String())
		}
		if m := regexp.MustCompile(`(\d+) received by DAG stream`).FindStringSubmatch(stderr.String()); m == nil || (m[1] == "0") != run.bitswap {
			t.Fatalf("%s: the report says %v blocks came by DAG stream:\n%s", label, m, stderr.String())
		}
		fetchD, _ := time.ParseDuration(rep[1])
		ttfb, _ := time.ParseDuration(rep[2])
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		t.Logf("inferd fetch %s: %.0f MB/s (fetch %v, process wall %v, process CPU %v), first byte after %v, peak RSS %d MiB (sampled: anonymous %d MiB, file-backed %d MiB)",
			label, mbs(size, fetchD), fetchD.Round(time.Millisecond), wall.Round(time.Millisecond), cpu.Round(time.Millisecond), ttfb, rss>>20, anon>>20, fileRSS>>20)
		fmt.Fprintf(os.Stderr, "RESULT fetch %s MBps=%.0f ttfb=%v rss_mib=%d sha256_MBps=%.0f tcp_MBps=%.0f add_MBps=%.0f\n",
			strings.ReplaceAll(label, " ", "_"), mbs(size, fetchD), ttfb, rss>>20, mbs(size, shaD), mbs(size, tcpD), mbs(size, addD))
		if withOut {
			if fi, err := os.Stat(dst); err != nil || fi.Size() != size {
				t.Fatalf("output: %v", err)
			}
		}
	}
}

// sampleRSS polls /proc/pid/status every 20 ms; the returned func stops
// and gives the peaks of RssAnon and RssFile, in bytes.
func sampleRSS(pid int) func() (anon, file int64) {
	stop := make(chan struct{})
	done := make(chan struct{})
	var maxAnon, maxFile int64
	go func() {
		defer close(done)
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			if b, err := os.ReadFile(path); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					f := strings.Fields(line)
					if len(f) < 2 {
						continue
					}
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					switch f[0] {
					case "RssAnon:":
						maxAnon = max(maxAnon, kb<<10)
					case "RssFile:", "RssShmem:":
						maxFile = max(maxFile, kb<<10)
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() (int64, int64) {
		close(stop)
		<-done
		return maxAnon, maxFile
	}
}

func writeRandomFile(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(42))
	buf := make([]byte, 1<<20)
	for n := int64(0); n < size; n += int64(len(buf)) {
		rng.Read(buf)
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// tcpCopy sends the file over a loopback TCP connection and times it to
// the last byte read.
func tcpCopy(t *testing.T, path string, size int64) time.Duration {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		io.Copy(c, f)
	}()
	start := time.Now()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, err := io.CopyBuffer(io.Discard, c, make([]byte, 256<<10))
	if err != nil || n != size {
		t.Fatalf("tcp copy: %d of %d bytes: %v", n, size, err)
	}
	return time.Since(start)
}
