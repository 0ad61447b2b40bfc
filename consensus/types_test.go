package consensus_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

type testVal struct {
	pub  keys.PubKey
	priv keys.PrivKey
	addr keys.Address
}

func testVals(t testing.TB, powers ...int64) ([]testVal, *consensus.ValidatorSet) {
	t.Helper()
	r := detReader{rand.New(rand.NewPCG(3, 3))}
	var tv []testVal
	var vals []consensus.Validator
	for _, p := range powers {
		pub, priv, err := keys.Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		tv = append(tv, testVal{pub, priv, keys.AddressOf(pub)})
		vals = append(vals, consensus.Validator{Address: keys.AddressOf(pub), PubKey: pub, Power: p})
	}
	set, err := consensus.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	// Order tv like the set.
	out := make([]testVal, len(tv))
	for _, v := range tv {
		i, _ := set.Index(v.addr)
		out[i] = v
	}
	return out, set
}

func TestEncodeDecodeVerify(t *testing.T) {
	tv, set := testVals(t, 10, 20, 30)
	prop := tv[set.ProposerIndex(0)]
	p := &consensus.Proposal{Height: 7, Round: 0, POLRound: -1, BlockID: consensus.BlockID{1}, Proposer: prop.addr}
	consensus.Sign(prop.priv, chainID, p)
	v := &consensus.Vote{Type: consensus.Precommit, Height: 7, Round: 3, BlockID: consensus.BlockID{2}, Validator: tv[1].addr}
	consensus.Sign(tv[1].priv, chainID, v)
	for _, m := range []consensus.Message{p, v} {
		b := consensus.EncodeMessage(m)
		got, err := consensus.DecodeMessage(b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if string(consensus.EncodeMessage(got)) != string(b) {
			t.Fatal("round trip changed the encoding")
		}
		if err := consensus.Verify(chainID, set, got); err != nil {
			t.Fatalf("verify: %v", err)
		}
		if err := consensus.Verify("other-chain", set, got); !errors.Is(err, consensus.ErrBadSignature) {
			t.Fatalf("other chain id: %v", err)
		}
	}
	// A vote re-signed by a different key, a proposal from a non-proposer.
	v2 := *v
	consensus.Sign(tv[2].priv, chainID, &v2)
	if err := consensus.Verify(chainID, set, &v2); !errors.Is(err, consensus.ErrBadSignature) {
		t.Fatalf("wrong key: %v", err)
	}
	p2 := *p
	p2.Proposer = tv[(set.ProposerIndex(0)+1)%3].addr
	if err := consensus.Verify(chainID, set, &p2); !errors.Is(err, consensus.ErrWrongProposer) {
		t.Fatalf("wrong proposer: %v", err)
	}
	// Tampered content.
	v3 := *v
	v3.Round = 4
	if err := consensus.Verify(chainID, set, &v3); !errors.Is(err, consensus.ErrBadSignature) {
		t.Fatalf("tampered: %v", err)
	}
}

func TestValidateBasic(t *testing.T) {
	sig := make([]byte, 64)
	bad := []consensus.Message{
		&consensus.Proposal{Height: 0, POLRound: -1, BlockID: consensus.BlockID{1}, Signature: sig},
		&consensus.Proposal{Height: 1, Round: 2, POLRound: 2, BlockID: consensus.BlockID{1}, Signature: sig},
		&consensus.Proposal{Height: 1, Round: 2, POLRound: -2, BlockID: consensus.BlockID{1}, Signature: sig},
		&consensus.Proposal{Height: 1, POLRound: -1, Signature: sig},
		&consensus.Proposal{Height: 1, Round: consensus.MaxRound + 1, POLRound: -1, BlockID: consensus.BlockID{1}, Signature: sig},
		&consensus.Vote{Type: 3, Height: 1, Signature: sig},
		&consensus.Vote{Type: consensus.Prevote, Height: 1, Round: -1, Signature: sig},
		&consensus.Vote{Type: consensus.Prevote, Height: 1, Signature: sig[:10]},
	}
	for i, m := range bad {
		if err := m.ValidateBasic(); !errors.Is(err, consensus.ErrMalformed) {
			t.Errorf("case %d: %v", i, err)
		}
		if _, err := consensus.DecodeMessage(consensus.EncodeMessage(m)); err == nil {
			t.Errorf("case %d decoded", i)
		}
	}
}

// TestDecodeNeverPanics feeds random and mutated bytes to DecodeMessage.
func TestDecodeNeverPanics(t *testing.T) {
	tv, _ := testVals(t, 1)
	v := &consensus.Vote{Type: consensus.Prevote, Height: 1, Validator: tv[0].addr}
	consensus.Sign(tv[0].priv, chainID, v)
	good := consensus.EncodeMessage(v)
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 20000; i++ {
		var b []byte
		if i%2 == 0 {
			b = append([]byte(nil), good...)
			for k := 0; k < 1+r.IntN(3); k++ {
				b[r.IntN(len(b))] = byte(r.Uint32())
			}
			b = b[:r.IntN(len(b)+1)]
		} else {
			b = make([]byte, r.IntN(120))
			for k := range b {
				b[k] = byte(r.Uint32())
			}
		}
		m, err := consensus.DecodeMessage(b)
		if err == nil && m.ValidateBasic() != nil {
			t.Fatal("decoded an invalid message")
		}
	}
}

func TestDuplicateVoteEvidence(t *testing.T) {
	tv, _ := testVals(t, 10, 10, 10, 10)
	mk := func(id byte, round int32) *consensus.Vote {
		v := &consensus.Vote{Type: consensus.Prevote, Height: 5, Round: round, BlockID: consensus.BlockID{id}, Validator: tv[0].addr}
		consensus.Sign(tv[0].priv, chainID, v)
		return v
	}
	a, b := mk(9, 1), mk(3, 1)
	e := consensus.NewDuplicateVoteEvidence(a, b)
	if e.VoteA.BlockID[0] != 3 {
		t.Fatal("not in canonical order")
	}
	if err := e.Verify(chainID, tv[0].pub); err != nil {
		t.Fatalf("valid evidence: %v", err)
	}
	back, err := consensus.DecodeDuplicateVoteEvidence(e.Encode())
	if err != nil || back.Verify(chainID, tv[0].pub) != nil {
		t.Fatalf("round trip: %v", err)
	}
	cases := map[string]*consensus.DuplicateVoteEvidence{
		"same block":      {VoteA: *a, VoteB: *a},
		"wrong order":     {VoteA: e.VoteB, VoteB: e.VoteA},
		"different round": consensus.NewDuplicateVoteEvidence(mk(3, 1), mk(9, 2)),
	}
	for name, c := range cases {
		if err := c.Verify(chainID, tv[0].pub); !errors.Is(err, consensus.ErrBadEvidence) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := e.Verify(chainID, tv[1].pub); !errors.Is(err, consensus.ErrBadEvidence) {
		t.Errorf("wrong key: %v", err)
	}
	if err := e.Verify("other", tv[0].pub); !errors.Is(err, consensus.ErrBadEvidence) {
		t.Errorf("wrong chain: %v", err)
	}
	if _, err := consensus.DecodeDuplicateVoteEvidence([]byte{0x82, 0x01}); err == nil {
		t.Error("garbage decoded")
	}
}
