package contest

import (
	"crypto/sha256"
	"testing"

	"github.com/inferd/inferd/keys"
)

func digest(tag string) []byte {
	d := sha256.Sum256([]byte("weights/" + tag))
	return d[:]
}

// scored gives each submission (in scored order) value and digest by
// model CID.
func scored(by map[string]Score) func(int, []Submission) []Score {
	return func(_ int, subs []Submission) []Score {
		out := make([]Score, len(subs))
		for i, s := range subs {
			out[i] = by[s.Model]
		}
		return out
	}
}

func byBuilder(rv RoundView) map[keys.Address]Submission {
	out := map[keys.Address]Submission{}
	for _, s := range rv.Submissions {
		out[s.Builder] = s
	}
	return out
}

// TestDigestCopyEarnsNothing: the same weights under another CID (another
// chunker, a re-serialised safetensors: the evaluator's digest is the
// same) committed after the original in the same round are a copy. Under
// the top-2 curve the copy would otherwise take rank 2 (a third of the
// builders' pot); it gets nothing and the original all of it. In the next
// round a third account's copy of the same weights is a copy too, while
// the owner entering its weights again is not.
func TestDigestCopyEarnsNothing(t *testing.T) {
	h := newHarness(t, selfBonds)
	id, S := h.create(testSpec(h.acc[4].addr))
	alice, mallory, carol := h.acc[1], h.acc[2], h.acc[3]
	orig, rechunked := modelCID("alice"), modelCID("alice re-chunked")
	by := map[string]Score{
		orig.String():      {Value: 900_000, Digest: digest("alice")},
		rechunked.String(): {Value: 900_000, Digest: digest("alice")},
	}
	b0 := h.balance(mallory.addr)
	rv := h.playRound(id, S, 1, []entry{{alice, orig}, {mallory, rechunked}}, scored(by))
	got := byBuilder(rv)
	a, m := got[alice.addr], got[mallory.addr]
	if m.Status != StatusCopy || m.CopyOf == nil || *m.CopyOf != alice.addr || m.Reward != 0 || m.Breakthrough {
		t.Errorf("the re-chunked copy was not caught: %+v", m)
	}
	if len(m.Digest) != DigestBytes {
		t.Errorf("the copy's agreed digest is %x", m.Digest)
	}
	lr := h.detail(id).LastRound
	if !a.Breakthrough || a.Rank != 1 || a.Reward != lr.BuildersPot {
		t.Errorf("the original should take the whole pot %d: %+v", lr.BuildersPot, a)
	}
	if d := int64(h.balance(mallory.addr)) - int64(b0); d != -2*testFee {
		t.Errorf("the copier moved %d, want -%d (its two fees)", d, 2*testFee)
	}
	// Round 2: carol enters the weights under a third CID (a copy); alice
	// enters them again under a fourth (its own: no copy, but no
	// breakthrough either, it does not beat the best).
	third, fourth := modelCID("alice third"), modelCID("alice fourth")
	by[third.String()] = Score{Value: 960_000, Digest: digest("alice")}
	by[fourth.String()] = Score{Value: 900_000, Digest: digest("alice")}
	rv = h.playRound(id, S, 2, []entry{{carol, third}, {alice, fourth}}, scored(by))
	got = byBuilder(rv)
	if c := got[carol.addr]; c.Status != StatusCopy || *c.CopyOf != alice.addr || c.Reward != 0 {
		t.Errorf("a copy in a later round: %+v", c)
	}
	if a := got[alice.addr]; a.Status != StatusAgreed || a.Reward != 0 {
		t.Errorf("the owner's own weights again: %+v", a)
	}
}

// TestNearCopyEarnsNothing: a model scored within tolerance (0.1% here)
// of an earlier-committed breakthrough of the same round is a near copy
// and earns nothing, even when its score is a little higher; a model
// beyond the tolerance is a breakthrough of its own.
func TestNearCopyEarnsNothing(t *testing.T) {
	h := newHarness(t, selfBonds)
	id, S := h.create(testSpec(h.acc[4].addr))
	alice, mallory, carol := h.acc[1], h.acc[2], h.acc[3]
	orig, noisy, other := modelCID("alice"), modelCID("alice + noise"), modelCID("carol")
	by := map[string]Score{
		orig.String():  {Value: 900_000, Digest: digest("alice")},
		noisy.String(): {Value: 900_800, Digest: digest("noisy")}, // +800 <= 0.1% of 900,000
		other.String(): {Value: 880_000, Digest: digest("carol")},
	}
	rv := h.playRound(id, S, 1, []entry{{alice, orig}, {mallory, noisy}, {carol, other}}, scored(by))
	got := byBuilder(rv)
	a, m, c := got[alice.addr], got[mallory.addr], got[carol.addr]
	if m.Status != StatusNearCopy || m.CopyOf == nil || *m.CopyOf != alice.addr || m.Reward != 0 {
		t.Errorf("the near copy was not caught: %+v", m)
	}
	if a.Rank != 1 || c.Rank != 2 || a.Reward == 0 || c.Reward == 0 {
		t.Errorf("alice %+v, carol %+v: want ranks 1 and 2, both paid", a, c)
	}
}

// TestBreakthroughClearsTolerance: with min_improvement below the
// tolerance band, a score that beats the best by more than
// min_improvement but within tolerance is no breakthrough (validators
// cannot tell it from the best: a perturbed copy of the leader).
func TestBreakthroughClearsTolerance(t *testing.T) {
	h := newHarness(t, selfBonds)
	spec := testSpec(h.acc[4].addr)
	spec.Tolerance = Tolerance{Absolute: 20_000}
	id, S := h.create(spec)
	m := modelCID("m")
	rv := h.playRound(id, S, 1, []entry{{h.acc[1], m}}, scored(map[string]Score{m.String(): {Value: 815_000}}))
	if s := rv.Submissions[0]; s.Status != StatusAgreed || s.Breakthrough || s.Reward != 0 {
		t.Errorf("+15,000 inside a 20,000 tolerance paid: %+v", s)
	}
	m2 := modelCID("m2")
	rv = h.playRound(id, S, 2, []entry{{h.acc[1], m2}}, scored(map[string]Score{m2.String(): {Value: 820_001}}))
	if s := rv.Submissions[0]; !s.Breakthrough || s.Reward == 0 {
		t.Errorf("+20,001 beyond the tolerance not paid: %+v", s)
	}
}

// TestLazyValidatorEarnsNothing: a validator that attests without
// fetching the model cannot know its digest: it copies the score the
// others agreed on last round (the right value) but sends no digest, or a
// made-up one, and is not credited; the validators that evaluated are.
func TestLazyValidatorEarnsNothing(t *testing.T) {
	for _, lazy := range []struct {
		name   string
		digest []byte
	}{{"no digest", nil}, {"made-up digest", digest("guess")}} {
		t.Run(lazy.name, func(t *testing.T) {
			h := newHarness(t, selfBonds)
			id, S := h.create(testSpec(h.acc[4].addr))
			m := modelCID("m")
			rv := h.playRound(id, S, 1, []entry{{h.acc[1], m}}, func(v int, _ []Submission) []Score {
				if v == 2 {
					return []Score{{Value: 900_000, Digest: lazy.digest}}
				}
				return []Score{{Value: 900_000, Digest: digest("m")}}
			})
			lr := h.detail(id).LastRound
			for _, a := range rv.Attestations {
				lazyOne := a.Validator == h.val[2].addr
				if lazyOne && (a.Agreed || a.Reward != 0) {
					t.Errorf("the lazy validator was paid: %+v", a)
				}
				if !lazyOne && (!a.Agreed || a.Reward == 0) {
					t.Errorf("an evaluating validator was not paid: %+v", a)
				}
			}
			if lr.ValidatorsPaid == 0 {
				t.Errorf("%+v", lr)
			}
		})
	}
}

// TestDigestChecked: a digest must be 32 bytes and absent on abstentions.
func TestDigestChecked(t *testing.T) {
	h := newHarness(t, selfBonds)
	id, S := h.create(testSpec(h.acc[4].addr))
	m := modelCID("m")
	h.to(S - 1)
	h.okBlock(h.tx(h.acc[1], commitMsg(id, 1, m, salt("a"), h.acc[1].addr)))
	h.to(S + 5)
	h.okBlock(h.tx(h.acc[1], revealMsg(id, 1, m, salt("a"))))
	bad := [][]Score{{{Value: 1, Digest: []byte{1, 2, 3}}}, {{Abstain: true, Digest: digest("m")}}}
	h.to(S + 11)
	for i, sc := range bad { // one validator per case: one attestation each
		h.okBlock(h.tx(h.val[i], attestCommitMsg(id, 1, sc, salt("att"), h.val[i].addr)))
	}
	h.to(S + 17)
	for i, sc := range bad {
		h.refuse(h.val[i], attestRevealMsg(id, 1, sc, salt("att")), ErrBadDigest)
	}
}
