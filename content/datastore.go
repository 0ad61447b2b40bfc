package content

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
)

// ErrLocked is returned by Open when another process (normally a running
// node) holds the store's directory lock.
var ErrLocked = errors.New("content store is in use by another process")

// badgerDS is a go-datastore Batching over Badger: the narrow adapter
// boxo's blockstore needs. Keys are the datastore key strings.
type badgerDS struct {
	db  *badger.DB
	dir string // absolute; "" in memory
}

var _ ds.Batching = (*badgerDS)(nil)

func openBadger(dir string, inMemory bool) (*badgerDS, error) {
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithNumVersionsToKeep(1).
		// Blocks (up to 1 MiB) go to the value log; the LSM tree holds keys
		// and pointers only, so it stays small and compactions stay cheap.
		WithValueThreshold(1 << 10).
		WithMemTableSize(16 << 20).
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(8 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4)
	if inMemory {
		opts = opts.WithDir("").WithValueDir("").WithInMemory(true).WithValueThreshold(1 << 20)
	}
	db, err := badger.Open(opts)
	if err != nil {
		if strings.Contains(err.Error(), "directory lock") {
			return nil, fmt.Errorf("%w (%s): stop the node first, or use --node to go through its API", ErrLocked, dir)
		}
		return nil, fmt.Errorf("open content store %s: %w", dir, err)
	}
	d := &badgerDS{db: db}
	if !inMemory {
		d.dir, _ = filepath.Abs(dir)
	}
	return d, nil
}

func (d *badgerDS) Get(ctx context.Context, key ds.Key) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // a walk whose caller left stops at its next block
	}
	var v []byte
	err := d.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key.Bytes())
		if err != nil {
			return err
		}
		v, err = it.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ds.ErrNotFound
	}
	return v, err
}

func (d *badgerDS) Has(ctx context.Context, key ds.Key) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err // a walk whose caller left stops at its next block
	}
	err := d.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(key.Bytes())
		return err
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return false, nil
	default:
		return false, err
	}
}

func (d *badgerDS) GetSize(ctx context.Context, key ds.Key) (int, error) {
	if err := ctx.Err(); err != nil {
		return -1, err // a walk whose caller left stops at its next block
	}
	size := -1
	err := d.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key.Bytes())
		if err != nil {
			return err
		}
		size = int(it.ValueSize())
		return nil
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return -1, ds.ErrNotFound
	}
	return size, err
}

func (d *badgerDS) Put(_ context.Context, key ds.Key, value []byte) error {
	return d.db.Update(func(txn *badger.Txn) error { return txn.Set(key.Bytes(), value) })
}

func (d *badgerDS) Delete(_ context.Context, key ds.Key) error {
	return d.db.Update(func(txn *badger.Txn) error { return txn.Delete(key.Bytes()) })
}

func (d *badgerDS) Sync(context.Context, ds.Key) error { return d.db.Sync() }

func (d *badgerDS) Close() error { return d.db.Close() }

// Query supports what the blockstore asks for (a prefix, keys only) and
// leaves filters, orders, offsets and limits to go-datastore's naive
// implementation.
func (d *badgerDS) Query(ctx context.Context, q dsq.Query) (dsq.Results, error) {
	prefix := ds.NewKey(q.Prefix).String()
	if prefix != "/" {
		prefix += "/"
	}
	txn := d.db.NewTransaction(false)
	iopts := badger.DefaultIteratorOptions
	iopts.PrefetchValues = !q.KeysOnly
	iopts.Prefix = []byte(prefix)
	it := txn.NewIterator(iopts)
	it.Rewind()
	closed := false
	closeFn := func() error {
		if !closed {
			closed = true
			it.Close()
			txn.Discard()
		}
		return nil
	}
	next := func() (dsq.Result, bool) {
		if closed || !it.Valid() {
			return dsq.Result{}, false
		}
		if err := ctx.Err(); err != nil {
			return dsq.Result{Error: err}, true
		}
		item := it.Item()
		e := dsq.Entry{Key: string(item.KeyCopy(nil)), Size: int(item.ValueSize())}
		if !q.KeysOnly {
			v, err := item.ValueCopy(nil)
			if err != nil {
				return dsq.Result{Error: err}, true
			}
			e.Value = v
		}
		it.Next()
		return dsq.Result{Entry: e}, true
	}
	q2 := q
	q2.Prefix = "" // applied by the iterator
	return dsq.NaiveQueryApply(q2, dsq.ResultsFromIterator(q, dsq.Iterator{Next: next, Close: closeFn})), nil
}

// Batch writes through a Badger WriteBatch: one flush for many blocks.
func (d *badgerDS) Batch(context.Context) (ds.Batch, error) {
	return &badgerBatch{wb: d.db.NewWriteBatch()}, nil
}

type badgerBatch struct {
	wb *badger.WriteBatch
}

func (b *badgerBatch) Put(_ context.Context, key ds.Key, value []byte) error {
	return b.wb.Set(key.Bytes(), value)
}

func (b *badgerBatch) Delete(_ context.Context, key ds.Key) error {
	return b.wb.Delete(key.Bytes())
}

func (b *badgerBatch) Commit(context.Context) error { return b.wb.Flush() }
