package statesync

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/light"
	"github.com/inferd/inferd/node/blocks"
)

// pool is a fixed set of validator keys; a chain's sets are subsets of it.
type pool struct {
	vals []consensus.Validator
	priv map[keys.Address]keys.PrivKey
}

func newPool(t *testing.T, n int) pool {
	r := rand.New(rand.NewSource(7))
	p := pool{priv: map[keys.Address]keys.PrivKey{}}
	for i := 0; i < n; i++ {
		pub, priv, _ := keys.Generate(r)
		p.priv[keys.AddressOf(pub)] = priv
		p.vals = append(p.vals, consensus.Validator{Address: keys.AddressOf(pub), PubKey: pub, Power: 10})
	}
	return p
}

func (p pool) set(t *testing.T, idx []int) *consensus.ValidatorSet {
	var vs []consensus.Validator
	for _, i := range idx {
		vs = append(vs, p.vals[i])
	}
	s, err := consensus.NewValidatorSet(vs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Unix(1_700_000_000, 0)

// chain is a map provider: height -> light block, each signed by its whole
// set, the set of height h being sets(h).
type chain map[uint64]*light.LightBlock

func (c chain) LightBlock(h uint64) (*light.LightBlock, error) {
	if lb, ok := c[h]; ok {
		return lb, nil
	}
	return nil, fmt.Errorf("no block %d", h)
}

func makeChain(t *testing.T, p pool, top uint64, app [32]byte, sets func(h uint64) []int) chain {
	c := chain{}
	for h := uint64(1); h <= top; h++ {
		set := p.set(t, sets(h))
		hdr := blocks.Header{ChainID: testChainID, Height: h, Time: t0.Add(time.Duration(h) * time.Second).UnixNano(), AppHash: [32]byte{byte(h)}, Proposer: set.Validator(0).Address, ValidatorsHash: set.Hash()}
		if h == top {
			hdr.AppHash = app
		}
		id := hdr.Hash()
		var votes []*consensus.Vote
		for i := 0; i < set.Len(); i++ {
			a := set.Validator(i).Address
			v := &consensus.Vote{Type: consensus.Precommit, Height: h, BlockID: id, Validator: a}
			consensus.Sign(p.priv[a], testChainID, v)
			votes = append(votes, v)
		}
		c[h] = &light.LightBlock{Header: hdr, Commit: blocks.MakeCommit(h, 0, id, votes), Validators: set}
	}
	return c
}

func lightOpts() light.Options { return light.Options{Now: t0.Add(time.Hour)} }

func genesisTrust(p pool, t *testing.T, idx []int) light.TrustedState {
	return light.TrustedState{ChainID: testChainID, Height: 0, Time: t0, Validators: p.set(t, idx)}
}

// The set at the snapshot is {2,3,4,5}; genesis was {0,1,2,3}: half the
// trusted power (more than 1/3) still signs, so the header verifies
// directly. With a snapshot whose app hash differs, it is refused.
func TestLightSetChangedPartly(t *testing.T) {
	p := newPool(t, 8)
	st, app := testState(t, 50, 10, 32)
	_, m := snapshotOf(t, st, 50, app)
	c := makeChain(t, p, 51, app, func(h uint64) []int {
		if h < 20 {
			return []int{0, 1, 2, 3}
		}
		return []int{2, 3, 4, 5}
	})
	lb, err := VerifyHeaderLight(genesisTrust(p, t, []int{0, 1, 2, 3}), c, m, lightOpts())
	if err != nil {
		t.Fatalf("set changed by half: %v", err)
	}
	if lb.Header.Height != 51 || lb.Validators.Hash() != p.set(t, []int{2, 3, 4, 5}).Hash() {
		t.Fatalf("verified block %d with set %x", lb.Header.Height, lb.Validators.Hash())
	}
	c = makeChain(t, p, 51, [32]byte{9}, func(h uint64) []int {
		if h < 20 {
			return []int{0, 1, 2, 3}
		}
		return []int{2, 3, 4, 5}
	})
	if _, err := VerifyHeaderLight(genesisTrust(p, t, []int{0, 1, 2, 3}), c, m, lightOpts()); !errors.Is(err, ErrAppHash) {
		t.Fatalf("header with another app hash: %v", err)
	}
}

// A set that changed entirely in one step (no intermediate header the old
// set signs together with the new one) is refused with ErrNeedNewerTrust.
// A set that changed entirely through an overlapping step verifies by
// bisection.
func TestLightSetChangedEntirely(t *testing.T) {
	p := newPool(t, 8)
	st, app := testState(t, 50, 10, 32)
	_, m := snapshotOf(t, st, 50, app)
	c := makeChain(t, p, 51, app, func(h uint64) []int {
		if h < 20 {
			return []int{0, 1, 2, 3}
		}
		return []int{4, 5, 6, 7}
	})
	_, err := VerifyHeaderLight(genesisTrust(p, t, []int{0, 1, 2, 3}), c, m, lightOpts())
	if !errors.Is(err, ErrNeedNewerTrust) || !errors.Is(err, light.ErrInsufficientTrust) {
		t.Fatalf("entirely new set: %v", err)
	}
	t.Log(err)
	c = makeChain(t, p, 51, app, func(h uint64) []int {
		switch {
		case h < 10:
			return []int{0, 1, 2, 3}
		case h < 30:
			return []int{2, 3, 4, 5}
		}
		return []int{4, 5, 6, 7}
	})
	if _, err := VerifyHeaderLight(genesisTrust(p, t, []int{0, 1, 2, 3}), c, m, lightOpts()); err != nil {
		t.Fatalf("entirely new set reached by bisection: %v", err)
	}
}

// trust_height + trust_hash: the trusted header's hash and set are
// checked; a snapshot well above trust_height then verifies from it.
func TestLightTrustHash(t *testing.T) {
	p := newPool(t, 8)
	st, app := testState(t, 50, 10, 32)
	_, m := snapshotOf(t, st, 50, app)
	c := makeChain(t, p, 51, app, func(h uint64) []int {
		if h < 30 {
			return []int{0, 1, 2, 3}
		}
		return []int{4, 5, 6, 7}
	})
	// Trusting genesis, the jump is too large...
	if _, err := VerifyHeaderLight(genesisTrust(p, t, []int{0, 1, 2, 3}), c, m, lightOpts()); !errors.Is(err, ErrNeedNewerTrust) {
		t.Fatalf("from genesis: %v", err)
	}
	// ... trusting header 35 (the new set), the snapshot of 50 is accepted.
	id := c[35].Header.Hash()
	tr, err := TrustFrom(testChainID, c[35], 35, id[:])
	if err != nil {
		t.Fatalf("trusted header: %v", err)
	}
	if _, err := VerifyHeaderLight(tr, c, m, lightOpts()); err != nil {
		t.Fatalf("snapshot above trust_height: %v", err)
	}
	// A wrong trust hash is refused.
	other := c[34].Header.Hash()
	if _, err := TrustFrom(testChainID, c[35], 35, other[:]); !errors.Is(err, ErrTrustHash) {
		t.Fatalf("trust hash mismatch: %v", err)
	}
	// A validator set other than the one the trusted header names is refused.
	lb := *c[35]
	lb.Validators = p.set(t, []int{0, 1, 2, 3})
	if _, err := TrustFrom(testChainID, &lb, 35, id[:]); !errors.Is(err, light.ErrValidatorSetMismatch) {
		t.Fatalf("trusted header with another set: %v", err)
	}
	// A snapshot below the trusted height is refused.
	if _, err := VerifyHeaderLight(light.TrustedState{ChainID: testChainID, Height: 60, Time: t0, Validators: tr.Validators}, c, m, lightOpts()); err == nil {
		t.Fatal("snapshot below the trusted height accepted")
	}
}
