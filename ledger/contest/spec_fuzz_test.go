package contest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// FuzzDecodeSpec: the CBOR spec a contest/create proposal carries, as any
// proposer may write it, is decoded and validated by every validator
// during block execution. Neither may panic; an accepted value is
// canonical; validation of anything lists a bounded number of problems,
// each naming a field.
func FuzzDecodeSpec(f *testing.F) {
	designer := keys.Address{1, 2, 3}
	good := testSpec(designer)
	f.Add(codec.MustMarshal(good))
	list := good
	list.Validators = ValidatorPolicy{Policy: ValidatorsList, List: []keys.Address{{9}, {8}}, QuorumPPM: 500_000}
	f.Add(codec.MustMarshal(list))
	sealed := good
	sealed.Datasets = []Dataset{{Name: "s", Policy: PolicySealed, Commitment: make([]byte, 32)}}
	f.Add(codec.MustMarshal(sealed))
	f.Add(codec.MustMarshal(Spec{}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := DecodeSpec(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("decode error %v is not ErrInvalidSpec", err)
			}
			return
		}
		if !bytes.Equal(codec.MustMarshal(s), raw) {
			t.Fatal("accepted a spec that re-encodes differently")
		}
		ps := s.Problems()
		// Per-entry problems only below the list caps: at most a few per
		// dataset and per listed validator, and a fixed number besides.
		if len(ps) > 3*MaxDatasets+MaxListValidators+40 {
			t.Fatalf("%d problems", len(ps))
		}
		for _, p := range ps {
			if p.Field == "" || len(p.Reason) > 512 {
				t.Fatalf("problem %q: %.80q (%d bytes)", p.Field, p.Reason, len(p.Reason))
			}
		}
		if (len(ps) == 0) != (s.Validate() == nil) {
			t.Fatal("Validate and Problems disagree")
		}
	})
}

// TestSpecProblemsBoundedPastListCaps: a spec with a list far over its cap
// gets one problem for it, not one per entry.
func TestSpecProblemsBoundedPastListCaps(t *testing.T) {
	s := testSpec(keys.Address{1})
	s.Datasets = make([]Dataset, 10_000)
	s.Validators = ValidatorPolicy{Policy: ValidatorsList, List: make([]keys.Address, 10_000), QuorumPPM: 1}
	ps := s.Problems()
	if len(ps) != 2 {
		t.Fatalf("%d problems: %v", len(ps), ps)
	}
	long := testSpec(keys.Address{1})
	long.Evaluator = Evaluator{Wasm: string(bytes.Repeat([]byte{'b'}, 60_000))}
	for _, p := range long.Problems() {
		if len(p.Reason) > 200 {
			t.Fatalf("%s: a %d-byte reason", p.Field, len(p.Reason))
		}
	}
}
