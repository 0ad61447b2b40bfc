package wal

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
)

// walSeeds are log files built with the package's own framing: good logs,
// a torn tail, a damaged last record, middle corruption, a huge length.
func walSeeds(t testing.TB) [][]byte {
	t.Helper()
	a, b := encodeFrame(&record{State: st(5, 0)}), encodeFrame(&record{State: st(5, 1)})
	vote := &consensus.Vote{Type: consensus.Prevote, Height: 5, Round: 1, BlockID: consensus.BlockID{1}, Signature: make([]byte, 64)}
	c := encodeFrame(&record{State: st(5, 1), Msg: consensus.EncodeMessage(vote)})
	two := append(append([]byte{}, a...), b...)
	damagedLast := append(append([]byte{}, a...), b...)
	damagedLast[len(damagedLast)-1] ^= 0xff
	middle := append(append([]byte{}, a...), b...)
	middle[headerLen+2] ^= 1
	huge := append([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, a...)
	return [][]byte{nil, a, two, c, append(append([]byte{}, two...), c[:len(c)/2]...), damagedLast, middle, huge, a[:5]}
}

// FuzzOpen: a log file may be anything after a crash or a disk fault.
// Open must not panic; it either fails (and a log it refused is not
// changed) or yields a usable log: its state is what the last good record
// says, it re-encodes to the bytes it kept, and appending and reopening
// work.
func FuzzOpen(f *testing.F) {
	for _, s := range walSeeds(f) {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "wal")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := Open(path)
		if err != nil {
			if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
				t.Fatalf("Open failed (%v) and changed the file", err)
			}
			return
		}
		kept, _ := os.ReadFile(path)
		if !bytes.HasPrefix(data, kept) || int64(len(kept)) != w.size {
			w.Close()
			t.Fatalf("kept %d bytes of %d, size %d: not a prefix", len(kept), len(data), w.size)
		}
		s, ok := w.State()
		if ok != (w.last != nil) || (ok && !bytes.Equal(codec.MustMarshal(w.last), lastBody(kept))) {
			w.Close()
			t.Fatalf("state does not match the last record kept")
		}
		_ = w.LastSigned()
		next := st(s.Height+1, 0)
		if err := w.Persist(next, nil); err != nil {
			w.Close()
			t.Fatalf("persist after open: %v", err)
		}
		w.Close()
		w, err = Open(path)
		if err != nil {
			t.Fatalf("reopen after persist: %v", err)
		}
		defer w.Close()
		if got, _ := w.State(); got.Height != next.Height {
			t.Fatalf("reopened at height %d, want %d", got.Height, next.Height)
		}
	})
}

// lastBody is the body of the last record of a well-formed log.
func lastBody(log []byte) []byte {
	var body []byte
	for off := 0; off+headerLen <= len(log); {
		n := int(uint32(log[off])<<24 | uint32(log[off+1])<<16 | uint32(log[off+2])<<8 | uint32(log[off+3]))
		body = log[off+headerLen : off+headerLen+n]
		off += headerLen + n
	}
	return body
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// TestOpenCorruptKeepsNoFDs opens 3,000 corrupted or random logs, closing
// those that open: the number of open descriptors must not grow (a
// fuzzing run once hit "too many open files" after ~20,000 inputs).
func TestOpenCorruptKeepsNoFDs(t *testing.T) {
	seeds := walSeeds(t)
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	runtime.GC() // no descriptor waits for a finalizer
	before := openFDs(t)
	var opened, refused int
	for i := 0; i < 3000; i++ {
		data := append([]byte(nil), seeds[i%len(seeds)]...)
		switch i % 3 {
		case 0: // flip a byte
			if len(data) > 0 {
				data[r.IntN(len(data))] ^= byte(1 + r.IntN(255))
			}
		case 1: // random bytes
			data = make([]byte, r.IntN(64))
			for j := range data {
				data[j] = byte(r.Uint32())
			}
		}
		path := filepath.Join(dir, "wal")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := Open(path)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("input %d: %v, want ErrCorrupt", i, err)
			}
			refused++
			continue
		}
		opened++
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if opened == 0 || refused == 0 {
		t.Fatalf("opened %d, refused %d: want both paths exercised", opened, refused)
	}
	if after := openFDs(t); after > before {
		t.Fatalf("%d descriptors open after %d opens and %d refusals, %d before", after, opened, refused, before)
	}
}

// TestOpenFDCheckCatchesALeak: the descriptor count the test above relies
// on sees a leak (files opened and never closed).
func TestOpenFDCheckCatchesALeak(t *testing.T) {
	before := openFDs(t)
	var leaked []*os.File
	for range 10 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		leaked = append(leaked, f)
	}
	if after := openFDs(t); after < before+10 {
		t.Fatalf("10 open files: %d descriptors, %d before", after, before)
	}
	for _, f := range leaked {
		f.Close()
	}
}

// TestOpenRefusesAnImpossibleState: a record whose checksum holds but
// whose State no Machine could have persisted (here a negative round,
// which made Machine.Start index out of range) is corruption, not a state
// to resume from.
func TestOpenRefusesAnImpossibleState(t *testing.T) {
	bad := st(5, 0)
	bad.Round = -17
	path := filepath.Join(t.TempDir(), "wal")
	if err := os.WriteFile(path, encodeFrame(&record{State: bad}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open = %v, want ErrCorrupt", err)
	}
}
