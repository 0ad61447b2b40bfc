package agent

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"runtime"
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
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		if !bytes.Equal(EncodeRowsMsg(m), b) {
			t.Fatal("accepted a message that re-encodes differently")
		}
		if len(m.Rows) == 0 || len(m.Rows) > ledgercompute.MaxK {
			t.Fatalf("accepted %d rows", len(m.Rows))
		}
		v, err := Check(ci, m)
		if err == nil && v == ledgercompute.VerdictPass && string(b) != string(data) {
			t.Fatalf("a different message passed")
		}
	})
}

// manyRows is a well-formed rows message of 4 MiB or less whose rows array
// holds count elements (fewer if they do not fit), each the tiny row elem.
func manyRows(t testing.TB, count int, elem []byte) []byte {
	_, data := fixture(t)
	m, _ := DecodeRows(data)
	m.Rows = []Row{}
	head := codec.MustMarshal(m)
	if head[len(head)-1] != 0x80 {
		t.Fatalf("rows are not last: %x", head[len(head)-8:])
	}
	head = head[:len(head)-1]
	count = min(count, (MaxRowsMsgBytes-len(head)-5)/len(elem)) // well-formed: every element is there
	head = append(head, 0x9a, byte(count>>24), byte(count>>16), byte(count>>8), byte(count))
	for range count {
		head = append(head, elem...)
	}
	return head
}

// TestDecodeRowsRefusesManyRowsCheaply: a 4 MiB message of about a
// million tiny rows is refused from the array's header, without decoding
// the rows (before the fix: ~100 MB allocated and over a second spent).
func TestDecodeRowsRefusesManyRowsCheaply(t *testing.T) {
	for _, tc := range []struct {
		name  string
		count int
		elem  []byte
	}{
		{"empty rows", 1 << 20, []byte{0x83, 0x00, 0x40, 0x80}}, // [0, h'', []]
		{"nulls", 1 << 20, []byte{0xf6}},
		{"65 rows", ledgercompute.MaxK + 1, []byte{0x83, 0x00, 0x40, 0x80}},
	} {
		data := manyRows(t, tc.count, tc.elem)
		if _, err := DecodeRows(data); !errors.Is(err, ErrBadMessage) {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		allocs := testing.AllocsPerRun(5, func() { DecodeRows(data) })
		runtime.ReadMemStats(&after)
		perRun := (after.TotalAlloc - before.TotalAlloc) / 6 // AllocsPerRun runs once more to warm up
		if allocs > 100 || perRun > 64<<10 {
			t.Fatalf("%s (%d bytes): %v allocations, %d bytes per decode", tc.name, len(data), allocs, perRun)
		}
	}
}
