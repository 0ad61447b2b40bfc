package badgerstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/inferd/inferd/ledger/store"
)

// diskUsage is the space the files under dir occupy (allocated blocks, so a
// sparse, preallocated file counts for what it really holds).
func diskUsage(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		} else {
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const (
	pruneKeys      = 200 // distinct keys
	pruneChanges   = 20  // writes per height
	pruneValueSize = 1024
	pruneKeep      = 100
	pruneInterval  = 10
)

// pruneHeights is 2,000, or $INFERD_PRUNE_HEIGHTS for the long run of
// docs/benchmarks.md.
var pruneHeights = func() uint64 {
	if v, err := strconv.ParseUint(os.Getenv("INFERD_PRUNE_HEIGHTS"), 10, 64); err == nil && v > pruneKeep {
		return v
	}
	return 2000
}()

// writeHeights commits heights 0..pruneHeights-1: each rewrites
// pruneChanges keys and deletes one; with keep > 0 it prunes to the last
// keep heights every pruneInterval heights. It returns the state at the
// oldest kept height and at the latest.
func writeHeights(t *testing.T, s *Store, keep uint64) (atOldest, latest map[string]string) {
	return writeHeightsIn(t, s, keep, "")
}

// writeHeightsIn is writeHeights, logging the disk use of dir (when set)
// at each fifth of the run.
func writeHeightsIn(t *testing.T, s *Store, keep uint64, dir string) (atOldest, latest map[string]string) {
	t.Helper()
	state := map[string]string{}
	val := make([]byte, pruneValueSize)
	for h := uint64(0); h < pruneHeights; h++ {
		var cs []store.Change
		for i := 0; i < pruneChanges; i++ {
			k := fmt.Sprintf("k/%03d", (int(h)*7+i*13)%pruneKeys)
			for j := range val {
				val[j] = byte(int(h) + i + j)
			}
			cs = append(cs, store.Change{Key: []byte(k), Value: append([]byte(nil), val...)})
			state[k] = string(val)
		}
		del := fmt.Sprintf("k/%03d", (int(h)*11+5)%pruneKeys)
		if _, ok := state[del]; ok && (int(h)*11+5)%pruneKeys != (int(h)*7)%pruneKeys {
			cs = append(cs, store.Change{Key: []byte(del), Delete: true})
			delete(state, del)
		}
		if err := s.Commit(h, cs); err != nil {
			t.Fatal(err)
		}
		if keep > 0 && h >= keep && h%pruneInterval == 0 {
			if err := s.Prune(h - keep + 1); err != nil {
				t.Fatal(err)
			}
		}
		if dir != "" && h > 0 && h%(pruneHeights/5) == 0 {
			t.Logf("disk at height %d: %d KiB", h, diskUsage(t, dir)>>10)
		}
		if keep > 0 && h == pruneHeights-keep {
			atOldest = clone(state)
		}
	}
	if keep > 0 {
		// The last interval: bring the window to exactly keep heights.
		if err := s.Prune(pruneHeights - keep); err != nil {
			t.Fatal(err)
		}
	}
	return atOldest, state
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func readAll(t *testing.T, s *Store, h uint64) map[string]string {
	t.Helper()
	r, err := s.At(h)
	if err != nil {
		t.Fatalf("At(%d): %v", h, err)
	}
	out := map[string]string{}
	if err := r.Iterate([]byte("k/"), func(k, v []byte) bool { out[string(k)] = string(v); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

func sameState(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d keys, want %d", what, len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: key %s differs", what, k)
		}
	}
}

// TestPruneBoundsVersionsAndDisk drives the store directly through 2,000
// heights with keep_recent 100 and checks, after a restart: no version older
// than the window is left in Badger (counted), the disk use is bounded (and
// far below an unpruned twin's), old heights give ErrPruned naming the
// oldest kept height, and the kept heights read back exactly.
func TestPruneBoundsVersionsAndDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2,000 heights twice")
	}
	dir := t.TempDir()
	s, err := Open(dir, Options{SmallMemory: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	atOldest, latest := writeHeightsIn(t, s, pruneKeep, dir)
	t.Logf("disk while running (Badger's own compactions only): %d KiB after %d heights", diskUsage(t, dir)>>10, pruneHeights)
	if err := s.Close(); err != nil { // compacts level 0 on close
		t.Fatal(err)
	}
	s, err = Open(dir, Options{SmallMemory: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	oldest := uint64(pruneHeights - pruneKeep)
	if h, ok := s.Latest(); !ok || h != pruneHeights-1 {
		t.Fatalf("latest after restart = %d %v", h, ok)
	}
	if o, ok := s.Oldest(); !ok || o != oldest {
		t.Fatalf("oldest after restart = %d %v, want %d", o, ok, oldest)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	versions, keys, err := s.Versions()
	if err != nil {
		t.Fatal(err)
	}
	// Every key keeps at most its version at the oldest height plus one per
	// write inside the window (pruneKeep-1 heights after the oldest).
	maxVersions := pruneKeys + (pruneKeep-1)*(pruneChanges+1)
	t.Logf("after pruning: %d versions of %d keys (bound %d; unpruned %d writes)", versions, keys, maxVersions, pruneHeights*(pruneChanges+1))
	if versions > maxVersions {
		t.Errorf("%d versions stored, more than the %d the window can hold: old versions survived pruning", versions, maxVersions)
	}
	_, err = s.At(oldest - 1)
	var pe *store.PrunedError
	if !errors.As(err, &pe) || !errors.Is(err, store.ErrPruned) || pe.Oldest != oldest {
		t.Fatalf("At(%d) = %v, want a PrunedError naming %d", oldest-1, err, oldest)
	}
	if _, err := s.At(0); !errors.Is(err, store.ErrPruned) {
		t.Fatalf("At(0) = %v", err)
	}
	sameState(t, "oldest kept height", readAll(t, s, oldest), atOldest)
	sameState(t, "latest height", readAll(t, s, pruneHeights-1), latest)
	if err := s.Prune(pruneHeights); err == nil {
		t.Fatal("pruning the latest height away was accepted")
	}
	// The store keeps committing after the restart.
	if err := s.Commit(pruneHeights, []store.Change{{Key: []byte("k/new"), Value: []byte("v")}}); err != nil {
		t.Fatal(err)
	}
	pruned := diskUsage(t, dir)

	// The same heights without pruning, for scale.
	dir2 := t.TempDir()
	s2, err := Open(dir2, Options{SmallMemory: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	writeHeights(t, s2, 0)
	s2.Close()
	s2, err = Open(dir2, Options{SmallMemory: true, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Compact(); err != nil {
		t.Fatal(err)
	}
	v2, _, _ := s2.Versions()
	full := diskUsage(t, dir2)
	t.Logf("disk: pruned %d KiB (%d versions), unpruned %d KiB (%d versions)", pruned>>10, versions, full>>10, v2)
	const bound = 8 << 20
	if pruned > bound || pruned*3 > full {
		t.Errorf("pruned store uses %d KiB, want under %d KiB and under a third of the unpruned %d KiB", pruned>>10, bound>>10, full>>10)
	}
}
