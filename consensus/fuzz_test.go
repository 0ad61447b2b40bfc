package consensus_test

import (
	"bytes"
	"testing"

	"github.com/inferd/inferd/consensus"
)

// FuzzMachineStep feeds arbitrary wire bytes to DecodeMessage and whatever
// decodes to a Machine (as if its signature had been checked): the Machine
// must never panic, and errors must leave it usable.
func FuzzMachineStep(f *testing.F) {
	tv, set := testVals(f, 10, 20, 30, 40)
	for _, m := range []consensus.Message{
		&consensus.Proposal{Height: 1, Round: 0, POLRound: -1, BlockID: consensus.BlockID{1}, Proposer: tv[set.ProposerIndex(0)].addr},
		&consensus.Vote{Type: consensus.Prevote, Height: 1, Round: 2, BlockID: consensus.BlockID{1}, Validator: tv[1].addr},
		&consensus.Vote{Type: consensus.Precommit, Height: 2, Round: 0, Validator: tv[2].addr},
	} {
		consensus.Sign(tv[0].priv, chainID, m)
		f.Add(consensus.EncodeMessage(m))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _ := consensus.NewMachine(consensus.Config{Self: tv[0].addr}, 1, set, nil)
		m.Start()
		// Split data into several messages at 0xff bytes.
		start := 0
		for i := 0; i <= len(data); i++ {
			if i == len(data) || data[i] == 0xff {
				if msg, err := consensus.DecodeMessage(data[start:i]); err == nil {
					_, _ = m.Step(msg)
				}
				start = i + 1
			}
		}
		_, _ = m.Step(consensus.Timeout{Height: 1, Round: m.Round(), Step: consensus.StepPrecommit})
	})
}

// FuzzDecodeMessage: gossip of the consensus topic. DecodeMessage never
// panics; what it accepts is well formed and canonical (re-encodes to the
// input), and Verify against the set runs on it without panicking.
func FuzzDecodeMessage(f *testing.F) {
	tv, set := testVals(f, 10, 20, 30, 40)
	for _, m := range []consensus.Message{
		&consensus.Proposal{Height: 3, Round: 1, POLRound: 0, BlockID: consensus.BlockID{9}, Proposer: tv[set.ProposerIndex(1)].addr},
		&consensus.Vote{Type: consensus.Precommit, Height: 3, Round: 0, BlockID: consensus.BlockID{9}, Validator: tv[3].addr},
		&consensus.Vote{Type: consensus.Prevote, Height: 1, Round: consensus.MaxRound, Validator: tv[0].addr},
	} {
		consensus.Sign(tv[0].priv, chainID, m)
		f.Add(consensus.EncodeMessage(m))
	}
	f.Add([]byte{2, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := consensus.DecodeMessage(data)
		if err != nil {
			return
		}
		if err := m.ValidateBasic(); err != nil {
			t.Fatalf("accepted a message ValidateBasic refuses: %v", err)
		}
		if !bytes.Equal(consensus.EncodeMessage(m), data) {
			t.Fatalf("accepted %x, re-encodes as %x", data, consensus.EncodeMessage(m))
		}
		_ = consensus.Verify(chainID, set, m)
		_ = consensus.RecordOf(m).Allows(m)
	})
}

// FuzzDecodeEvidence: evidence arrives on the evidence topic and inside
// blocks. Decoding never panics, accepts only canonical bytes, and Verify
// with any validator's key runs without panicking; only real equivocation
// (two validly signed, different votes) verifies.
func FuzzDecodeEvidence(f *testing.F) {
	tv, _ := testVals(f, 10, 20)
	a := &consensus.Vote{Type: consensus.Prevote, Height: 4, Round: 2, BlockID: consensus.BlockID{1}, Validator: tv[0].addr}
	b := &consensus.Vote{Type: consensus.Prevote, Height: 4, Round: 2, BlockID: consensus.BlockID{2}, Validator: tv[0].addr}
	consensus.Sign(tv[0].priv, chainID, a)
	consensus.Sign(tv[0].priv, chainID, b)
	good := consensus.NewDuplicateVoteEvidence(a, b).Encode()
	f.Add(good)
	f.Add(consensus.NewDuplicateVoteEvidence(a, a).Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := consensus.DecodeDuplicateVoteEvidence(data)
		if err != nil {
			return
		}
		if !bytes.Equal(ev.Encode(), data) {
			t.Fatalf("accepted %x, re-encodes as %x", data, ev.Encode())
		}
		for _, v := range tv {
			if err := ev.Verify(chainID, v.pub); err == nil {
				if v.addr != ev.Validator() || ev.VoteA.BlockID == ev.VoteB.BlockID {
					t.Fatalf("evidence verified for %s, not an equivocation of it", v.addr)
				}
			}
		}
	})
}

// FuzzDecodeValidatorSet: the validator-set file (data/valsets.cbor) and
// the block store's sets. A decoded set is canonical (Encode gives the
// input back: addresses ascending), within the power bounds, and usable:
// proposers of the first rounds, advancing, hashing.
func FuzzDecodeValidatorSet(f *testing.F) {
	_, set := testVals(f, 10, 20, 30)
	f.Add(set.Encode())
	next, err := set.Advance(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(next.Encode())
	_, one := testVals(f, 1)
	f.Add(one.Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		vs, err := consensus.DecodeValidatorSet(data)
		if err != nil {
			return
		}
		if !bytes.Equal(vs.Encode(), data) {
			t.Fatalf("accepted %x, re-encodes as %x", data, vs.Encode())
		}
		if vs.Len() == 0 || vs.Len() > consensus.MaxValidators || vs.TotalPower() <= 0 || vs.TotalPower() > consensus.MaxTotalPower {
			t.Fatalf("accepted a set of %d validators with total power %d", vs.Len(), vs.TotalPower())
		}
		for r := int32(0); r < 4; r++ {
			if i := vs.ProposerIndex(r); i < 0 || i >= vs.Len() {
				t.Fatalf("proposer index %d of %d", i, vs.Len())
			}
		}
		_ = vs.Hash()
		if _, err := vs.Advance(nil); err != nil {
			t.Fatalf("a decoded set does not advance: %v", err)
		}
	})
}

// FuzzDecodeState: the State a WAL record carries. Decoding never panics
// and accepts only canonical bytes; a restored state either starts a
// Machine or is refused by NewMachine, without panicking.
func FuzzDecodeState(f *testing.F) {
	tv, set := testVals(f, 10, 20, 30, 40)
	pv := consensus.Vote{Type: consensus.Prevote, Height: 1, Round: 0, BlockID: consensus.BlockID{1}, Validator: tv[1].addr}
	consensus.Sign(tv[1].priv, chainID, &pv)
	for _, s := range []consensus.State{
		{Height: 1, LockedRound: -1, ValidRound: -1},
		{Height: 1, Round: 0, Step: consensus.StepPrecommit, LockedRound: 0, LockedBlock: consensus.BlockID{1}, ValidRound: 0, ValidBlock: consensus.BlockID{1},
			LastSigned: consensus.SignedRecord{Height: 1, Step: consensus.StepPrecommit, BlockID: consensus.BlockID{1}, POLRound: -1}, ValidPOL: []consensus.Vote{pv}},
	} {
		f.Add(s.Encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := consensus.DecodeState(data)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Encode(), data) {
			t.Fatalf("accepted %x, re-encodes as %x", data, s.Encode())
		}
		if s.Height == 0 || s.Height > 1<<40 {
			return
		}
		m, err := consensus.NewMachine(consensus.Config{Self: tv[0].addr}, s.Height, set, &s)
		if err != nil {
			return
		}
		m.Start()
		_, _ = m.Step(consensus.Timeout{Height: s.Height, Round: m.Round(), Step: consensus.StepPrecommit})
	})
}
