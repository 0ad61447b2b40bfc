package blockstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{SmallMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func save(t *testing.T, s *Store, c *testChain, h uint64) {
	t.Helper()
	b, seen := c.block(h)
	if err := s.SaveBlock(b, seen, results(b)); err != nil {
		t.Fatalf("save %d: %v", h, err)
	}
}

// checkHeight asserts everything stored for height h reads back exactly.
func checkHeight(t *testing.T, s *Store, c *testChain, h uint64) {
	t.Helper()
	want, wantSeen := c.block(h)
	got, err := s.Block(h)
	if err != nil {
		t.Fatalf("block %d: %v", h, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("block %d differs", h)
	}
	raw, err := s.BlockBytes(h)
	if err != nil || !bytes.Equal(raw, blocks.Encode(want)) {
		t.Fatalf("block bytes %d: %v", h, err)
	}
	byHash, err := s.BlockByHash(want.Hash())
	if err != nil || byHash.Header.Height != h {
		t.Fatalf("block %d by hash: %v", h, err)
	}
	seen, err := s.SeenCommit(h)
	if err != nil || seen.Hash() != wantSeen.Hash() {
		t.Fatalf("seen commit %d: %v", h, err)
	}
	if err := blocks.VerifyCommit(chainID, c.vals, seen, want.Hash()); err != nil {
		t.Fatalf("seen commit %d does not verify: %v", h, err)
	}
	wantRes := results(want)
	for i, tx := range want.Txs {
		rec, err := s.Tx(ledger.HashTx(tx))
		if err != nil {
			t.Fatalf("tx %d/%d: %v", h, i, err)
		}
		if rec.Height != h || rec.Index != i || !bytes.Equal(rec.Tx, tx) || !reflect.DeepEqual(rec.Result, wantRes[i]) {
			t.Fatalf("tx %d/%d: got %+v, want result %+v", h, i, rec, wantRes[i])
		}
	}
}

func TestRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	c := newTestChain(t)
	s := open(t, dir)
	if s.Height() != 0 {
		t.Fatalf("new store at height %d", s.Height())
	}
	for h := uint64(1); h <= 5; h++ {
		save(t, s, c, h)
		if s.Height() != h {
			t.Fatalf("height %d after saving %d", s.Height(), h)
		}
	}
	for h := uint64(1); h <= 5; h++ {
		checkHeight(t, s, c, h)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	if s.Height() != 5 {
		t.Fatalf("reopened at height %d, want 5", s.Height())
	}
	for h := uint64(1); h <= 5; h++ {
		checkHeight(t, s, c, h)
	}
	save(t, s, c, 6)
	checkHeight(t, s, c, 6)
}

func TestNotFound(t *testing.T) {
	c := newTestChain(t)
	s := open(t, t.TempDir())
	defer s.Close()
	save(t, s, c, 1)
	b2, _ := c.block(2)
	checks := map[string]error{}
	_, checks["block"] = s.Block(2)
	_, checks["block bytes"] = s.BlockBytes(0)
	_, checks["by hash"] = s.BlockByHash(b2.Hash())
	_, checks["seen commit"] = s.SeenCommit(2)
	_, checks["tx"] = s.Tx(ledger.HashTx(b2.Txs[0]))
	_, checks["results"] = s.Results(7)
	_, checks["validators"] = s.Validators(1)
	for what, err := range checks {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", what, err)
		}
	}
}

func TestSaveBlockRefusesInconsistentInput(t *testing.T) {
	c := newTestChain(t)
	s := open(t, t.TempDir())
	defer s.Close()
	b1, seen1 := c.block(1)
	b2, seen2 := c.block(2)
	bad := map[string]error{
		"skips a height":       s.SaveBlock(b2, seen2, results(b2)),
		"commit of another":    s.SaveBlock(b1, seen2, results(b1)),
		"too few results":      s.SaveBlock(b1, seen1, results(b1)[1:]),
		"results of other txs": s.SaveBlock(b1, seen1, results(b2)),
	}
	for what, err := range bad {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", what, err)
		}
	}
	if s.Height() != 0 {
		t.Fatalf("a refused save moved the store to %d", s.Height())
	}
	save(t, s, c, 1)
	if err := s.SaveBlock(b1, seen1, results(b1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("saving height 1 twice: %v", err)
	}
}

// A transaction included again by a faulty proposer (it fails its nonce
// check the second time) must keep pointing at its first, successful
// inclusion.
func TestReplayedTxKeepsFirstIndex(t *testing.T) {
	c := newTestChain(t)
	s := open(t, t.TempDir())
	defer s.Close()
	save(t, s, c, 1)
	b1, _ := c.block(1)
	prev := b1
	replay := blocks.NewBlock(blocks.Header{ChainID: chainID, Height: 2, Time: 2e9, LastBlockHash: prev.Hash(), Proposer: c.vals.Validator(0).Address, BeaconProof: make([]byte, blocks.BeaconProofSize)},
		[][]byte{b1.Txs[0]}, nil, c.commitFor(1, prev.Hash(), 0, 1, 2))
	res := []ledger.TxResult{{Hash: ledger.HashTx(b1.Txs[0]), Error: "nonce too low"}}
	if err := s.SaveBlock(replay, c.commitFor(2, replay.Hash(), 0, 1, 2), res); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Tx(ledger.HashTx(b1.Txs[0]))
	if err != nil || rec.Height != 1 || !rec.Result.OK {
		t.Fatalf("replayed tx: %+v %v, want its first inclusion at height 1", rec, err)
	}
	got, err := s.Results(2)
	if err != nil || len(got) != 1 || got[0].Error != "nonce too low" {
		t.Fatalf("results of the replaying block: %+v %v", got, err)
	}
}

func TestValidators(t *testing.T) {
	c := newTestChain(t)
	s := open(t, t.TempDir())
	defer s.Close()
	next, err := c.vals.Advance(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveValidators(1, c.vals); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveValidators(2, next); err != nil {
		t.Fatal(err)
	}
	for h, want := range map[uint64]*consensus.ValidatorSet{1: c.vals, 2: next} {
		got, err := s.Validators(h)
		if err != nil || !bytes.Equal(got.Encode(), want.Encode()) {
			t.Fatalf("set %d: %v", h, err)
		}
	}
}

// rawSet overwrites a stored value behind the store's back, as disk
// corruption would.
func rawSet(t *testing.T, s *Store, key, value []byte) {
	t.Helper()
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }); err != nil {
		t.Fatal(err)
	}
}

func rawGet(t *testing.T, s *Store, key []byte) []byte {
	t.Helper()
	var v []byte
	if err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

func withCRC(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, crc32.Checksum(payload, castagnoli)), payload...)
}

func TestCorruptionIsReported(t *testing.T) {
	c := newTestChain(t)
	s := open(t, t.TempDir())
	defer s.Close()
	for h := uint64(1); h <= 3; h++ {
		save(t, s, c, h)
	}
	b2, _ := c.block(2)
	b3, _ := c.block(3)

	// A flipped bit anywhere in a stored block fails the checksum.
	v := rawGet(t, s, heightKey(pBlock, 1))
	v[len(v)/2] ^= 0x10
	rawSet(t, s, heightKey(pBlock, 1), v)
	if _, err := s.Block(1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped bit in block 1: %v", err)
	}
	if _, err := s.BlockBytes(1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped bit in block 1 (bytes): %v", err)
	}
	// A checksummed record that holds another block is caught too.
	rawSet(t, s, heightKey(pBlock, 2), withCRC(blocks.Encode(b3)))
	if _, err := s.Block(2); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("block 3 stored as block 2: %v", err)
	}
	if _, err := s.Tx(ledger.HashTx(b2.Txs[0])); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("tx of a corrupt block: %v", err)
	}
	// Garbage with a valid checksum does not decode.
	rawSet(t, s, heightKey(pCommit, 3), withCRC([]byte{0x83, 1, 2}))
	if _, err := s.SeenCommit(3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbage commit: %v", err)
	}
	rawSet(t, s, heightKey(pResults, 3), withCRC([]byte{0xff}))
	if _, err := s.Results(3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbage results: %v", err)
	}
	rawSet(t, s, hashKey(pTx, ledger.HashTx(b3.Txs[0])), withCRC([]byte{1, 2, 3}))
	if _, err := s.Tx(ledger.HashTx(b3.Txs[0])); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbage tx index: %v", err)
	}
	// A truncated value (shorter than its checksum).
	rawSet(t, s, heightKey(pCommit, 2), []byte{1})
	if _, err := s.SeenCommit(2); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated commit: %v", err)
	}
	// The error names what is broken.
	_, err := s.SeenCommit(2)
	if want := "c/2"; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Fatalf("error %q does not name the key %s", err, want)
	}
}

func TestCorruptHeightMarkerFailsOpen(t *testing.T) {
	dir := t.TempDir()
	c := newTestChain(t)
	s := open(t, dir)
	save(t, s, c, 1)
	rawSet(t, s, keyHeight, withCRC([]byte{1, 2, 3}))
	s.Close()
	if _, err := Open(dir, Options{SmallMemory: true}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with a corrupt height marker: %v", err)
	}
}
