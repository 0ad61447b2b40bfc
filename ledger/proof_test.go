package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger/store"
)

// churn is a module that, at every block, sets and deletes keys chosen
// from the height, so that buckets change, empty and refill.
type churn struct{}

func (churn) Name() string                                   { return "churn" }
func (churn) MsgTypes() []string                             { return nil }
func (churn) ValidateGenesis(*Genesis) error                 { return nil }
func (churn) Handle(*Context, keys.Address, Msg) error       { return errors.New("no messages") }
func (churn) EndBlock(*Context) error                        { return nil }
func (churn) ChargeFee(*Context, keys.Address, uint64) error { return nil }
func (churn) MinFee(*Context) uint64                         { return 0 }

func churnKey(i uint64) []byte { return []byte(fmt.Sprintf("churn/%d", i)) }

func (churn) InitGenesis(ctx *Context, _ *Genesis) error {
	for i := uint64(0); i < 300; i++ {
		ctx.Set(churnKey(i), []byte("genesis"))
	}
	return nil
}

func (churn) BeginBlock(ctx *Context, b *BlockInfo) error {
	x := b.Height * 2654435761
	for j := uint64(0); j < 20; j++ {
		x = x*6364136223846793005 + 1442695040888963407
		k := churnKey(x >> 55) // 0..511
		if x&1 == 0 {
			ctx.Delete(k)
		} else {
			ctx.Set(k, binary.BigEndian.AppendUint64(nil, b.Height))
		}
	}
	return nil
}

func newChurnState(t *testing.T, st store.Store) *State {
	t.Helper()
	s, err := New(st, []Module{churn{}}, churn{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestProveRecentMatchesRebuild checks the undo-log path against the
// rebuild-from-store path at every height, for present and absent keys,
// and that a height beyond the window still proves (by rebuilding).
func TestProveRecentMatchesRebuild(t *testing.T) {
	st := store.NewMem()
	s := newChurnState(t, st)
	g := &Genesis{ChainID: "proof-test", GenesisTime: time.Unix(1, 0).UTC(),
		Validators: []GenesisValidator{{Operator: keys.Address{1}, ConsPubKey: make([]byte, 32), Moniker: "v", SelfBond: 1}}}
	if _, err := s.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	const blocks = ProofWindow + 10
	for h := uint64(1); h <= blocks; h++ {
		if _, err := s.ApplyBlock(&Block{Height: h, Time: int64(h) * 1e9, Proposer: keys.Address{1}}); err != nil {
			t.Fatal(err)
		}
	}
	fresh := newChurnState(t, st) // same store, empty undo log: always rebuilds
	for _, h := range []uint64{0, blocks - ProofWindow - 1, blocks - ProofWindow, blocks - 1, blocks} {
		for _, i := range []uint64{7, 299, 511, 9999} {
			k := churnKey(i)
			got, err := s.Prove(h, k)
			if err != nil {
				t.Fatalf("height %d key %s: %v", h, k, err)
			}
			want, err := fresh.Prove(h, k)
			if err != nil {
				t.Fatalf("rebuild, height %d key %s: %v", h, k, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("height %d key %s: undo-log proof differs from the rebuilt one", h, k)
			}
			if len(got.Proof.Siblings) != bucketBits {
				t.Fatalf("%d siblings", len(got.Proof.Siblings))
			}
		}
	}
	if len(s.undo) != ProofWindow {
		t.Fatalf("undo log holds %d heights, want %d", len(s.undo), ProofWindow)
	}
}

func TestProveRefusesMetaAndUnknownHeight(t *testing.T) {
	st := store.NewMem()
	s := newChurnState(t, st)
	g := &Genesis{ChainID: "proof-test", GenesisTime: time.Unix(1, 0).UTC(),
		Validators: []GenesisValidator{{Operator: keys.Address{1}, ConsPubKey: make([]byte, 32), Moniker: "v", SelfBond: 1}}}
	if _, err := s.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prove(0, keyMetaAppHash); !errors.Is(err, ErrNotProvable) {
		t.Fatalf("meta key: %v", err)
	}
	if _, err := s.Prove(0, nil); !errors.Is(err, ErrNotProvable) {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := s.Prove(5, churnKey(1)); !errors.Is(err, store.ErrUnknownHeight) {
		t.Fatalf("uncommitted height: %v", err)
	}
}
