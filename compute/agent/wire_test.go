package agent

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/compute/challenge"
	"github.com/inferd/inferd/compute/matmul"
	"github.com/inferd/inferd/compute/spotcheck"
	"github.com/inferd/inferd/keys"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// fixture is a committed n=256 challenge with its honest answer.
func fixture(t testing.TB) (*ledgercompute.ChallengeInfo, []byte) {
	seed := sha256.Sum256([]byte("wire seed"))
	check := sha256.Sum256([]byte("wire check"))
	prov := keys.Address{1, 2, 3}
	ch, _ := challenge.New(seed, 256)
	c, tree := spotcheck.Solve(ch, matmul.CPU{})
	idx, _ := spotcheck.Select(check, 256, 16)
	root := tree.Root()
	ci := &ledgercompute.ChallengeInfo{Epoch: 4, Provider: prov, Seed: seed[:], N: 256, K: 16, Root: root[:], CheckSeed: check[:], Rows: idx}
	return ci, EncodeRows(prov, 4, c, 256, tree, idx)
}

func TestCheckHonestAndForged(t *testing.T) {
	ci, data := fixture(t)
	m, err := DecodeRows(data)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := Check(ci, m); err != nil || v != ledgercompute.VerdictPass {
		t.Fatalf("honest: %q %v", v, err)
	}
	// Tampered value with the old proof: not the provider's doing.
	m2, _ := DecodeRows(data)
	m2.Rows[3].Values[0] ^= 1
	if _, err := Check(ci, m2); !errors.Is(err, errNotAttributable) {
		t.Fatalf("tampered value: %v", err)
	}
	// Rows swapped, one missing, another provider's name or epoch.
	m3, _ := DecodeRows(data)
	m3.Rows[0], m3.Rows[1] = m3.Rows[1], m3.Rows[0]
	m4, _ := DecodeRows(data)
	m4.Rows = m4.Rows[:15]
	m5, _ := DecodeRows(data)
	m5.Provider = keys.Address{9}
	m6, _ := DecodeRows(data)
	m6.Epoch++
	m7, _ := DecodeRows(data)
	m7.Rows[2].Proof[0][0] ^= 1
	for i, bad := range []*RowsMsg{m3, m4, m5, m6, m7} {
		if _, err := Check(ci, bad); !errors.Is(err, errNotAttributable) {
			t.Fatalf("forgery %d: %v", i, err)
		}
	}
	// A wrong product committed honestly is attributable: wrong_row.
	seed := [32]byte(ci.Seed)
	ch2, _ := challenge.New(seed, 256)
	cg, tg := spotcheck.Solve(ch2, garbler{matmul.CPU{}})
	rootg := tg.Root()
	cig := *ci
	cig.Root = rootg[:]
	mg, _ := DecodeRows(EncodeRows(ci.Provider, 4, cg, 256, tg, ci.Rows))
	if v, err := Check(&cig, mg); err != nil || v != ledgercompute.VerdictWrongRow {
		t.Fatalf("wrong product: %q %v", v, err)
	}
}

func TestDecodeRowsRefuses(t *testing.T) {
	_, data := fixture(t)
	big := make([]byte, MaxRowsMsgBytes+1)
	m, _ := DecodeRows(data)
	m.Version = 2
	v2 := codec.MustMarshal(m)
	m, _ = DecodeRows(data)
	m.Rows = nil
	none := codec.MustMarshal(m)
	m, _ = DecodeRows(data)
	m.Rows[0].Values = m.Rows[0].Values[:5]
	odd := codec.MustMarshal(m)
	for i, bad := range [][]byte{nil, {0xff}, data[:len(data)-1], append(append([]byte(nil), data...), 0), big, v2, none, odd} {
		if _, err := DecodeRows(bad); !errors.Is(err, ErrBadMessage) {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}

// FuzzDecodeAndCheck: no input panics the decoder or the checker, and none
// but the real answer passes.
func FuzzDecodeAndCheck(f *testing.F) {
	ci, data := fixture(f)
	f.Add(data)
	f.Add(data[:100])
	f.Add([]byte{0x85, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeRows(b)
		if err != nil {
			return
		}
		v, err := Check(ci, m)
		if err == nil && v == ledgercompute.VerdictPass && string(b) != string(data) {
			t.Fatalf("a different message passed")
		}
	})
}
