package statesync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/node/blocks"
)

const testChainID = "statesync-test"

// testState commits n keys of size bytes (plus the app hash record) as the
// state of height into a Mem store and returns the store and app hash.
func testState(t testing.TB, height uint64, n, size int) (*store.Mem, [32]byte) {
	t.Helper()
	r := rand.New(rand.NewSource(int64(n)))
	var cs []store.Change
	for i := 0; i < n; i++ {
		v := make([]byte, size)
		r.Read(v)
		cs = append(cs, store.Change{Key: []byte(fmt.Sprintf("acc/%08d", i)), Value: v})
	}
	tmp := store.NewMem()
	if err := tmp.Commit(height, cs); err != nil {
		t.Fatal(err)
	}
	rd, _ := tmp.At(height)
	app, _, err := ledger.AppHashOf(rd)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMem()
	cs = append(cs, store.Change{Key: ledger.MetaAppHashKey(), Value: app[:]})
	if err := st.Commit(height, cs); err != nil {
		t.Fatal(err)
	}
	return st, app
}

func snapshotOf(t testing.TB, st store.Store, height uint64, app [32]byte) (*Store, Metadata) {
	t.Helper()
	ss, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := st.At(height)
	m, err := ss.Create(height, r, app)
	if err != nil {
		t.Fatal(err)
	}
	return ss, m
}

// corruptPeer serves chunks with one byte flipped.
type corruptPeer struct{ LocalPeer }

func (p corruptPeer) LoadChunk(ctx context.Context, h uint64, f, i uint32) ([]byte, error) {
	b, err := p.LocalPeer.LoadChunk(ctx, h, f, i)
	if err == nil {
		b = bytes.Clone(b)
		b[len(b)/2] ^= 1
	}
	return b, err
}

// countingPeer counts the chunks it served.
type countingPeer struct {
	LocalPeer
	served *atomic.Int32
}

func (p countingPeer) LoadChunk(ctx context.Context, h uint64, f, i uint32) ([]byte, error) {
	p.served.Add(1)
	return p.LocalPeer.LoadChunk(ctx, h, f, i)
}

// A peer serving corrupted chunks is rejected and every chunk comes from
// the honest peer; the restored state has the snapshot's app hash.
func TestCorruptedChunkRefetched(t *testing.T) {
	st, app := testState(t, 50, 2500, 4096) // ~10 MiB: 3 chunks
	ss, m := snapshotOf(t, st, 50, app)
	if len(m.Chunks) != 3 {
		t.Fatalf("%d chunks, want 3", len(m.Chunks))
	}
	var served atomic.Int32
	bad := corruptPeer{LocalPeer{Name: "bad", Store: ss}}
	good := countingPeer{LocalPeer{Name: "good", Store: ss}, &served}
	offers := Discover(context.Background(), []Peer{bad, good}, 1)
	if len(offers) != 1 || len(offers[0].Peers) != 2 || offers[0].Meta.Hash() != m.Hash() {
		t.Fatalf("discover: %+v", offers)
	}
	chunks, rejects, err := Fetch(context.Background(), m, offers[0].Peers, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) != 1 || rejects[0].Peer != "bad" || !strings.Contains(rejects[0].Reason, "sha256") {
		t.Fatalf("rejections %+v, want the corrupting peer", rejects)
	}
	if served.Load() != 3 {
		t.Fatalf("the honest peer served %d chunks, want all 3", served.Load())
	}
	dst := store.NewMem()
	if err := Apply(dst, m, chunks); err != nil {
		t.Fatal(err)
	}
	want, _ := st.At(50)
	got, _ := dst.At(50)
	var a, b bytes.Buffer
	WriteStream(&a, want)
	WriteStream(&b, got)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("restored state differs from the original")
	}

	// With only the corrupting peer, the fetch fails naming the chunk.
	if _, _, err := Fetch(context.Background(), m, []Peer{bad}, 1); !errors.Is(err, ErrBadChunk) || !strings.Contains(err.Error(), "chunk 0") {
		t.Fatalf("fetch from a corrupting peer only: %v", err)
	}
}

// Metadata whose chunk hashes match but whose app hash is a lie: Apply
// refuses the restored state.
func TestApplyRefusesWrongAppHash(t *testing.T) {
	st, app := testState(t, 7, 100, 64)
	ss, m := snapshotOf(t, st, 7, app)
	chunks, _, err := Fetch(context.Background(), m, []Peer{LocalPeer{"p", ss}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	lie := m
	lie.AppHash = bytes.Repeat([]byte{7}, 32)
	if err := Apply(store.NewMem(), lie, chunks); !errors.Is(err, ErrAppHash) {
		t.Fatalf("apply with a false app hash: %v", err)
	}
	// A stream with a flipped byte that a hash check would have caught.
	bad := [][]byte{bytes.Clone(chunks[0])}
	bad[0][len(bad[0])-1] ^= 1
	if err := Apply(store.NewMem(), m, bad); !errors.Is(err, ErrAppHash) {
		t.Fatalf("apply of a tampered stream: %v", err)
	}
}

type valKeys struct {
	set  *consensus.ValidatorSet
	priv map[keys.Address]keys.PrivKey
}

func newVals(t *testing.T, n int, seed int64) valKeys {
	r := rand.New(rand.NewSource(seed))
	vk := valKeys{priv: map[keys.Address]keys.PrivKey{}}
	var vs []consensus.Validator
	for i := 0; i < n; i++ {
		pub, priv, _ := keys.Generate(r)
		vk.priv[keys.AddressOf(pub)] = priv
		vs = append(vs, consensus.Validator{Address: keys.AddressOf(pub), PubKey: pub, Power: 10})
	}
	set, err := consensus.NewValidatorSet(vs)
	if err != nil {
		t.Fatal(err)
	}
	vk.set = set
	return vk
}

func (vk valKeys) commit(h uint64, id consensus.BlockID, signers int) blocks.Commit {
	var votes []*consensus.Vote
	for i := 0; i < signers; i++ {
		a := vk.set.Validator(i).Address
		v := &consensus.Vote{Type: consensus.Precommit, Height: h, BlockID: id, Validator: a}
		consensus.Sign(vk.priv[a], testChainID, v)
		votes = append(votes, v)
	}
	return blocks.MakeCommit(h, 0, id, votes)
}

// A snapshot whose app hash differs from the one in the signed header of
// the next height is refused with a clear error; so is a header signed by
// too few of the trusted validators, or not the trusted hash.
func TestVerifyHeader(t *testing.T) {
	vk := newVals(t, 4, 1)
	st, app := testState(t, 50, 10, 32)
	_, m := snapshotOf(t, st, 50, app)
	hdr := &blocks.Header{ChainID: testChainID, Height: 51, Time: 1, AppHash: app, Proposer: vk.set.Validator(0).Address, ValidatorsHash: vk.set.Hash()}
	id := hdr.Hash()
	if err := VerifyHeader(testChainID, vk.set, hdr, vk.commit(51, id, 3), m, id[:]); err != nil {
		t.Fatalf("honest header: %v", err)
	}
	other := *hdr
	other.AppHash = [32]byte{9}
	oid := other.Hash()
	err := VerifyHeader(testChainID, vk.set, &other, vk.commit(51, oid, 3), m, nil)
	if !errors.Is(err, ErrAppHash) || !strings.Contains(err.Error(), "refusing the snapshot") {
		t.Fatalf("header with another app hash: %v", err)
	}
	t.Log(err)
	if err := VerifyHeader(testChainID, vk.set, hdr, vk.commit(51, id, 2), m, nil); err == nil || !strings.Contains(err.Error(), "2/3") {
		t.Fatalf("header signed by 2 of 4: %v", err)
	}
	if err := VerifyHeader(testChainID, vk.set, hdr, vk.commit(51, id, 3), m, oid[:]); err == nil || !strings.Contains(err.Error(), "trusted hash") {
		t.Fatalf("header that is not the trusted one: %v", err)
	}
	if err := VerifyHeader(testChainID, newVals(t, 4, 2).set, hdr, vk.commit(51, id, 4), m, nil); err == nil {
		t.Fatal("header signed by an untrusted set accepted")
	}
}

// A crash mid-Create leaves a temporary directory that is never listed and
// is removed on the next open.
func TestInterruptedCreateLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	ss, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, app := testState(t, 5, 10, 32)
	r, _ := st.At(5)
	if _, err := ss.Create(5, r, app); err != nil {
		t.Fatal(err)
	}
	if err := osMkdir(dir + "/.tmp-10-123"); err != nil {
		t.Fatal(err)
	}
	ss, _ = OpenStore(dir)
	list, _ := ss.List()
	if len(list) != 1 || list[0].Height != 5 {
		t.Fatalf("list %+v", list)
	}
	if exists(dir + "/.tmp-10-123") {
		t.Fatal("leftover temporary directory not removed")
	}
	if err := ss.Prune(0); err != nil {
		t.Fatal(err)
	}
	if list, _ := ss.List(); len(list) != 0 {
		t.Fatal("prune kept a snapshot")
	}
}

// Bad metadata and malformed streams are refused with errors that say what
// is wrong.
func TestBadInputs(t *testing.T) {
	good := Metadata{Height: 5, Format: Format, Chunks: [][]byte{make([]byte, 32)}, AppHash: make([]byte, 32), Size: 10, Keys: 1}
	if err := good.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(m *Metadata){
		"height 0":      func(m *Metadata) { m.Height = 0 },
		"format 2":      func(m *Metadata) { m.Format = 2 },
		"chunks none":   func(m *Metadata) { m.Chunks = nil },
		"app hash":      func(m *Metadata) { m.AppHash = m.AppHash[:5] },
		"do not make":   func(m *Metadata) { m.Size = ChunkSize + 1 },
		"hash of chunk": func(m *Metadata) { m.Chunks = [][]byte{{1}} },
	} {
		m := good
		edit(&m)
		if err := m.ValidateBasic(); !errors.Is(err, ErrBadMetadata) || !strings.Contains(err.Error(), strings.Fields(name)[0]) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, stream := range map[string][]byte{
		"truncated":  {3, 'a', 'b'},
		"not after":  {1, 'b', 1, 'x', 1, 'a', 1, 'y'},
		"after the":  {1, 'a', 1, 'x', 1, 'b', 1, 'y', 9},
		"limit":      append([]byte{1, 'a'}, 0xff, 0xff, 0xff, 0xff, 0x7f),
		"key length": {0x80},
	} {
		if _, err := ReadStream(bytes.NewReader(stream), 2); !errors.Is(err, ErrBadStream) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := Apply(mustCommitted(t), good, nil); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("restore into a used store: %v", err)
	}
}

func mustCommitted(t *testing.T) store.Store {
	st := store.NewMem()
	if err := st.Commit(1, nil); err != nil {
		t.Fatal(err)
	}
	return st
}
