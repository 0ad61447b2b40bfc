package blocks

import (
	"bytes"
	"testing"

	"github.com/inferd/inferd/consensus"
)

// VerifyCommitKnown skips only signatures repeated byte for byte from a
// known commit of the same height, round and block; everything else is
// checked as VerifyCommit checks it.
func TestVerifyCommitKnown(t *testing.T) {
	tv := newVals(t, 11, 10, 10, 10, 10)
	id := consensus.BlockID{5}
	c := tv.commit(7, id, 0, 1, 2)
	if err := VerifyCommitKnown(chainID, tv.set, c, id, c); err != nil {
		t.Fatalf("a commit known to itself: %v", err)
	}
	// A bad signature of a validator the known commit lacks is caught.
	bad := tv.commit(7, id, 0, 1, 3)
	bad.Signatures[2].Signature = bytes.Clone(bad.Signatures[2].Signature)
	bad.Signatures[2].Signature[0] ^= 1
	if err := VerifyCommitKnown(chainID, tv.set, bad, id, c); err == nil {
		t.Fatal("a bad signature outside the known commit passed")
	}
	// A known commit holding the same bad bytes, but for another round,
	// vouches for nothing.
	other := bad
	other.Round = 1
	if err := VerifyCommitKnown(chainID, tv.set, bad, id, other); err == nil {
		t.Fatal("a known commit of another round vouched for a signature")
	}
	// The other checks stay: the block, and the 2/3 threshold.
	if err := VerifyCommitKnown(chainID, tv.set, c, consensus.BlockID{6}, c); err == nil {
		t.Fatal("a commit for another block passed")
	}
	few := tv.commit(7, id, 0, 1)
	if err := VerifyCommitKnown(chainID, tv.set, few, id, c); err == nil {
		t.Fatal("a commit with half the power passed")
	}
}
