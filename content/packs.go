package content

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	ds "github.com/ipfs/go-datastore"
)

// packs holds large blocks appended to a few big files (<dir>/packs/
// NNNNNNNN.pack) instead of one file each: creating, naming and later
// unlinking a file per 256 KiB leaf was most of the kernel time of an add
// or a fetch (docs/content.md, "Pack files beside Badger"). Badger keeps
// the index: a block's key maps to a pack marker (pack, offset, size,
// CRC-32C).
//
// Writers reserve their range under the lock and write it outside, so
// concurrent puts overlap; the index entry is written only after the
// bytes. Fsync: Sync fdatasyncs the packs written since the last Sync
// (and the directory, when it gained a pack), before Badger's own sync,
// then records how far the packs are synced (packs/synced). Badger may
// keep an index entry whose bytes a crash lost (it syncs on its own
// schedule), so an Open after a crash (no packs/clean, which Close
// writes and Open removes) checks the CRC of every entry past that mark
// (recoverPacks) and drops those that fail: the block is then missing,
// and a fetch gets it again. Bytes no entry names are dead space,
// reclaimed by compaction (compactPacks, run by GC).
type packs struct {
	dir string

	// writing is held (shared) by each append from its reservation to the
	// end of its write, so sync's mark covers only finished writes.
	writing sync.RWMutex
	// syncing makes syncs one at a time: a second waits for the first's
	// fsyncs instead of returning before they are done.
	syncing sync.Mutex

	mu       sync.Mutex
	curID    uint64      // the pack being appended to
	cur      *packHandle // open for writing, or nil until the first put
	size     int64       // bytes reserved in cur
	open     map[uint64]*packHandle
	dirty    map[uint64]*packHandle // written since the last sync
	newFiles bool                   // a pack was created since the last sync

	// check is set at open after a crash: recoverPacks checks the entries
	// past mark.
	check bool
	mark  syncMark
}

// packHandle is an open pack with the count of reads, writes and syncs
// using it: it is closed only when unused, after it is evicted or its
// pack removed (an unlinked pack's space is freed at that close).
type packHandle struct {
	f    *os.File
	refs int
	gone bool // evicted or removed: close at the last release
}

func openPacks(dir string) (*packs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("content store: %w", err)
	}
	ids, err := listPacks(dir)
	if err != nil {
		return nil, err
	}
	p := &packs{dir: dir, curID: 1, open: map[uint64]*packHandle{}, dirty: map[uint64]*packHandle{}}
	p.mark = p.readMark()
	_, cerr := os.Stat(p.cleanPath())
	clean := cerr == nil
	if clean {
		// From here until Close the store is not clean: the flag's removal
		// is made durable before any write can depend on it.
		if err := os.Remove(p.cleanPath()); err != nil {
			return nil, fmt.Errorf("content store: %w", err)
		}
		if err := syncPath(dir); err != nil {
			return nil, fmt.Errorf("content store: %w", err)
		}
	}
	if len(ids) > 0 {
		last := ids[len(ids)-1]
		p.curID = last + 1
		st, err := os.Stat(p.path(last))
		if err != nil {
			return nil, fmt.Errorf("content store: %w", err)
		}
		// Go on appending to the newest pack while it has room, unless a
		// crash may have cut it (then its end is not to be trusted).
		if clean && st.Size() < packMax {
			p.curID, p.size = last, st.Size()
		}
		p.check = !clean
	}
	return p, nil
}

// listPacks is the pack IDs in dir, ascending; other files are ignored.
func listPacks(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("content store: %w", err)
	}
	var ids []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".pack")
		if !ok || len(name) < 8 {
			continue
		}
		// Only the names path makes: 00000005.pack, never 5.pack.
		if id, err := strconv.ParseUint(name, 10, 64); err == nil && id > 0 && fmt.Sprintf("%08d", id) == name {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (p *packs) path(id uint64) string {
	return filepath.Join(p.dir, fmt.Sprintf("%08d.pack", id))
}

func (p *packs) cleanPath() string { return filepath.Join(p.dir, "clean") }

// append writes value to the current pack and returns where it is.
func (p *packs) append(value []byte) (packLoc, error) {
	p.writing.RLock()
	defer p.writing.RUnlock()
	p.mu.Lock()
	if p.size > 0 && p.size+int64(len(value)) > packMax {
		p.rotateLocked()
	}
	if p.cur == nil {
		f, err := os.OpenFile(p.path(p.curID), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			p.mu.Unlock()
			return packLoc{}, fmt.Errorf("content store: %w", err)
		}
		if old := p.open[p.curID]; old != nil {
			p.dropLocked(p.curID, old) // a read-only handle from before
		}
		p.cur = &packHandle{f: f}
		p.open[p.curID] = p.cur
		p.newFiles = true
		p.evictLocked()
	}
	h, id, off := p.cur, p.curID, p.size
	p.size += int64(len(value))
	p.dirty[id] = h
	h.refs++
	p.mu.Unlock()
	defer p.release(h)
	if _, err := h.f.WriteAt(value, off); err != nil {
		// The range stays reserved and dead: compaction reclaims it.
		return packLoc{}, fmt.Errorf("content store: write %s: %w", p.path(id), err)
	}
	if end := off + int64(len(value)); end/dropWindow != off/dropWindow {
		dropBehind(h.f, end/dropWindow*dropWindow)
	}
	return packLoc{id: id, off: uint64(off), size: len(value), crc: crc32.Checksum(value, castagnoli)}, nil
}

// read returns the bytes at l, or ds.ErrNotFound where they are lost
// (the pack is gone or short, or the bytes fail their CRC).
func (p *packs) read(l packLoc) ([]byte, error) {
	h, err := p.acquire(l.id)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ds.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer p.release(h)
	buf := make([]byte, l.size)
	_, err = h.f.ReadAt(buf, int64(l.off))
	if errors.Is(err, io.EOF) {
		return nil, ds.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("content store: read %s: %w", p.path(l.id), err)
	}
	if crc32.Checksum(buf, castagnoli) != l.crc {
		return nil, ds.ErrNotFound
	}
	return buf, nil
}

// acquire is an open handle on pack id, counted as in use until release.
func (p *packs) acquire(id uint64) (*packHandle, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h := p.open[id]
	if h == nil {
		f, err := os.Open(p.path(id))
		if err != nil {
			return nil, err
		}
		h = &packHandle{f: f}
		p.open[id] = h
	}
	h.refs++ // before evicting, which must not pick this one
	p.evictLocked()
	return h, nil
}

func (p *packs) release(h *packHandle) {
	p.mu.Lock()
	defer p.mu.Unlock()
	h.refs--
	if h.refs == 0 && h.gone {
		h.f.Close()
	}
}

// dropLocked takes h out of the open set; it closes at its last release.
func (p *packs) dropLocked(id uint64, h *packHandle) {
	if p.open[id] == h {
		delete(p.open, id)
	}
	h.gone = true
	if h.refs == 0 {
		h.f.Close()
	}
}

// evictLocked closes unused handles while more than maxOpenPacks are
// open: never the current pack's, nor one with writes not yet synced.
func (p *packs) evictLocked() {
	for id, h := range p.open {
		if len(p.open) <= maxOpenPacks {
			return
		}
		if h != p.cur && h.refs == 0 && p.dirty[id] == nil {
			p.dropLocked(id, h)
		}
	}
}

// sync flushes every pack written since the last sync (and the directory
// if it gained a pack), then records the mark: every byte before it is on
// disk. One sync at a time; a failed one leaves its packs to the next.
func (p *packs) sync() error {
	p.syncing.Lock()
	defer p.syncing.Unlock()
	p.writing.Lock() // the writes reserved so far are done
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = map[uint64]*packHandle{}
	newFiles := p.newFiles
	p.newFiles = false
	mark := syncMark{p.curID, p.size}
	for _, h := range dirty {
		h.refs++ // not closed by an eviction while it is synced
	}
	p.mu.Unlock()
	p.writing.Unlock()
	if len(dirty) == 0 && !newFiles {
		return nil
	}
	var first error
	for id, h := range dirty {
		err := h.f.Sync()
		p.mu.Lock()
		if err != nil && !h.gone {
			if first == nil {
				first = fmt.Errorf("content store: sync %s: %w", p.path(id), err)
			}
			if p.dirty[id] == nil {
				p.dirty[id] = h // try again next time
			}
		}
		p.mu.Unlock()
		p.release(h)
	}
	if newFiles && first == nil {
		if err := syncPath(p.dir); err != nil {
			first = fmt.Errorf("content store: sync %s: %w", p.dir, err)
		}
	}
	if first != nil {
		p.mu.Lock()
		p.newFiles = p.newFiles || newFiles
		p.mu.Unlock()
		return first
	}
	return p.writeMark(mark)
}

// syncMark: every pack before id, and pack id up to size, is on disk.
type syncMark struct {
	id   uint64
	size int64
}

// covers: the bytes at l are before the mark.
func (m syncMark) covers(l packLoc) bool {
	return l.id < m.id || l.id == m.id && int64(l.off)+int64(l.size) <= m.size
}

func (p *packs) markPath() string { return filepath.Join(p.dir, "synced") }

// writeMark replaces the mark file. It is not synced itself: a mark lost
// by a crash leaves the older one, which only means more to check.
func (p *packs) writeMark(m syncMark) error {
	v := binary.BigEndian.AppendUint64(nil, m.id)
	v = binary.BigEndian.AppendUint64(v, uint64(m.size))
	v = binary.BigEndian.AppendUint32(v, crc32.Checksum(v, castagnoli))
	tmp := p.markPath() + ".tmp"
	if err := os.WriteFile(tmp, v, 0o644); err != nil {
		return fmt.Errorf("content store: %w", err)
	}
	if err := os.Rename(tmp, p.markPath()); err != nil {
		return fmt.Errorf("content store: %w", err)
	}
	return nil
}

// readMark is the last mark written; a missing or torn one is the start
// (everything is checked).
func (p *packs) readMark() syncMark {
	v, err := os.ReadFile(p.markPath())
	if err != nil || len(v) != 20 || crc32.Checksum(v[:16], castagnoli) != binary.BigEndian.Uint32(v[16:]) {
		return syncMark{}
	}
	return syncMark{binary.BigEndian.Uint64(v), int64(binary.BigEndian.Uint64(v[8:]))}
}

// remove deletes pack id. Its handle closes (and the space is freed) when
// the last read using it ends, so a read that found the old location a
// moment before still succeeds.
func (p *packs) remove(id uint64) error {
	p.mu.Lock()
	if h := p.open[id]; h != nil {
		p.dropLocked(id, h)
	}
	delete(p.dirty, id)
	p.mu.Unlock()
	if err := os.Remove(p.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("content store: %w", err)
	}
	return nil
}

// current is the ID appends go to now, and its size.
func (p *packs) current() (uint64, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.curID, p.size
}

// rotate starts a new pack for the next append (the old one stays
// readable), so compaction may treat the old one like any other.
func (p *packs) rotate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.size > 0 {
		p.rotateLocked()
	}
}

func (p *packs) rotateLocked() {
	p.cur, p.curID, p.size = nil, p.curID+1, 0 // the old handle stays in open
}

// close syncs the packs, closes them and marks the store clean (the next
// Open checks nothing).
func (p *packs) close() error {
	err := p.sync()
	p.mu.Lock()
	for id, h := range p.open {
		p.dropLocked(id, h)
	}
	p.cur = nil
	p.mu.Unlock()
	if err != nil {
		return err
	}
	if err := os.WriteFile(p.cleanPath(), nil, 0o644); err != nil {
		return fmt.Errorf("content store: %w", err)
	}
	return syncPath(p.dir)
}

// packMax is the size after which appends start a new pack: compaction
// copies at most half of one, and 1 TB of models is about 4,000 packs.
var packMax int64 = 256 << 20

// maxOpenPacks bounds the descriptors kept open; past it, those no read,
// write or sync is using (and not the current pack) are closed.
var maxOpenPacks = 256

// dropWindow is how far behind the end of its appends a pack's pages are
// dropped from the page cache (dropBehind).
const dropWindow = 32 << 20

const packMagic = "\x00inferd-pack-block\x00"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// packLoc is where a block's bytes are.
type packLoc struct {
	id, off uint64
	size    int
	crc     uint32
}

func (l packLoc) marker() []byte {
	v := []byte(packMagic)
	v = binary.AppendUvarint(v, l.id)
	v = binary.AppendUvarint(v, l.off)
	v = binary.AppendUvarint(v, uint64(l.size))
	return binary.BigEndian.AppendUint32(v, l.crc)
}

// parsePackMarker is the location a pack marker names, or false.
func parsePackMarker(v []byte) (packLoc, bool) {
	if !bytes.HasPrefix(v, []byte(packMagic)) {
		return packLoc{}, false
	}
	rest := v[len(packMagic):]
	var nums [3]uint64
	for i := range nums {
		n, k := binary.Uvarint(rest)
		if k <= 0 {
			return packLoc{}, false
		}
		nums[i], rest = n, rest[k:]
	}
	if len(rest) != 4 || nums[2] > 1<<31 || nums[1] > 1<<62 {
		return packLoc{}, false
	}
	return packLoc{id: nums[0], off: nums[1], size: int(nums[2]), crc: binary.BigEndian.Uint32(rest)}, true
}

// maxMarkerLen is the longest value either marker kind can be.
const maxMarkerLen = len(packMagic) + 3*binary.MaxVarintLen64 + 4

// syncPath fsyncs a directory (its entries: a new pack, a removed flag).
func syncPath(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
