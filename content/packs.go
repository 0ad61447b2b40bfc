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
// or a fetch (docs/content.md, "Measuring"). Badger keeps the index: a
// block's key maps to a pack marker (pack, offset, size, CRC-32C).
//
// Writers reserve their range under the lock and write it outside, so
// concurrent puts overlap; the index entry is written only after the
// bytes. Fsync: Sync fdatasyncs the packs written since the last Sync,
// before Badger's own sync, and then records how far the packs are synced
// (packs/synced). Badger may keep an index entry whose bytes a crash lost
// (it syncs on its own schedule), so Open checks the CRC of every entry
// past that mark when the packs run past it (recoverPacks) and drops those
// that fail: the block is then missing, and a fetch gets it again. Bytes
// no entry names are dead space, reclaimed by compaction (compactPacks,
// run by GC).
type packs struct {
	dir string

	// writing is held (shared) by each append from its reservation to the
	// end of its write, so sync's mark covers only finished writes.
	writing sync.RWMutex

	mu     sync.Mutex
	curID  uint64   // the pack being appended to
	cur    *os.File // open for writing, or nil until the first put
	size   int64    // bytes reserved in cur
	open   map[uint64]*os.File
	dirty  map[uint64]*os.File // written since the last sync
	retire []*os.File          // removed by compaction, closed at Close

	// check is set at open when the packs run past the sync mark (a crash
	// came before a sync): recoverPacks checks the entries past mark.
	check bool
	mark  syncMark
}

// packMax is the size after which appends start a new pack: compaction
// copies at most half of one, and 1 TB of models is about 4,000 packs.
var packMax int64 = 256 << 20

// maxOpenPacks bounds the read descriptors kept open; past it, one that
// is not being written is closed (a read that loses the race reopens it).
const maxOpenPacks = 256

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

func openPacks(dir string) (*packs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("content store: %w", err)
	}
	ids, err := listPacks(dir)
	if err != nil {
		return nil, err
	}
	p := &packs{dir: dir, curID: 1, open: map[uint64]*os.File{}, dirty: map[uint64]*os.File{}}
	p.mark = p.readMark()
	if len(ids) > 0 {
		last := ids[len(ids)-1]
		p.curID = last + 1
		st, err := os.Stat(p.path(last))
		if err != nil {
			return nil, fmt.Errorf("content store: %w", err)
		}
		// Go on appending to the newest pack while it has room.
		if st.Size() < packMax {
			p.curID, p.size = last, st.Size()
		}
		p.check = last > p.mark.id || last == p.mark.id && st.Size() > p.mark.size
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
		if !ok {
			continue
		}
		if id, err := strconv.ParseUint(name, 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func (p *packs) path(id uint64) string {
	return filepath.Join(p.dir, fmt.Sprintf("%08d.pack", id))
}

// append writes value to the current pack and returns where it is.
func (p *packs) append(value []byte) (packLoc, error) {
	p.writing.RLock()
	defer p.writing.RUnlock()
	p.mu.Lock()
	if p.size > 0 && p.size+int64(len(value)) > packMax {
		p.cur, p.curID, p.size = nil, p.curID+1, 0 // stays in open for reads
	}
	if p.cur == nil {
		f, err := os.OpenFile(p.path(p.curID), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			p.mu.Unlock()
			return packLoc{}, fmt.Errorf("content store: %w", err)
		}
		if old := p.open[p.curID]; old != nil {
			p.retire = append(p.retire, old) // a read-only handle from before
		}
		p.cur = f
		p.open[p.curID] = f
	}
	f, id, off := p.cur, p.curID, p.size
	p.size += int64(len(value))
	p.dirty[id] = f
	p.mu.Unlock()
	if _, err := f.WriteAt(value, off); err != nil {
		// The range stays reserved and dead: compaction reclaims it.
		return packLoc{}, fmt.Errorf("content store: write %s: %w", p.path(id), err)
	}
	if end := off + int64(len(value)); end/dropWindow != off/dropWindow {
		dropBehind(f, end/dropWindow*dropWindow)
	}
	return packLoc{id: id, off: uint64(off), size: len(value), crc: crc32.Checksum(value, castagnoli)}, nil
}

// read returns the bytes at l, or ds.ErrNotFound where a crash lost them
// (the pack is gone or short, or the bytes fail their CRC).
func (p *packs) read(l packLoc) ([]byte, error) {
	buf := make([]byte, l.size)
	for try := 0; ; try++ {
		f, err := p.file(l.id)
		if errors.Is(err, os.ErrNotExist) {
			return nil, ds.ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		_, err = f.ReadAt(buf, int64(l.off))
		if errors.Is(err, os.ErrClosed) && try == 0 {
			continue // closed by the descriptor bound meanwhile
		}
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
}

// file is an open handle on pack id.
func (p *packs) file(id uint64) (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.open[id]; f != nil {
		return f, nil
	}
	if len(p.open) >= maxOpenPacks {
		for oid, f := range p.open {
			if f != p.cur && p.dirty[oid] == nil {
				f.Close()
				delete(p.open, oid)
				break
			}
		}
	}
	f, err := os.Open(p.path(id))
	if err != nil {
		return nil, err
	}
	p.open[id] = f
	return f, nil
}

// sync flushes every pack written since the last sync, then records the
// mark: every byte before it is on disk.
func (p *packs) sync() error {
	p.writing.Lock() // the writes reserved so far are done
	p.mu.Lock()
	dirty := p.dirty
	p.dirty = map[uint64]*os.File{}
	mark := syncMark{p.curID, p.size}
	p.mu.Unlock()
	p.writing.Unlock()
	if len(dirty) == 0 {
		return nil
	}
	var first error
	for id, f := range dirty {
		if err := f.Sync(); err != nil {
			if first == nil {
				first = fmt.Errorf("content store: sync %s: %w", p.path(id), err)
			}
			p.mu.Lock()
			p.dirty[id] = f // try again next time
			p.mu.Unlock()
		}
	}
	if first == nil {
		first = p.writeMark(mark)
	}
	return first
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

// remove deletes pack id. Its handle stays open until Close, so a read
// that found the old location a moment before still succeeds.
func (p *packs) remove(id uint64) error {
	p.mu.Lock()
	if f := p.open[id]; f != nil {
		p.retire = append(p.retire, f)
		delete(p.open, id)
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
		p.cur, p.curID, p.size = nil, p.curID+1, 0
	}
}

func (p *packs) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for _, f := range p.open {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	for _, f := range p.retire {
		f.Close()
	}
	p.open, p.dirty, p.retire, p.cur = map[uint64]*os.File{}, map[uint64]*os.File{}, nil, nil
	return first
}
