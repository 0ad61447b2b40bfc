package consensus_test

import (
	"fmt"
	"testing"

	"github.com/inferd/inferd/consensus"
)

// BenchmarkVerifyVote is the signature check of one vote (ed25519).
func BenchmarkVerifyVote(b *testing.B) {
	tv, set := testVals(b, 10, 10, 10, 10)
	v := &consensus.Vote{Type: consensus.Prevote, Height: 1, BlockID: consensus.BlockID{1}, Validator: tv[0].addr}
	consensus.Sign(tv[0].priv, chainID, v)
	b.ReportAllocs()
	for b.Loop() {
		if err := consensus.Verify(chainID, set, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepVote is Machine.Step of one verified prevote.
func BenchmarkStepVote(b *testing.B) {
	for _, n := range []int{4, 31, 100} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			powers := make([]int64, n)
			for i := range powers {
				powers[i] = int64(1 + i%7)
			}
			tv, set := testVals(b, powers...)
			const rounds = 500
			votes := make([]*consensus.Vote, 0, rounds*n)
			for r := int32(0); r < rounds; r++ {
				for i := range tv {
					v := &consensus.Vote{Type: consensus.Prevote, Height: 1, Round: r, BlockID: consensus.BlockID{byte(r)}, Validator: tv[i].addr, Signature: make([]byte, 64)}
					votes = append(votes, v)
				}
			}
			var m *consensus.Machine
			k := len(votes)
			b.ReportAllocs()
			for b.Loop() {
				if k == len(votes) {
					b.StopTimer()
					m, _ = consensus.NewMachine(consensus.Config{Self: tv[0].addr}, 1, set, nil)
					m.Start()
					k = 0
					b.StartTimer()
				}
				if _, err := m.Step(votes[k]); err != nil {
					b.Fatal(err)
				}
				k++
			}
		})
	}
}

// BenchmarkHeight is one full height of a network of n validators in one
// process: every message signed, delivered to every node, verified and
// stepped in. ns/op is the CPU of the whole network; per-node is ns/op / n.
func BenchmarkHeight(b *testing.B) {
	for _, n := range []int{4, 31, 100} {
		b.Run(fmt.Sprintf("validators=%d", n), func(b *testing.B) {
			powers := make([]int64, n)
			for i := range powers {
				powers[i] = int64(1 + i%7)
			}
			tv, set := testVals(b, powers...)
			nodes := make([]*consensus.Machine, n)
			var queue []consensus.Message
			var commits int
			var height uint64 = 1
			sets := map[uint64]*consensus.ValidatorSet{1: set}
			setFor := func(h uint64) *consensus.ValidatorSet {
				if sets[h] == nil {
					sets[h], _ = sets[h-1].Advance(nil)
				}
				return sets[h]
			}
			var handle func(i int, acts []consensus.Action)
			handle = func(i int, acts []consensus.Action) {
				for _, a := range acts {
					switch a := a.(type) {
					case consensus.SignAndSend:
						consensus.Sign(tv[i].priv, chainID, a.Msg)
						queue = append(queue, a.Msg)
						more, _ := nodes[i].Step(a.Msg)
						handle(i, more)
					case consensus.RequestProposal:
						more, _ := nodes[i].Step(consensus.ProposalBlock{Height: a.Height, Round: a.Round, BlockID: consensus.BlockID{byte(a.Height), 1}})
						handle(i, more)
					case consensus.ValidateBlock:
						more, _ := nodes[i].Step(consensus.BlockValidated{Height: a.Height, BlockID: a.BlockID, Valid: true})
						handle(i, more)
					case consensus.Commit:
						commits++
						more, _ := nodes[i].Step(consensus.NewHeight{Height: a.Height + 1, Validators: setFor(a.Height + 1)})
						handle(i, more)
					}
				}
			}
			for i := range nodes {
				nodes[i], _ = consensus.NewMachine(consensus.Config{Self: tv[i].addr}, 1, set, nil)
				handle(i, nodes[i].Start())
			}
			b.ResetTimer()
			for b.Loop() {
				// Deliver until every node has committed the current height.
				for commits < n*int(height) {
					msg := queue[0]
					queue = queue[1:]
					h, _, _ := msg.HRS()
					for j := range nodes {
						if nodes[j].Validators() == nil || msg.Signer() == tv[j].addr {
							continue
						}
						if err := consensus.Verify(chainID, setFor(h), msg); err != nil {
							b.Fatal(err)
						}
						acts, _ := nodes[j].Step(msg)
						handle(j, acts)
					}
				}
				height++
			}
			// One node's share of a height: what docs/benchmarks.md reports.
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1e6, "ms/node-height")
		})
	}
}
