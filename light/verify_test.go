package light

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/inferd/inferd/ledger"
)

// TestValueProofsFromLedger proves every key (present, deleted, never
// written) at recent and older heights and verifies each proof.
func TestValueProofsFromLedger(t *testing.T) {
	s := kvState(t, ledger.ProofWindow+6)
	present, absent := 0, 0
	for _, h := range []uint64{0, ledger.ProofWindow + 5, ledger.ProofWindow + 6} {
		app, err := s.AppHashAt(h)
		if err != nil {
			t.Fatal(err)
		}
		for i := uint64(0); i < 320; i += 11 {
			pv, err := s.Prove(h, kvKey(i))
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyValue(app[:], pv.Key, pv.Value, pv.Exists, &pv.Proof); err != nil {
				t.Fatalf("height %d key %s: %v", h, pv.Key, err)
			}
			if pv.Exists {
				present++
			} else {
				absent++
			}
			// The opposite claim must fail.
			wantErr(t, VerifyValue(app[:], pv.Key, pv.Value, !pv.Exists, &pv.Proof), ErrValueMismatch)
		}
	}
	if present == 0 || absent == 0 {
		t.Fatalf("%d present and %d absent keys proven; want both", present, absent)
	}
}

func provenKV(t *testing.T) (*ledger.ProvenValue, [32]byte) {
	t.Helper()
	s := kvState(t, 4)
	pv, err := s.Prove(4, bucketZeroKeys()[1])
	if err != nil {
		t.Fatal(err)
	}
	if !pv.Exists || len(pv.Proof.Leaves) < 2 {
		t.Fatalf("want a present key in a bucket of several (got exists=%v, %d leaves): pick another key", pv.Exists, len(pv.Proof.Leaves))
	}
	app, _ := s.AppHashAt(4)
	return pv, app
}

// clone deep-copies through JSON, as a client receives it.
func clone(t *testing.T, pv *ledger.ProvenValue) *ledger.ProvenValue {
	t.Helper()
	b, err := json.Marshal(pv)
	if err != nil {
		t.Fatal(err)
	}
	var out ledger.ProvenValue
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestFlippedValueByte(t *testing.T) {
	pv, app := provenKV(t)
	for i := range pv.Value {
		c := clone(t, pv)
		c.Value[i] ^= 0x01
		wantErr(t, VerifyValue(app[:], c.Key, c.Value, true, &c.Proof), ErrValueMismatch)
	}
}

func TestFlippedProofByte(t *testing.T) {
	pv, app := provenKV(t)
	if err := VerifyValue(app[:], pv.Key, pv.Value, true, &pv.Proof); err != nil {
		t.Fatal(err)
	}
	for li := range pv.Proof.Leaves {
		for _, field := range []string{"key", "value"} {
			c := clone(t, pv)
			l := &c.Proof.Leaves[li]
			own := bytes.Equal(pv.Proof.Leaves[li].KeyHash, sha(pv.Key))
			switch field {
			case "key":
				l.KeyHash[31] ^= 0x80 // stays in the bucket and (almost surely) in order
			case "value":
				l.ValueHash[5] ^= 0x01
			}
			err := VerifyValue(app[:], c.Key, c.Value, true, &c.Proof)
			switch {
			case own:
				wantErr(t, err, ErrValueMismatch) // the key's own leaf no longer matches the value
			case err == nil:
				t.Fatalf("leaf %d %s hash flipped: verified", li, field)
			case !errors.Is(err, ErrProofMismatch) && !errors.Is(err, ErrMalformed):
				t.Fatalf("leaf %d %s hash flipped: %v", li, field, err)
			}
		}
	}
	for si := range pv.Proof.Siblings {
		c := clone(t, pv)
		c.Proof.Siblings[si][si] ^= 0x01
		wantErr(t, VerifyValue(app[:], c.Key, c.Value, true, &c.Proof), ErrProofMismatch)
	}
	c := clone(t, pv)
	c.Proof.Siblings = c.Proof.Siblings[:15]
	wantErr(t, VerifyValue(app[:], c.Key, c.Value, true, &c.Proof), ErrMalformed)
	c = clone(t, pv)
	c.Proof.Leaves[0], c.Proof.Leaves[1] = c.Proof.Leaves[1], c.Proof.Leaves[0]
	wantErr(t, VerifyValue(app[:], c.Key, c.Value, true, &c.Proof), ErrMalformed)
	wantErr(t, VerifyValue(app[:], kvKey(1), pv.Value, true, &pv.Proof), ErrKeyMismatch)
	other := app
	other[0] ^= 1
	wantErr(t, VerifyValue(other[:], pv.Key, pv.Value, true, &pv.Proof), ErrProofMismatch)
}

func sha(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

func TestAbsenceProofCannotHideAKey(t *testing.T) {
	pv, app := provenKV(t)
	// Drop the key's own leaf and claim absence: the bucket hash changes.
	c := clone(t, pv)
	var kept []ledger.ProofLeaf
	for _, l := range c.Proof.Leaves {
		if !bytes.Equal(l.KeyHash, sha(pv.Key)) {
			kept = append(kept, l)
		}
	}
	c.Proof.Leaves = kept
	wantErr(t, VerifyValue(app[:], c.Key, nil, false, &c.Proof), ErrProofMismatch)
}

func TestVerifyProvenNeedsTheNextHeader(t *testing.T) {
	pv, app := provenKV(t)
	ss := newSigners(t, map[string]int64{"a": 1})
	lb := lightBlock(t, pv.Height+1, t0.Add(time.Hour), app, ss, "a")
	if err := VerifyProven(pv, lb); err != nil {
		t.Fatal(err)
	}
	wantErr(t, VerifyProven(pv, lightBlock(t, pv.Height, t0.Add(time.Hour), app, ss, "a")), ErrHeaderMismatch)
	c := clone(t, pv)
	c.AppHash[0] ^= 1 // the node lies about the app hash beside a good proof
	wantErr(t, VerifyProven(c, lb), ErrHeaderMismatch)
	c = clone(t, pv)
	c.Value[0] ^= 1
	wantErr(t, VerifyProven(c, lb), ErrValueMismatch)
}
