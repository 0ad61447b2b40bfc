package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

// doubleSign is the evidence of priv signing two prevotes at height.
func doubleSign(priv keys.PrivKey, height uint64, seed int64) *consensus.DuplicateVoteEvidence {
	r := rand.New(rand.NewSource(seed))
	addr := keys.AddressOf(priv.Public().(keys.PubKey))
	var a, b consensus.BlockID
	r.Read(a[:])
	r.Read(b[:])
	va := &consensus.Vote{Type: consensus.Prevote, Height: height, BlockID: a, Validator: addr}
	vb := &consensus.Vote{Type: consensus.Prevote, Height: height, BlockID: b, Validator: addr}
	consensus.Sign(priv, apitest.ChainID, va)
	consensus.Sign(priv, apitest.ChainID, vb)
	return consensus.NewDuplicateVoteEvidence(va, vb)
}

// flipped is ev with one byte of its second signature flipped.
func flipped(ev *consensus.DuplicateVoteEvidence) []byte {
	bad := *ev
	bad.VoteB.Signature = bytes.Clone(ev.VoteB.Signature)
	bad.VoteB.Signature[7] ^= 0x01
	return bad.Encode()
}

type valState struct {
	tokens             uint64
	jailed, tombstoned bool
}

func validatorState(t *testing.T, c *api.Client, cons keys.Address) valState {
	t.Helper()
	vs, err := c.Validators(context.Background(), api.Latest)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Validators {
		if v.ConsAddress == cons {
			return valState{v.Tokens, v.Jailed, v.Tombstoned}
		}
	}
	t.Fatalf("no validator %s", cons)
	return valState{}
}

// Evidence through the API: what does not verify is refused with the
// reason and punishes no one; valid evidence slashes, jails and
// tombstones the validator in the next block; the endpoint needs no token.
func TestSubmitEvidence(t *testing.T) {
	ctx := context.Background()
	b := apitest.New(t)
	for i := 0; i < 2; i++ {
		if _, err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	base := serveOpts(t, b, api.Options{Token: testToken})
	c, _ := api.NewClient(base) // no token: POST /evidence is open
	cons := keys.AddressOf(b.ConsKey.Public().(keys.PubKey))
	before := validatorState(t, c, cons)
	good := doubleSign(b.ConsKey, 1, 1)
	_, stranger, _ := keys.Generate(rand.New(rand.NewSource(9)))
	same := good.VoteA

	for _, tc := range []struct {
		name, code, msg string
		raw             []byte
	}{
		{"flipped signature byte", "bad_evidence", "bad signature", flipped(good)},
		{"votes that do not conflict", "bad_evidence", "block IDs equal", (&consensus.DuplicateVoteEvidence{VoteA: same, VoteB: same}).Encode()},
		{"not evidence at all", "malformed_evidence", "want the canonical CBOR", []byte("hello")},
		{"no such validator", "unknown_validator", "never been a validator", doubleSign(stranger, 1, 2).Encode()},
		{"a height not committed yet", "evidence_height", "not below the next block", doubleSign(b.ConsKey, 50, 3).Encode()},
	} {
		_, err := c.SubmitEvidence(ctx, tc.raw)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Err != tc.code || !strings.Contains(ae.Message, tc.msg) {
			t.Errorf("%s: %v (%+v), want %s mentioning %q", tc.name, err, ae, tc.code, tc.msg)
			continue
		}
		if want := map[string]int{"malformed_evidence": 400}[tc.code]; want != 0 && ae.Code != want || want == 0 && ae.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: HTTP %d", tc.name, ae.Code)
		}
	}
	if got := validatorState(t, c, cons); got != before {
		t.Fatalf("refused evidence changed the validator: %+v -> %+v", before, got)
	}

	hash, err := c.SubmitEvidence(ctx, good.Encode())
	if err != nil {
		t.Fatalf("valid evidence: %v", err)
	}
	if hash != sha256.Sum256(good.Encode()) {
		t.Errorf("hash %x", hash)
	}
	after := validatorState(t, c, cons)
	if !after.jailed || !after.tombstoned || after.tokens != before.tokens-before.tokens/20 {
		t.Fatalf("after valid evidence: %+v (before %+v), want jailed, tombstoned and 5%% slashed", after, before)
	}
	// Again, or other evidence of the same validator: already punished.
	var ae *api.Error
	if _, err := c.SubmitEvidence(ctx, doubleSign(b.ConsKey, 2, 4).Encode()); !errors.As(err, &ae) || ae.Code != http.StatusConflict || ae.Err != "already_punished" {
		t.Fatalf("evidence of a tombstoned validator: %v", err)
	}
	// A forgery stays a forgery once the validator is punished.
	if _, err := c.SubmitEvidence(ctx, flipped(good)); !errors.As(err, &ae) || ae.Err != "bad_evidence" {
		t.Fatalf("forged evidence of a tombstoned validator: %v", err)
	}
	// The raw CBOR form is accepted too (and checked the same way).
	code, _, e := do(t, "POST", base+"/evidence", bytes.NewReader(flipped(good)), map[string]string{"Content-Type": "application/cbor"})
	if code != http.StatusUnprocessableEntity || e.Err != "bad_evidence" {
		t.Fatalf("raw CBOR: %d %+v", code, e)
	}
}
