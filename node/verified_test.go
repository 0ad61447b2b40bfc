package node

import (
	"crypto/rand"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

// The cache answers only for the exact message and the very set it was
// verified against, and once.
func TestVerifiedMessages(t *testing.T) {
	pub, _, _ := keys.Generate(rand.Reader)
	set := func() *consensus.ValidatorSet {
		vs, err := consensus.NewValidatorSet([]consensus.Validator{{Address: keys.AddressOf(pub), PubKey: pub, Power: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return vs
	}
	a, b := set(), set()
	vote := &consensus.Vote{Type: consensus.Prevote, Height: 3, Validator: keys.AddressOf(pub), Signature: make([]byte, 64)}
	other := *vote
	other.Signature = append([]byte{1}, vote.Signature[1:]...)
	var v verifiedMessages
	if v.take(vote, a) {
		t.Fatal("an empty cache vouches for a message")
	}
	v.add(vote, a)
	if v.take(&other, a) {
		t.Fatal("a message with another signature is taken as verified")
	}
	if v.take(vote, b) {
		t.Fatal("a message verified against one set counts for an equal but different set")
	}
	if !v.take(vote, a) {
		t.Fatal("the verified message is not found")
	}
	if v.take(vote, a) {
		t.Fatal("an entry is used twice")
	}
	v.add(vote, a)
	v.add(&other, b) // a new set forgets the old one's entries
	if v.take(vote, a) || !v.take(&other, b) {
		t.Fatal("entries of an old set survive a new one")
	}
}
