package light

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/node/blocks"
)

var app1 = [32]byte{0xAA}

func four(t *testing.T) map[string]signer {
	return newSigners(t, map[string]int64{"a": 10, "b": 10, "c": 10, "d": 10})
}

func TestCommitVerifies(t *testing.T) {
	ss := four(t)
	lb := lightBlock(t, 7, t0, app1, ss, "a", "b", "c")
	p, err := VerifyCommit(&lb.Header, &lb.Commit, lb.Validators)
	if err != nil {
		t.Fatal(err)
	}
	if p != (Power{Signed: 30, Total: 40}) {
		t.Fatalf("power %+v, want 30 of 40", p)
	}
}

func TestCommitFlippedSignatureByte(t *testing.T) {
	ss := four(t)
	for i := 0; i < 64; i += 9 {
		lb := lightBlock(t, 7, t0, app1, ss, "a", "b", "c")
		lb.Commit.Signatures[1].Signature[i] ^= 0x04
		_, err := VerifyCommit(&lb.Header, &lb.Commit, lb.Validators)
		wantErr(t, err, ErrBadSignature)
	}
}

// Exactly 2/3 is not enough: 3*signed must exceed 2*total.
func TestCommitInsufficientPower(t *testing.T) {
	ss := newSigners(t, map[string]int64{"a": 10, "b": 10, "c": 10})
	lb := lightBlock(t, 7, t0, app1, ss, "a", "b")
	p, err := VerifyCommit(&lb.Header, &lb.Commit, lb.Validators)
	wantErr(t, err, ErrInsufficientPower)
	if p.Signed != 20 || p.Total != 30 {
		t.Fatalf("power %+v", p)
	}
	ss = newSigners(t, map[string]int64{"a": 10, "b": 11, "c": 10})
	lb = lightBlock(t, 7, t0, app1, ss, "a", "b")
	if _, err := VerifyCommit(&lb.Header, &lb.Commit, lb.Validators); err != nil {
		t.Fatalf("21 of 31: %v", err)
	}
}

func TestCommitFromADifferentValidatorSet(t *testing.T) {
	ss := four(t)
	other := newSigners(t, map[string]int64{"w": 10, "x": 10, "y": 10, "z": 10})
	lb := lightBlock(t, 7, t0, app1, ss, "a", "b", "c")
	forged := lightBlock(t, 7, t0, app1, other, "w", "x", "y")
	// The forger's commit with the forger's set for the real header: the
	// set is not the one the header names.
	_, err := VerifyCommit(&lb.Header, &forged.Commit, forged.Validators)
	wantErr(t, err, ErrHeaderMismatch) // signed another header (its own)
	var votes []*consensus.Vote
	for _, s := range []string{"w", "x", "y"} {
		v := &consensus.Vote{Type: consensus.Precommit, Height: 7, BlockID: lb.Header.Hash(), Validator: other[s].val.Address}
		consensus.Sign(other[s].priv, testChain, v)
		votes = append(votes, v)
	}
	forgedForReal := blocks.MakeCommit(7, 0, lb.Header.Hash(), votes)
	_, err = VerifyCommit(&lb.Header, &forgedForReal, forged.Validators)
	wantErr(t, err, ErrValidatorSetMismatch)
	_, err = VerifyCommit(&lb.Header, &forgedForReal, lb.Validators)
	wantErr(t, err, ErrValidatorSetMismatch) // signers unknown to the real set
}

func TestCommitForAnotherHeader(t *testing.T) {
	ss := four(t)
	lb := lightBlock(t, 7, t0, app1, ss, "a", "b", "c")
	h := lb.Header
	h.AppHash[3] ^= 1
	_, err := VerifyCommit(&h, &lb.Commit, lb.Validators)
	wantErr(t, err, ErrHeaderMismatch)
}

func TestSkipping(t *testing.T) {
	all := newSigners(t, map[string]int64{"a": 10, "b": 10, "c": 10, "d": 10, "e": 10, "f": 10})
	trusted := TrustedState{ChainID: testChain, Height: 1, Time: t0, Validators: setOf(t, sub(all, "a", "b", "c"))}
	now := t0.Add(time.Hour)
	at := t0.Add(30 * time.Minute)

	// b and c (2/3 of the trusted power) are still in the later set.
	lb := lightBlock(t, 500, at, app1, sub(all, "b", "c", "d", "e"), "b", "c", "d")
	p, err := VerifySkipping(trusted, &lb.Header, &lb.Commit, lb.Validators, Options{Now: now})
	if err != nil || p != (Power{Signed: 30, Total: 40}) {
		t.Fatalf("power %+v, err %v", p, err)
	}
	// Only c (1/3, not more) of the trusted set signed.
	lb = lightBlock(t, 500, at, app1, sub(all, "c", "d", "e", "f"), "c", "d", "e")
	_, err = VerifySkipping(trusted, &lb.Header, &lb.Commit, lb.Validators, Options{Now: now})
	wantErr(t, err, ErrInsufficientTrust)

	// The trusting period ends exactly Period after the trusted time.
	lb = lightBlock(t, 500, at, app1, sub(all, "b", "c", "d", "e"), "b", "c", "d")
	_, err = VerifySkipping(trusted, &lb.Header, &lb.Commit, lb.Validators, Options{Now: t0.Add(time.Hour), TrustingPeriod: time.Hour})
	wantErr(t, err, ErrTrustExpired)
	if _, err = VerifySkipping(trusted, &lb.Header, &lb.Commit, lb.Validators, Options{Now: t0.Add(time.Hour - 1), TrustingPeriod: time.Hour}); err != nil {
		t.Fatalf("one nanosecond inside the period: %v", err)
	}
	// A stale trusted set with the default period.
	_, err = VerifySkipping(trusted, &lb.Header, &lb.Commit, lb.Validators, Options{Now: t0.Add(DefaultTrustingPeriod + time.Second)})
	wantErr(t, err, ErrTrustExpired)

	// From the future, or not after the trusted header.
	future := lightBlock(t, 500, now.Add(time.Minute), app1, sub(all, "b", "c", "d", "e"), "b", "c", "d")
	_, err = VerifySkipping(trusted, &future.Header, &future.Commit, future.Validators, Options{Now: now})
	wantErr(t, err, ErrNotAfterTrusted)
	early := lightBlock(t, 500, t0, app1, sub(all, "b", "c", "d", "e"), "b", "c", "d")
	_, err = VerifySkipping(trusted, &early.Header, &early.Commit, early.Validators, Options{Now: now})
	wantErr(t, err, ErrNotAfterTrusted)

	// From the genesis (height 0, no header), block 1 may carry the genesis time.
	genesis := trusted
	genesis.Height = 0
	first := lightBlock(t, 1, t0, app1, sub(all, "a", "b", "c"), "a", "b", "c")
	if _, err := VerifySkipping(genesis, &first.Header, &first.Commit, first.Validators, Options{Now: now}); err != nil {
		t.Fatalf("block 1 at the genesis time: %v", err)
	}
	first = lightBlock(t, 1, t0.Add(-time.Second), app1, sub(all, "a", "b", "c"), "a", "b", "c")
	_, err = VerifySkipping(genesis, &first.Header, &first.Commit, first.Validators, Options{Now: now})
	wantErr(t, err, ErrNotAfterTrusted)

	// Enough trusted signers but not 2/3 of the new set's own power.
	lb = lightBlock(t, 500, at, app1, sub(all, "b", "c", "d", "e"), "b", "c")
	_, err = VerifySkipping(trusted, &lb.Header, &lb.Commit, lb.Validators, Options{Now: now})
	wantErr(t, err, ErrInsufficientPower)
}

// provider builds light blocks whose set rotates: heights 1-33 a,b,c;
// 34-66 c,d,e (1/3 of the first: not enough to skip); 67-100 d,e,f.
type rotating struct {
	t       *testing.T
	all     map[string]signer
	fetched []uint64
}

func (r *rotating) LightBlock(h uint64) (*LightBlock, error) {
	r.fetched = append(r.fetched, h)
	labels := []string{"a", "b", "c", "d"}
	switch {
	case h > 66:
		labels = []string{"c", "d", "e", "f"}
	case h > 33:
		labels = []string{"b", "c", "d", "e"}
	}
	if h > 100 {
		return nil, fmt.Errorf("no block %d", h)
	}
	return lightBlock(r.t, h, t0.Add(time.Duration(h)*time.Second), app1, sub(r.all, labels...), labels[:3]...), nil
}

func TestClientBisects(t *testing.T) {
	all := newSigners(t, map[string]int64{"a": 10, "b": 10, "c": 10, "d": 10, "e": 10, "f": 10})
	p := &rotating{t: t, all: all}
	cl := &Client{Provider: p, Trusted: TrustedState{ChainID: testChain, Height: 1, Time: t0, Validators: setOf(t, sub(all, "a", "b", "c", "d"))},
		Options: Options{Now: t0.Add(time.Hour)}}
	// a,b,c,d -> c,d,e,f shares c,d: exactly half signed? c,d,e sign: c,d
	// are 20 of the trusted 40, more than 1/3: skips directly.
	if _, _, err := cl.VerifyHeight(100); err != nil {
		t.Fatal(err)
	}
	if len(p.fetched) != 1 || cl.Trusted.Height != 100 {
		t.Fatalf("fetched %v, trusted height %d", p.fetched, cl.Trusted.Height)
	}

	// From a set of a,b alone, c,d,e,f (signers c,d,e) share nothing: the
	// client must bisect through the middle set, which b signed.
	p = &rotating{t: t, all: all}
	cl.Provider = p
	cl.Trusted = TrustedState{ChainID: testChain, Height: 1, Time: t0, Validators: setOf(t, sub(all, "a", "b"))}
	_, pow, err := cl.VerifyHeight(100)
	if err != nil {
		t.Fatalf("fetched %v: %v", p.fetched, err)
	}
	if len(p.fetched) < 2 || cl.Trusted.Height != 100 || pow.Signed != 30 {
		t.Fatalf("fetched %v, trusted height %d, power %+v", p.fetched, cl.Trusted.Height, pow)
	}

	// Nothing in common, ever: refused.
	p = &rotating{t: t, all: all}
	cl.Provider = p
	cl.Trusted = TrustedState{ChainID: testChain, Height: 1, Time: t0, Validators: setOf(t, newSigners(t, map[string]int64{"q": 5}))}
	_, _, err = cl.VerifyHeight(100)
	wantErr(t, err, ErrInsufficientTrust)
}

func TestCommitResponseRoundTrip(t *testing.T) {
	ss := four(t)
	lb := lightBlock(t, 9, t0, app1, ss, "a", "b", "c")
	raw, err := json.Marshal(NewCommitResponse(lb, true))
	if err != nil {
		t.Fatal(err)
	}
	var r CommitResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	got, err := r.LightBlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyCommit(&got.Header, &got.Commit, got.Validators); err != nil {
		t.Fatal(err)
	}
	r.Height = 10
	_, err = r.LightBlock()
	wantErr(t, err, ErrHeaderMismatch)
	r.Height = 9
	r.Validators[0].PubKey = r.Validators[1].PubKey // key does not match the address
	_, err = r.LightBlock()
	wantErr(t, err, ErrMalformed)
}
