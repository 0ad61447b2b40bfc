package blockstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
)

// Errors. Reads of a height above Height, or of an unknown hash, return
// ErrNotFound; a stored value that fails its checksum or does not decode
// returns ErrCorrupt; SaveBlock refuses inconsistent input with ErrInvalid.
var (
	ErrNotFound = errors.New("blockstore: not found")
	ErrCorrupt  = errors.New("blockstore: corrupt record")
	ErrInvalid  = errors.New("blockstore: refused to save")
)

// Key layout: one prefix byte, then big-endian height (so keys sort by
// height) or a 32-byte hash.
const (
	pBlock   = 'b' // height -> encoded block
	pCommit  = 'c' // height -> encoded seen commit
	pHash    = 'h' // block hash -> height
	pTx      = 't' // tx hash -> height, index
	pResults = 'r' // height -> encoded []ledger.TxResult
	pVals    = 'v' // height -> encoded validator set (SaveValidators)
)

var keyHeight = []byte("m/height")

// Options tune the store. The zero value is the production default.
type Options struct {
	// NoSync skips fsync on commit (tests and benchmarks only).
	NoSync bool
	// SmallMemory lowers Badger's caches for tests that open many stores.
	SmallMemory bool
}

// Store is the block store. See the package comment for its threading
// model.
type Store struct {
	db     *badger.DB
	mu     sync.RWMutex // guards height; held for writing by SaveBlock
	height uint64
	base   uint64 // oldest height kept without gaps (0: never pruned)
	every  uint64 // keep_every of the last prune
}

// TxRecord is a committed transaction with where it is and its result.
type TxRecord struct {
	Height uint64
	Index  int
	Tx     []byte
	Result ledger.TxResult // Result.Err() is nil once read back; Error holds the message
}

// Open opens (creating if needed) the block store in dir.
func Open(dir string, o Options) (*Store, error) {
	opts := badger.DefaultOptions(dir).WithSyncWrites(!o.NoSync).WithLogger(nil).WithCompactL0OnClose(true)
	if o.SmallMemory {
		opts = opts.WithMemTableSize(16 << 20).WithBlockCacheSize(8 << 20).WithIndexCacheSize(4 << 20).WithNumMemtables(2).WithValueLogFileSize(64 << 20)
	}
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open block store in %s: %w", dir, err)
	}
	s := &Store{db: db}
	err = db.View(func(txn *badger.Txn) error {
		v, err := get(txn, keyHeight)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		case len(v) != 8:
			return fmt.Errorf("%w: %s: height marker is %d bytes, want 8", ErrCorrupt, keyHeight, len(v))
		}
		s.height = binary.BigEndian.Uint64(v)
		return s.loadPruneMarkers(txn)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open block store in %s: %w", dir, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Height is the last stored height (0 when empty).
func (s *Store) Height() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.height
}

// SaveBlock stores block b of height Height()+1, the commit that finalized
// it and the ledger's results of its transactions (one per tx, in order),
// in one transaction, fsynced before it returns. b must have passed
// ValidateBasic (the node checked it before applying it); SaveBlock checks
// only that the pieces fit together. A transaction whose hash is already
// indexed (a replay included again by a faulty proposer) keeps its first
// index entry.
func (s *Store) SaveBlock(b *blocks.Block, seenCommit blocks.Commit, results []ledger.TxResult) error {
	return s.SaveDecided(b, seenCommit, results, nil)
}

// SaveDecided is SaveBlock that also records, in the same fsynced
// transaction, the validator set that decided b (Validators(height) reads
// it back). With it the block store alone is enough to bring a ledger
// that lost its last commits (written without fsync) back to the tip:
// each replayed block needs the set that signed its last commit.
func (s *Store) SaveDecided(b *blocks.Block, seenCommit blocks.Commit, results []ledger.TxResult, decidedBy *consensus.ValidatorSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := b.Header.Height
	id := b.Hash()
	switch {
	case h != s.height+1:
		return fmt.Errorf("%w: block of height %d, store is at %d", ErrInvalid, h, s.height)
	case seenCommit.Height != h || seenCommit.BlockID != id:
		return fmt.Errorf("%w: block %d (%s) with a commit for height %d block %s", ErrInvalid, h, id, seenCommit.Height, seenCommit.BlockID)
	case len(results) != len(b.Txs):
		return fmt.Errorf("%w: block %d has %d txs and %d results", ErrInvalid, h, len(b.Txs), len(results))
	}
	for i := range results {
		if results[i].Hash != ledger.HashTx(b.Txs[i]) {
			return fmt.Errorf("%w: block %d: result %d is for another transaction", ErrInvalid, h, i)
		}
	}
	rawResults, err := codec.Marshal(results)
	if err != nil {
		return fmt.Errorf("%w: block %d: encode results: %v", ErrInvalid, h, err)
	}
	hk := heightKey(pBlock, h)
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := set(txn, hk, blocks.Encode(b)); err != nil {
			return err
		}
		if err := set(txn, heightKey(pCommit, h), blocks.EncodeCommit(seenCommit)); err != nil {
			return err
		}
		if err := set(txn, hashKey(pHash, id), be64(h)); err != nil {
			return err
		}
		if err := set(txn, heightKey(pResults, h), rawResults); err != nil {
			return err
		}
		if decidedBy != nil {
			if err := set(txn, heightKey(pVals, h), decidedBy.Encode()); err != nil {
				return err
			}
		}
		for i, tx := range b.Txs {
			k := hashKey(pTx, ledger.HashTx(tx))
			if _, err := txn.Get(k); err == nil {
				continue // first inclusion wins
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			if err := set(txn, k, binary.BigEndian.AppendUint32(be64(h), uint32(i))); err != nil {
				return err
			}
		}
		return set(txn, keyHeight, be64(h))
	})
	if err != nil {
		return fmt.Errorf("save block %d: %w", h, err)
	}
	s.height = h
	return nil
}

// BlockBytes returns the stored encoding of block h (checksum verified, not
// decoded), for serving block sync.
func (s *Store) BlockBytes(h uint64) ([]byte, error) {
	if err := s.prunedErr(h); err != nil {
		return nil, err
	}
	return s.read(heightKey(pBlock, h), fmt.Sprintf("block %d", h))
}

// Block returns block h, decoded and checked (blocks.Decode).
func (s *Store) Block(h uint64) (*blocks.Block, error) {
	raw, err := s.BlockBytes(h)
	if err != nil {
		return nil, err
	}
	b, err := blocks.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: %v", ErrCorrupt, h, err)
	}
	if b.Header.Height != h {
		return nil, fmt.Errorf("%w: record of block %d holds block %d", ErrCorrupt, h, b.Header.Height)
	}
	return b, nil
}

// BlockByHash returns the block with hash id.
func (s *Store) BlockByHash(id consensus.BlockID) (*blocks.Block, error) {
	v, err := s.read(hashKey(pHash, id), fmt.Sprintf("block %s", id))
	if err != nil {
		return nil, err
	}
	if len(v) != 8 {
		return nil, fmt.Errorf("%w: hash index of %s is %d bytes", ErrCorrupt, id, len(v))
	}
	b, err := s.Block(binary.BigEndian.Uint64(v))
	if err != nil {
		return nil, err
	}
	if b.Hash() != id {
		return nil, fmt.Errorf("%w: hash index of %s points at block %d with hash %s", ErrCorrupt, id, b.Header.Height, b.Hash())
	}
	return b, nil
}

// SeenCommit returns the commit that finalized height h.
func (s *Store) SeenCommit(h uint64) (blocks.Commit, error) {
	if err := s.prunedErr(h); err != nil {
		return blocks.Commit{}, err
	}
	raw, err := s.read(heightKey(pCommit, h), fmt.Sprintf("commit %d", h))
	if err != nil {
		return blocks.Commit{}, err
	}
	c, err := blocks.DecodeCommit(raw)
	if err != nil {
		return blocks.Commit{}, fmt.Errorf("%w: commit %d: %v", ErrCorrupt, h, err)
	}
	if c.Height != h {
		return blocks.Commit{}, fmt.Errorf("%w: record of commit %d holds height %d", ErrCorrupt, h, c.Height)
	}
	return c, nil
}

// Results returns the ledger's results of block h's transactions.
func (s *Store) Results(h uint64) ([]ledger.TxResult, error) {
	if err := s.prunedErr(h); err != nil {
		return nil, err
	}
	raw, err := s.read(heightKey(pResults, h), fmt.Sprintf("results %d", h))
	if err != nil {
		return nil, err
	}
	var rs []ledger.TxResult
	if err := codec.UnmarshalTrusted(raw, &rs); err != nil {
		return nil, fmt.Errorf("%w: results %d: %v", ErrCorrupt, h, err)
	}
	return rs, nil
}

// Tx returns the committed transaction with hash th, its position and its
// result.
func (s *Store) Tx(th ledger.TxHash) (TxRecord, error) {
	v, err := s.read(hashKey(pTx, th), fmt.Sprintf("tx %x", th[:]))
	if err != nil {
		return TxRecord{}, err
	}
	if len(v) != 12 {
		return TxRecord{}, fmt.Errorf("%w: tx index of %x is %d bytes", ErrCorrupt, th[:], len(v))
	}
	rec := TxRecord{Height: binary.BigEndian.Uint64(v), Index: int(binary.BigEndian.Uint32(v[8:]))}
	b, err := s.Block(rec.Height)
	if err != nil {
		return TxRecord{}, err
	}
	rs, err := s.Results(rec.Height)
	if err != nil {
		return TxRecord{}, err
	}
	if rec.Index >= len(b.Txs) || rec.Index >= len(rs) || ledger.HashTx(b.Txs[rec.Index]) != th || rs[rec.Index].Hash != th {
		return TxRecord{}, fmt.Errorf("%w: tx index of %x points at height %d index %d, which holds another transaction", ErrCorrupt, th[:], rec.Height, rec.Index)
	}
	rec.Tx, rec.Result = b.Txs[rec.Index], rs[rec.Index]
	return rec, nil
}

// SaveValidators records the validator set (with its proposer priorities)
// that decides height h, for the node to restart with and to check the
// commits of past heights. It is separate from SaveBlock: the set of h+1 is
// known only after block h is applied.
func (s *Store) SaveValidators(h uint64, vals *consensus.ValidatorSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Update(func(txn *badger.Txn) error { return set(txn, heightKey(pVals, h), vals.Encode()) }); err != nil {
		return fmt.Errorf("save validator set of height %d: %w", h, err)
	}
	return nil
}

// Validators returns the set saved by SaveValidators for height h.
func (s *Store) Validators(h uint64) (*consensus.ValidatorSet, error) {
	if err := s.prunedErr(h); err != nil {
		return nil, err
	}
	raw, err := s.read(heightKey(pVals, h), fmt.Sprintf("validator set %d", h))
	if err != nil {
		return nil, err
	}
	vs, err := consensus.DecodeValidatorSet(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: validator set %d: %v", ErrCorrupt, h, err)
	}
	return vs, nil
}

func (s *Store) read(key []byte, what string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := get(txn, key)
		out = v
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// Values are stored as crc32c(payload) || payload.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func set(txn *badger.Txn, key, payload []byte) error {
	v := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint32(v, crc32.Checksum(payload, castagnoli))
	return txn.Set(key, append(v, payload...))
}

func get(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	if len(v) < 4 || binary.BigEndian.Uint32(v) != crc32.Checksum(v[4:], castagnoli) {
		return nil, fmt.Errorf("%w: key %s: checksum mismatch", ErrCorrupt, printable(key))
	}
	return v[4:], nil
}

func heightKey(prefix byte, h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{prefix}, h)
}

func hashKey(prefix byte, h [32]byte) []byte { return append([]byte{prefix}, h[:]...) }

func be64(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

func printable(k []byte) string {
	if len(k) > 0 && bytes.IndexByte([]byte("bcrv"), k[0]) >= 0 && len(k) == 9 {
		return fmt.Sprintf("%c/%d", k[0], binary.BigEndian.Uint64(k[1:]))
	}
	return fmt.Sprintf("%q", k)
}
