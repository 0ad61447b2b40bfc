package blocks

import (
	"testing"

	"github.com/inferd/inferd/consensus"
)

// BenchmarkVerifyCommit verifies a commit of 100 validators.
func BenchmarkVerifyCommit(b *testing.B) {
	powers := make([]int64, 100)
	signers := make([]int, 100)
	for i := range powers {
		powers[i], signers[i] = 10, i
	}
	tv := newVals(b, 1, powers...)
	id := consensus.BlockID{1}
	c := tv.commit(9, id, signers...)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := VerifyCommit(chainID, tv.set, c, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode decodes and checks a block of 2,000 signed transfers.
func BenchmarkDecode(b *testing.B) {
	tv := newVals(b, 1, 10, 10, 10, 10)
	b1, _ := chain2(b, tv)
	blk := NewBlock(b1.Header, signedTxs(b, 3, 2000), nil, Commit{})
	raw := Encode(blk)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
