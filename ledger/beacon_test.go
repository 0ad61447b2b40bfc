package ledger

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger/store"
)

// seen records the beacon values begin-block was given.
type seen struct {
	churn
	beacons, prevs [][]byte
}

func (s *seen) BeginBlock(ctx *Context, b *BlockInfo) error {
	s.beacons, s.prevs = append(s.beacons, b.Beacon), append(s.prevs, b.PrevBeacon)
	return nil
}

func beaconState(t *testing.T, chainID string) (*State, *seen) {
	t.Helper()
	m := &seen{}
	s, err := New(store.NewMem(), []Module{m}, m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := &Genesis{ChainID: chainID, GenesisTime: time.Unix(1, 0).UTC(),
		Validators: []GenesisValidator{{Operator: keys.Address{1}, ConsPubKey: make([]byte, 32), Moniker: "v", SelfBond: 1}}}
	if _, err := s.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	return s, m
}

func currentBeacon(t *testing.T, s *State) Beacon {
	t.Helper()
	var b Beacon
	h, _ := s.Height()
	if err := s.Query(h, func(ctx *Context) error { b = CurrentBeacon(ctx); return nil }); err != nil {
		t.Fatal(err)
	}
	return b
}

// The beacon starts from the genesis (two chains get two seeds), moves at
// every block by exactly NextBeacon(prev, output), hands modules this and
// the previous value, is part of the app hash (another output, another
// hash) and refuses an output of the wrong length.
func TestBeaconChainsVRFOutputs(t *testing.T) {
	a, ma := beaconState(t, "beacon-a")
	b, _ := beaconState(t, "beacon-b")
	g := currentBeacon(t, a)
	if bytes.Equal(g.Value, currentBeacon(t, b).Value) || bytes.Equal(g.Value, make([]byte, 32)) {
		t.Fatalf("genesis beacons of two chains: %x and %x", g.Value, currentBeacon(t, b).Value)
	}
	out1, out2 := bytes.Repeat([]byte{1}, BeaconOutputSize), bytes.Repeat([]byte{2}, BeaconOutputSize)
	ra, err := a.ApplyBlock(&Block{Height: 1, Time: 2e9, Proposer: keys.Address{1}, BeaconOutput: out1})
	if err != nil {
		t.Fatal(err)
	}
	want := NextBeacon(g.Value, out1)
	if got := currentBeacon(t, a); !bytes.Equal(got.Value, want[:]) || !bytes.Equal(got.Prev, g.Value) || got.Height != 1 {
		t.Fatalf("beacon after block 1: %+v, want value %x prev %x", got, want, g.Value)
	}
	if !bytes.Equal(ma.beacons[0], want[:]) || !bytes.Equal(ma.prevs[0], g.Value) {
		t.Fatalf("begin-block saw beacon %x prev %x", ma.beacons[0], ma.prevs[0])
	}
	// Same chain, same block but another VRF output: another app hash.
	c, _ := beaconState(t, "beacon-a")
	rc, err := c.ApplyBlock(&Block{Height: 1, Time: 2e9, Proposer: keys.Address{1}, BeaconOutput: out2})
	if err != nil {
		t.Fatal(err)
	}
	if ra.AppHash == rc.AppHash {
		t.Fatal("the beacon is not in the app hash: two VRF outputs, one state")
	}
	if _, err := a.ApplyBlock(&Block{Height: 2, Time: 3e9, Proposer: keys.Address{1}, BeaconOutput: out1[:10]}); !errors.Is(err, ErrBadBlock) {
		t.Fatalf("a 10-byte beacon output: %v, want ErrBadBlock", err)
	}
}
