package contest

import (
	"crypto/sha256"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// CommitHash is what a builder commits: sha256(CID bytes || salt ||
// sender). Binding the sender means a commit cannot be replayed by
// another account.
func CommitHash(model cid.Cid, salt []byte, sender keys.Address) []byte {
	h := sha256.New()
	h.Write(model.Bytes())
	h.Write(salt)
	h.Write(sender[:])
	return h.Sum(nil)
}

// AttestHash is what a validator commits: sha256(canonical CBOR of the
// scores || salt || sender).
func AttestHash(scores []Score, salt []byte, sender keys.Address) []byte {
	if scores == nil {
		scores = []Score{} // nil and empty encode differently; one hash per value
	}
	h := sha256.New()
	h.Write(codec.MustMarshal(scores))
	h.Write(salt)
	h.Write(sender[:])
	return h.Sum(nil)
}

// DatasetCommitment is the commitment of a sealed dataset:
// sha256(CID bytes || salt).
func DatasetCommitment(c cid.Cid, salt []byte) []byte {
	h := sha256.New()
	h.Write(c.Bytes())
	h.Write(salt)
	return h.Sum(nil)
}

// ownerKey identifies a model for the first-committer rule: its multihash,
// so that the CIDv0 and CIDv1 (any base) of the same file are one model.
func ownerKey(c cid.Cid) []byte { return []byte(c.Hash()) }
