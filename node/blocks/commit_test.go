package blocks

import (
	"bytes"
	"errors"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

func TestVerifyCommitThreshold(t *testing.T) {
	id := consensus.BlockID{7}
	cases := []struct {
		name    string
		powers  []int64
		signers []int
		ok      bool
	}{
		{"all sign", []int64{10, 10, 10, 10}, []int{0, 1, 2, 3}, true},
		{"3 of 4", []int64{10, 10, 10, 10}, []int{0, 1, 2}, true},
		{"half", []int64{10, 10, 10, 10}, []int{0, 1}, false},
		// Planted: exactly 2/3 of the power must be refused (3*2 > 2*3 is false).
		{"exactly 2/3 (2 of 3)", []int64{1, 1, 1}, []int{0, 1}, false},
		{"exactly 2/3 by weight", []int64{20, 10}, nil, false}, // signer chosen below: the power-20 one
		{"just over 2/3", []int64{201, 100}, nil, true},        // the power-201 one
		{"one heavy validator", []int64{1000, 1, 1, 1}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tv := newVals(t, 3, tc.powers...)
			signers := tc.signers
			if signers == nil { // the heaviest validator alone
				best := 0
				for i := 0; i < tv.set.Len(); i++ {
					if tv.set.Validator(i).Power > tv.set.Validator(best).Power {
						best = i
					}
				}
				signers = []int{best}
			}
			err := VerifyCommit(chainID, tv.set, tv.commit(5, id, signers...), id)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrInsufficientPower) {
				t.Fatalf("got %v, want ErrInsufficientPower", err)
			}
		})
	}
}

func TestVerifyCommitRefuses(t *testing.T) {
	tv := newVals(t, 4, 10, 10, 10, 10)
	other := newVals(t, 5, 10)
	id := consensus.BlockID{7}
	good := tv.commit(5, id, 0, 1, 2, 3)
	if err := VerifyCommit(chainID, tv.set, good, id); err != nil {
		t.Fatal(err)
	}
	clone := func() Commit {
		c, err := DecodeCommit(EncodeCommit(good))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cases := []struct {
		name   string
		c      func() Commit
		id     consensus.BlockID
		chain  string
		target error
	}{
		{"other block", clone, consensus.BlockID{8}, chainID, ErrInvalidCommit},
		{"other chain", clone, id, "other-chain", ErrInvalidCommit},
		{"one bad signature among a quorum", func() Commit { c := clone(); c.Signatures[3].Signature[5] ^= 1; return c }, id, chainID, ErrInvalidCommit},
		{"signature for another round", func() Commit { c := clone(); c.Round = 1; return c }, id, chainID, ErrInvalidCommit},
		{"signature for another height", func() Commit { c := clone(); c.Height = 6; return c }, id, chainID, ErrInvalidCommit},
		{"same validator twice", func() Commit {
			c := clone()
			c.Signatures = append(c.Signatures[:2], c.Signatures[1], c.Signatures[2])
			return c
		}, id, chainID, ErrInvalidCommit},
		{"unknown signer", func() Commit {
			v := other.precommit(0, 5, 0, id)
			c := clone()
			return MakeCommit(5, 0, id, append(commitVotes(&c), v))
		}, id, chainID, ErrUnknownSigner},
		{"no signatures", func() Commit { c := clone(); c.Signatures = nil; return c }, id, chainID, ErrInvalidCommit},
		{"zero commit", func() Commit { return Commit{} }, id, chainID, ErrInvalidCommit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustFail(t, VerifyCommit(tc.chain, tv.set, tc.c(), tc.id), tc.target, tc.name)
		})
	}
	mustFail(t, VerifyCommit(chainID, nil, good, id), ErrInvalidCommit, "nil set")
}

// A validator counted twice must not lift 2 of 4 over the threshold, even
// if the duplicate slipped past the ordering check.
func TestVerifyCommitCountsEachValidatorOnce(t *testing.T) {
	tv := newVals(t, 4, 10, 10, 10, 10)
	id := consensus.BlockID{7}
	c := tv.commit(5, id, 0, 1)
	c.Signatures = append(c.Signatures, c.Signatures[1])
	if err := VerifyCommit(chainID, tv.set, c, id); err == nil {
		t.Fatal("2 of 4 validators with one repeated accepted")
	}
}

func commitVotes(c *Commit) []*consensus.Vote {
	var out []*consensus.Vote
	for i := range c.Signatures {
		out = append(out, c.Vote(i))
	}
	return out
}

func TestMakeCommitFilters(t *testing.T) {
	tv := newVals(t, 6, 10, 10, 10, 10)
	id := consensus.BlockID{7}
	prevote := tv.precommit(0, 5, 0, id)
	prevote.Type = consensus.Prevote
	votes := []*consensus.Vote{
		tv.precommit(3, 5, 0, id),
		nil,
		prevote,
		tv.precommit(1, 5, 1, id), // other round
		tv.precommit(1, 4, 0, id), // other height
		tv.precommit(2, 5, 0, consensus.BlockID{}), // nil vote
		tv.precommit(0, 5, 0, id),
		tv.precommit(3, 5, 0, id), // repeated
		tv.precommit(2, 5, 0, id),
	}
	c := MakeCommit(5, 0, id, votes)
	var got []keys.Address
	for _, s := range c.Signatures {
		got = append(got, s.Validator)
	}
	want := []keys.Address{tv.addr(0), tv.addr(2), tv.addr(3)}
	if len(got) != len(want) {
		t.Fatalf("signers %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("signers %v, want %v (set order)", got, want)
		}
	}
	if err := VerifyCommit(chainID, tv.set, c, id); err != nil {
		t.Fatal(err)
	}
	if !c.Signed(tv.addr(2)) || c.Signed(tv.addr(1)) {
		t.Fatal("Signed is wrong")
	}
	// The commit owns its signatures.
	votes[6].Signature[0] ^= 1
	if err := VerifyCommit(chainID, tv.set, c, id); err != nil {
		t.Fatalf("commit shares memory with the votes: %v", err)
	}
}

func TestDecodeCommit(t *testing.T) {
	tv := newVals(t, 6, 10, 10, 10)
	c := tv.commit(3, consensus.BlockID{1}, 0, 1, 2)
	got, err := DecodeCommit(EncodeCommit(c))
	if err != nil || got.Hash() != c.Hash() {
		t.Fatalf("round trip: %v", err)
	}
	_, err = DecodeCommit(EncodeCommit(Commit{}))
	mustFail(t, err, ErrInvalidCommit, "zero commit")
	_, err = DecodeCommit(append(EncodeCommit(c), 0))
	mustFail(t, err, ErrMalformed, "trailing byte")
	_, err = DecodeCommit(make([]byte, MaxCommitBytes+1))
	mustFail(t, err, ErrTooLarge, "oversized")
}

func TestToLedger(t *testing.T) {
	tv := newVals(t, 1, 10, 10, 10, 10)
	b1, b2 := chain2(t, tv)
	l1, err := ToLedger(b1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l1.Height != 1 || l1.LastCommit != nil || l1.LastBlockHash != nil || len(l1.Txs) != 2 || l1.Proposer != tv.addr(0) {
		t.Fatalf("block 1: %+v", l1)
	}
	l2, err := ToLedger(b2, tv.set)
	if err != nil {
		t.Fatal(err)
	}
	if l2.Height != 2 || l2.Time != 2e9 || l2.Proposer != tv.addr(1) || !bytes.Equal(l2.LastBlockHash, hashBytes(b1.Hash())) {
		t.Fatalf("block 2 header: %+v", l2)
	}
	want := []ledger.VoteInfo{{Validator: tv.addr(0), Signed: true}, {Validator: tv.addr(1), Signed: true}, {Validator: tv.addr(2), Signed: true}, {Validator: tv.addr(3), Signed: false}}
	if len(l2.LastCommit) != len(want) {
		t.Fatalf("vote infos %+v", l2.LastCommit)
	}
	for i := range want {
		if l2.LastCommit[i] != want[i] {
			t.Fatalf("vote info %d: %+v, want %+v", i, l2.LastCommit[i], want[i])
		}
	}
	if len(l2.Evidence) != 1 {
		t.Fatalf("evidence %+v", l2.Evidence)
	}
	ev := l2.Evidence[0]
	if ev.Kind != "duplicate_vote" || ev.Validator != tv.addr(3) || ev.Height != 1 || ev.Time != 2e9 || !bytes.Equal(ev.Raw, b2.Evidence[0]) {
		t.Fatalf("evidence %+v", ev)
	}
	if err := (EvidenceVerifier{}).VerifyEvidence(chainID, ev, tv.set.Validator(3).PubKey); err != nil {
		t.Fatalf("evidence from a block does not verify: %v", err)
	}
	other := newVals(t, 9, 10, 10)
	if _, err := ToLedger(b2, other.set); !errors.Is(err, ErrUnknownSigner) {
		t.Fatalf("last commit signed by validators outside the set: %v", err)
	}
	if _, err := ToLedger(b2, nil); !errors.Is(err, ErrUnknownSigner) {
		t.Fatalf("no set for a last commit: %v", err)
	}
}

func TestEvidenceVerifier(t *testing.T) {
	tv := newVals(t, 1, 10, 10)
	raw := tv.duplicateVote(1, 4)
	pub := tv.set.Validator(1).PubKey
	good := ledger.Evidence{Kind: EvidenceKindDuplicateVote, Validator: tv.addr(1), Height: 4, Raw: raw}
	var v ledger.EvidenceVerifier = EvidenceVerifier{}
	if err := v.VerifyEvidence(chainID, good, pub); err != nil {
		t.Fatal(err)
	}
	bad := func(name string, ev ledger.Evidence, pub keys.PubKey, chain string) {
		t.Helper()
		if err := v.VerifyEvidence(chain, ev, pub); !errors.Is(err, consensus.ErrBadEvidence) {
			t.Fatalf("%s: %v, want ErrBadEvidence", name, err)
		}
	}
	bad("wrong key", good, tv.set.Validator(0).PubKey, chainID)
	bad("wrong chain", good, pub, "other")
	e := good
	e.Kind = "light_client_attack"
	bad("kind", e, pub, chainID)
	e = good
	e.Validator = tv.addr(0)
	bad("other validator named", e, pub, chainID)
	e = good
	e.Height = 3
	bad("other height named", e, pub, chainID)
	e = good
	e.Raw = bytes.Clone(raw)
	e.Raw[len(e.Raw)-1] ^= 1
	bad("signature flipped", e, pub, chainID)
	e.Raw = raw[:10]
	bad("truncated", e, pub, chainID)
}

func hashBytes(id consensus.BlockID) []byte { return id[:] }

func FuzzDecodeCommit(f *testing.F) {
	tv := newVals(f, 6, 10, 10, 10)
	good := EncodeCommit(tv.commit(3, consensus.BlockID{1}, 0, 1, 2))
	f.Add(good)
	f.Add(EncodeCommit(tv.commit(3, consensus.BlockID{1}, 0)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := DecodeCommit(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeCommit(c), raw) {
			t.Fatal("accepted a commit whose encoding is not the input")
		}
		if len(c.Signatures) == 0 || len(c.Signatures) > MaxCommitSigs {
			t.Fatalf("accepted %d signatures", len(c.Signatures))
		}
		for i, s := range c.Signatures {
			if !c.Signed(s.Validator) || c.Vote(i).ValidateBasic() != nil {
				t.Fatalf("signature %d: not found by Signed or not a valid precommit", i)
			}
		}
		// Only the commit the validators signed verifies.
		if err := VerifyCommit(chainID, tv.set, c, c.BlockID); err == nil && !bytes.Equal(raw, good) {
			t.Fatal("a commit nobody signed verified")
		}
	})
}
