package blocks

import (
	"bytes"
	"errors"
	"testing"
)

// A proof verifies under its proposer's key only, gives the same output
// as ToLedger takes from it, and a block without one is malformed.
func TestBeaconProof(t *testing.T) {
	tv := newVals(t, 7, 1, 1, 1, 1)
	b1, _ := chain2(t, tv)
	prev := make([]byte, 32)
	out, err := VerifyBeacon(&b1.Header, tv.set.Validator(0).PubKey, prev)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := ToLedger(b1, nil)
	if err != nil || !bytes.Equal(lb.BeaconOutput, out) || len(out) != 64 {
		t.Fatalf("ToLedger output %x (%v), verified %x", lb.BeaconOutput, err, out)
	}
	if _, err := VerifyBeacon(&b1.Header, tv.set.Validator(1).PubKey, prev); !errors.Is(err, ErrBadBeacon) {
		t.Fatalf("proof under another validator's key: %v", err)
	}
	if _, err := VerifyBeacon(&b1.Header, tv.set.Validator(0).PubKey, bytes.Repeat([]byte{1}, 32)); !errors.Is(err, ErrBadBeacon) {
		t.Fatalf("proof over another previous beacon: %v", err)
	}
	for _, p := range [][]byte{nil, b1.Header.BeaconProof[:79]} {
		h := b1.Header
		h.BeaconProof = p
		bad := NewBlock(h, b1.Txs, b1.Evidence, b1.LastCommit)
		if err := bad.ValidateBasic(); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%d-byte proof: %v", len(p), err)
		}
		if _, err := Decode(Encode(bad)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("decode of a %d-byte proof: %v", len(p), err)
		}
	}
}

// BenchmarkBeacon: what the beacon adds to a block, proving (the proposer,
// once per proposal) and verifying (every validator, per proposal and per
// synced block).
func BenchmarkBeacon(b *testing.B) {
	tv := newVals(b, 7, 1)
	priv := tv.priv[tv.addr(0)]
	prev := make([]byte, 32)
	b.Run("prove", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ProveBeacon(priv, chainID, uint64(i+1), prev)
		}
	})
	h := Header{ChainID: chainID, Height: 1, Proposer: tv.addr(0), BeaconProof: ProveBeacon(priv, chainID, 1, prev)}
	b.Run("verify", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := VerifyBeacon(&h, tv.set.Validator(0).PubKey, prev); err != nil {
				b.Fatal(err)
			}
		}
	})
}
