package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/p2p"
)

func equivocate(priv keys.PrivKey, chainID string, height uint64) *consensus.DuplicateVoteEvidence {
	addr := keys.AddressOf(priv.Public().(keys.PubKey))
	var a, b consensus.BlockID
	rand.Read(a[:])
	rand.Read(b[:])
	va := &consensus.Vote{Type: consensus.Precommit, Height: height, BlockID: a, Validator: addr}
	vb := &consensus.Vote{Type: consensus.Precommit, Height: height, BlockID: b, Validator: addr}
	consensus.Sign(priv, chainID, va)
	consensus.Sign(priv, chainID, vb)
	return consensus.NewDuplicateVoteEvidence(va, vb)
}

// The evidence topic's validator: valid evidence is accepted; forged
// evidence (a flipped signature byte, garbage) is rejected, which makes
// gossipsub lower the sender's score; evidence that may be honest but
// cannot be punished (unknown validator, a future height) is ignored.
func TestEvidenceGossipValidator(t *testing.T) {
	home := oneValidatorHome(t)
	runUntil(t, home, 2)
	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		t.Fatal(err)
	}
	priv, err := LoadKeyFile(filepath.Join(home, ValidatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	r := &Running{Node: n}
	validate := r.validator(KindEvidence)
	wrap := func(b []byte) []byte { return append(binary.BigEndian.AppendUint64(nil, 1), b...) }

	good := equivocate(priv, n.Genesis.ChainID, 1)
	forged := *good
	forged.VoteA.Signature = bytes.Clone(good.VoteA.Signature)
	forged.VoteA.Signature[0] ^= 0x80
	_, stranger, _ := keys.Generate(rand.Reader)
	otherChain := equivocate(priv, "another-chain-1", 1)

	for _, c := range []struct {
		name string
		raw  []byte
		want p2p.ValidationResult
	}{
		{"valid", good.Encode(), p2p.Accept},
		{"flipped signature byte", forged.Encode(), p2p.Reject},
		{"signed for another chain", otherChain.Encode(), p2p.Reject},
		{"garbage", []byte("not evidence"), p2p.Reject},
		{"unknown validator", equivocate(stranger, n.Genesis.ChainID, 1).Encode(), p2p.Ignore},
		{"future height", equivocate(priv, n.Genesis.ChainID, 99).Encode(), p2p.Ignore},
	} {
		if got := validate(context.Background(), "", wrap(c.raw)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	// The API path refuses the forgery with the reason.
	if _, err := (backend{r, &p2pTransport{}}).SubmitEvidence(forged.Encode()); err == nil {
		t.Fatal("the API took forged evidence")
	} else {
		t.Logf("forged evidence refused: %v", err)
	}
}
