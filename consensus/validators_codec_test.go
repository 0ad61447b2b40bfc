package consensus

import (
	"math/rand"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

func TestValidatorSetEncodeKeepsPriorities(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	var vals []Validator
	for i := 0; i < 5; i++ {
		pub, _, _ := keys.Generate(r)
		vals = append(vals, Validator{Address: keys.AddressOf(pub), PubKey: pub, Power: int64(1 + i*3)})
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		if vs, err = vs.Advance(nil); err != nil {
			t.Fatal(err)
		}
	}
	back, err := DecodeValidatorSet(vs.Encode())
	if err != nil {
		t.Fatal(err)
	}
	a, b := vs, back
	for h := 0; h < 20; h++ {
		for r := int32(0); r < 3; r++ {
			if a.ProposerIndex(r) != b.ProposerIndex(r) {
				t.Fatalf("height +%d round %d: proposers differ after a round trip", h, r)
			}
		}
		a, _ = a.Advance(nil)
		b, _ = b.Advance(nil)
	}
	bad := encodedSet{Vals: []encodedValidator{{Address: keys.Address{1}, Power: 1, Priority: 1 << 62}}}
	if _, err := DecodeValidatorSet(codec.MustMarshal(bad)); err == nil {
		t.Fatal("out-of-range priority decoded")
	}
	if _, err := DecodeValidatorSet([]byte{0x80}); err == nil {
		t.Fatal("empty set decoded")
	}
}
