package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
)

// compactPacks reclaims the space of deleted blocks: a pack no index
// entry names is removed; one less than half live has its live blocks
// copied to the current pack, their entries repointed (after the copies
// are synced), then is removed. The pack being appended to is left alone
// unless it is mostly dead too. GC runs it with no writer (under the store's gc lock). It returns how
// many packs it removed and the bytes it freed.
func (f *fileDS) compactPacks(ctx context.Context) (int, int64, error) {
	ids, err := listPacks(f.packs.dir)
	if err != nil {
		return 0, 0, err
	}
	live := map[uint64]int64{}
	if err := f.eachPackEntry(ctx, func(_ []byte, l packLoc) error {
		live[l.id] += int64(l.size)
		return nil
	}); err != nil {
		return 0, 0, err
	}
	// A current pack mostly dead is closed for appends, so it can go too
	// (GC holds out every writer).
	if cur, size := f.packs.current(); live[cur]*2 < size {
		f.packs.rotate()
	}
	cur, _ := f.packs.current()
	var drop []uint64
	move := map[uint64]bool{}
	var freed int64
	for _, id := range ids {
		st, err := os.Stat(f.packs.path(id))
		if id == cur || err != nil {
			continue
		}
		switch {
		case live[id] == 0:
			drop = append(drop, id)
			freed += st.Size()
		case live[id]*2 < st.Size():
			move[id] = true
			freed += st.Size() - live[id]
		}
	}
	if len(move) > 0 {
		// The new entries are collected first and written only after the
		// copies are synced: a WriteBatch may commit part of itself early,
		// and an entry must never name bytes not yet on disk while the old
		// copy is still there to keep.
		var todo []indexEdit
		err := f.eachPackEntry(ctx, func(key []byte, l packLoc) error {
			if !move[l.id] {
				return nil
			}
			data, err := f.packs.read(l)
			if errors.Is(err, ds.ErrNotFound) {
				todo = append(todo, indexEdit{key: bytes.Clone(key)}) // missing now, refetched on demand
				return nil
			}
			if err != nil {
				return err
			}
			nl, err := f.packs.append(data)
			if err != nil {
				return err
			}
			todo = append(todo, indexEdit{key: bytes.Clone(key), val: nl.marker()})
			return nil
		})
		if err == nil {
			err = f.packs.sync()
		}
		if err == nil {
			err = f.editIndex(todo)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("compact packs: %w", err)
		}
		for id := range move {
			drop = append(drop, id)
		}
	}
	for i, id := range drop {
		if err := f.packs.remove(id); err != nil {
			return i, freed, err
		}
	}
	return len(drop), freed, nil
}

// eachPackEntry calls fn with every index entry that names a pack.
func (f *fileDS) eachPackEntry(ctx context.Context, fn func(key []byte, l packLoc) error) error {
	return f.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte(blocksPrefix)
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			if item.ValueSize() > int64(maxMarkerLen) {
				continue // a block held in Badger itself
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if l, ok := parsePackMarker(v); ok {
				if err := fn(item.Key(), l); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// recoverPacks runs at Open when a crash came before the packs' last
// sync: every index entry whose bytes lie past the sync mark is read and
// its CRC checked; those that fail are dropped from the index, so the
// block is missing (a fetch gets it again) instead of held but unreadable.
// It returns how many it dropped.
func (f *fileDS) recoverPacks(ctx context.Context) (int, error) {
	if !f.packs.check {
		return 0, nil
	}
	mark := f.packs.mark
	var bad []indexEdit
	err := f.eachPackEntry(ctx, func(key []byte, l packLoc) error {
		if mark.covers(l) {
			return nil
		}
		if _, err := f.packs.read(l); errors.Is(err, ds.ErrNotFound) {
			bad = append(bad, indexEdit{key: bytes.Clone(key)})
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("content store: check the packs after a crash: %w", err)
	}
	if err := f.editIndex(bad); err != nil {
		return 0, err
	}
	// Every pack the index may name past the old mark is synced, then the
	// mark moves to the end.
	ids, err := listPacks(f.packs.dir)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if id < mark.id {
			continue
		}
		h, err := f.packs.acquire(id)
		if err != nil {
			return 0, fmt.Errorf("content store: %w", err)
		}
		err = h.f.Sync()
		f.packs.release(h)
		if err != nil {
			return 0, fmt.Errorf("content store: sync %s: %w", f.packs.path(id), err)
		}
	}
	f.packs.check = false
	cur, size := f.packs.current()
	if err := f.packs.writeMark(syncMark{cur, size}); err != nil {
		return 0, err
	}
	return len(bad), nil
}

// indexEdit repoints an index entry to val, or deletes it (val nil).
type indexEdit struct {
	key, val []byte
}

// editIndex applies edits in one WriteBatch, then syncs Badger.
func (f *fileDS) editIndex(edits []indexEdit) error {
	wb := f.db.NewWriteBatch()
	defer wb.Cancel()
	for _, e := range edits {
		var err error
		if e.val == nil {
			err = wb.Delete(e.key)
		} else {
			err = wb.Set(e.key, e.val)
		}
		if err != nil {
			return err
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	return f.db.Sync()
}
