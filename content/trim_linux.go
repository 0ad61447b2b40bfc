package content

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// madvPageout is MADV_PAGEOUT (Linux 5.4): reclaim these pages now. It
// never changes what the memory holds: file pages are written back if
// dirty and dropped, to be read again on the next access.
const madvPageout = 21

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writing the dirty
// pages back, do not wait.
const syncFileRangeWrite = 2

// pageOutValueLog asks the kernel to reclaim the pages of Badger's value
// log files under dir that this process maps. Badger writes and reads its
// value log through mmap, so every block written stays resident and
// counted in the process's RSS until the kernel needs the memory back: a
// 1 GiB fetch would show more than 1 GiB of RSS although the heap stays
// under 100 MiB. Only clean pages can be reclaimed, so each call first
// reclaims what is clean, then starts the write-back of the rest (without
// waiting for it) for the next call. Best effort: errors (an old kernel, a
// file Badger just remapped) are ignored.
func pageOutValueLog(dir string) {
	if dir == "" {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	prefix := dir + string(os.PathSeparator)
	files := map[string]bool{}
	defer func() {
		for path := range files {
			if f, err := os.Open(path); err == nil {
				syscall.SyncFileRange(int(f.Fd()), 0, 0, syncFileRangeWrite)
				f.Close()
			}
		}
	}()
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// start-end perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) < 6 {
			continue
		}
		path := strings.Join(f[5:], " ")
		if !strings.HasPrefix(path, prefix) || !strings.HasSuffix(path, ".vlog") {
			continue
		}
		files[path] = true
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		// MADV_PAGEOUT is only a hint: even if the range was remapped to
		// something else meanwhile, its contents stay as they are.
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(start), uintptr(end-start), madvPageout)
	}
}

// syncDir flushes the file system that holds dir (syncfs): one call for
// all the block files written since the last, instead of one per file.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}

// dropBehind is called as a pack's appends cross each dropWindow: it
// starts the write-back of the window just filled and drops the clean
// pages of the one before from the page cache. Bulk writes then cycle
// through a few MiB of page cache instead of growing it by the size of
// the model: cheaper where a VM backs each newly used page lazily (the
// 2-core test VM pays 2.5 s per GiB of never-used memory, measured in
// docs/benchmarks.md) and kinder to the node's other work everywhere.
// Hints only: pages still dirty stay, and fsync at Sync is what makes the
// bytes durable.
func dropBehind(f *os.File, end int64) {
	fd := int(f.Fd())
	_ = unix.SyncFileRange(fd, end-dropWindow, dropWindow, syncFileRangeWrite)
	if end >= 2*dropWindow {
		_ = unix.Fadvise(fd, end-2*dropWindow, dropWindow, unix.FADV_DONTNEED)
	}
}
