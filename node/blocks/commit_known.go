package blocks

import (
	"bytes"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

// VerifyCommitKnown is VerifyCommit for a commit that may share signatures
// with known, a commit the caller has already verified against the same
// validator set vals (a node's own commit of the previous height, which
// the next proposer's last commit mostly repeats). A signature of c whose
// validator signed known with the very same bytes, in a commit of the same
// height, round and block, signs the very same precommit, so it is not
// checked again; every other check of VerifyCommit is made as there.
func VerifyCommitKnown(chainID string, vals *consensus.ValidatorSet, c Commit, blockID consensus.BlockID, known Commit) error {
	if known.Height != c.Height || known.Round != c.Round || known.BlockID != c.BlockID || len(known.Signatures) == 0 {
		return verifyCommit(chainID, vals, c, blockID, nil)
	}
	sigs := make(map[keys.Address][]byte, len(known.Signatures))
	for _, s := range known.Signatures {
		sigs[s.Validator] = s.Signature
	}
	return verifyCommit(chainID, vals, c, blockID, func(i int) bool {
		s := c.Signatures[i]
		k, ok := sigs[s.Validator]
		return ok && len(k) == len(s.Signature) && bytes.Equal(k, s.Signature)
	})
}
