package consensus_test

import (
	"errors"
	"testing"

	"github.com/inferd/inferd/consensus"
)

func TestMachineInputErrors(t *testing.T) {
	tv, set := testVals(t, 10, 10, 10, 10)
	m, err := consensus.NewMachine(consensus.Config{Self: tv[1].addr}, 5, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	vote := func(h uint64, r int32, who int) *consensus.Vote {
		v := &consensus.Vote{Type: consensus.Prevote, Height: h, Round: r, Validator: tv[who].addr}
		consensus.Sign(tv[who].priv, chainID, v)
		return v
	}
	if _, err := m.Step(vote(4, 0, 0)); !errors.Is(err, consensus.ErrOldHeight) {
		t.Errorf("old height: %v", err)
	}
	if _, err := m.Step(vote(7, 0, 0)); !errors.Is(err, consensus.ErrFutureHeight) {
		t.Errorf("far height: %v", err)
	}
	if _, err := m.Step(vote(6, 0, 0)); err != nil {
		t.Errorf("next height must be buffered: %v", err)
	}
	if _, err := m.Step(vote(5, consensus.MaxRoundsAhead+1, 0)); !errors.Is(err, consensus.ErrRoundTooFar) {
		t.Errorf("far round: %v", err)
	}
	v := &consensus.Vote{Type: consensus.Prevote, Height: 5, Validator: addr(0xee), Signature: make([]byte, 64)}
	if _, err := m.Step(v); !errors.Is(err, consensus.ErrUnknownValidator) {
		t.Errorf("unknown validator: %v", err)
	}
	if _, err := m.Step(&consensus.Vote{Type: 9, Height: 5, Signature: make([]byte, 64)}); !errors.Is(err, consensus.ErrMalformed) {
		t.Errorf("malformed: %v", err)
	}
	notProp := tv[(set.ProposerIndex(0)+1)%4]
	p := &consensus.Proposal{Height: 5, POLRound: -1, BlockID: consensus.BlockID{1}, Proposer: notProp.addr, Signature: make([]byte, 64)}
	if _, err := m.Step(p); !errors.Is(err, consensus.ErrWrongProposer) {
		t.Errorf("wrong proposer: %v", err)
	}
	if _, err := m.Step(consensus.NewHeight{Height: 6, Validators: set}); !errors.Is(err, consensus.ErrUnexpectedInput) {
		t.Errorf("NewHeight without commit: %v", err)
	}
	// Votes of more than 1/3 of stake in round 3 make the machine skip there.
	m.Step(vote(5, 3, 0))
	if m.Round() != 0 {
		t.Fatal("skipped on 1/4 of stake")
	}
	m.Step(vote(5, 3, 2))
	if m.Round() != 3 {
		t.Fatalf("round %d after votes of 1/2 of stake in round 3", m.Round())
	}
}

// TestObserverNeverSigns: a node outside the set follows without signing.
func TestObserverNeverSigns(t *testing.T) {
	tv, set := testVals(t, 10, 10, 10)
	m, _ := consensus.NewMachine(consensus.Config{Self: addr(0xee)}, 1, set, nil)
	acts := m.Start()
	for _, who := range []int{0, 1, 2} {
		v := &consensus.Vote{Type: consensus.Prevote, Height: 1, Validator: tv[who].addr}
		consensus.Sign(tv[who].priv, chainID, v)
		more, _ := m.Step(v)
		acts = append(acts, more...)
	}
	more, _ := m.Step(consensus.Timeout{Height: 1, Round: 0, Step: consensus.StepPrevote})
	acts = append(acts, more...)
	for _, a := range acts {
		if _, ok := a.(consensus.SignAndSend); ok {
			t.Fatalf("observer signed: %v", a)
		}
	}
}
