package consensus_test

import (
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
