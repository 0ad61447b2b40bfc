package contest

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// validatorSet is the set the spec's policy picks from the active set now,
// sorted by operator address, with each member's tokens as its stake.
func (m *Module) validatorSet(ctx *ledger.Context, p ValidatorPolicy) []Member {
	bonded := m.staking.BondedValidators(ctx) // by tokens, descending
	var out []Member
	switch p.Policy {
	case ValidatorsAll:
		for _, v := range bonded {
			out = append(out, Member{Operator: v.Operator, Stake: v.Tokens})
		}
	case ValidatorsTopN:
		for i, v := range bonded {
			if uint64(i) >= p.TopN {
				break
			}
			out = append(out, Member{Operator: v.Operator, Stake: v.Tokens})
		}
	case ValidatorsList:
		named := make(map[keys.Address]bool, len(p.List))
		for _, a := range p.List {
			named[a] = true
		}
		for _, v := range bonded {
			if named[v.Operator] {
				out = append(out, Member{Operator: v.Operator, Stake: v.Tokens})
			}
		}
	}
	sortMembers(out)
	return out
}

func sortMembers(ms []Member) {
	sort.Slice(ms, func(i, j int) bool { return bytes.Compare(ms[i].Operator[:], ms[j].Operator[:]) < 0 })
}

// freeze runs in the end-block of the last block of a round's builders'
// reveal window: the revealed, non-copy submissions become the round's
// scored list (the order of every attestation's scores), commits never
// revealed are marked unrevealed, and the validator set is fixed with the
// stake each member has now.
func (m *Module) freeze(ctx *ledger.Context, id, round uint64) error {
	r, err := m.getRecord(ctx, id)
	if err != nil {
		return fmt.Errorf("contest: live index names a missing contest: %w", err)
	}
	rs := getRound(ctx, id, round)
	rs.Scored = nil
	for _, s := range submissions(ctx, id, round) {
		switch s.Status {
		case StatusRevealed:
			rs.Scored = append(rs.Scored, s.Index)
		case StatusCommitted:
			if s.Deposit > 0 {
				if err := m.bank.PoolSub(ctx, DepositPoolName(id), s.Deposit); err != nil {
					return err
				}
				m.bank.NoteBurned(ctx, s.Deposit)
				ctx.Emit("contest_deposit_burned", "contest", fmt.Sprint(id), "round", fmt.Sprint(round), "index", fmt.Sprint(s.Index), "amount", fmt.Sprint(s.Deposit))
				s.Deposit = 0
			}
			s.Status = StatusUnrevealed
			setSub(ctx, &s)
		}
	}
	rs.Set = m.validatorSet(ctx, r.Spec.Validators)
	rs.SetStake = 0
	for _, mem := range rs.Set {
		rs.SetStake = ledger.MustAdd(rs.SetStake, mem.Stake)
	}
	rs.Frozen = true
	setRound(ctx, id, round, &rs)
	ctx.Emit("contest_round_frozen", "contest", fmt.Sprint(id), "round", fmt.Sprint(round),
		"scored", fmt.Sprint(len(rs.Scored)), "validators", fmt.Sprint(len(rs.Set)), "set_stake", fmt.Sprint(rs.SetStake))
	return nil
}

// vote is one attestation's score on one submission.
type vote struct {
	value  int64
	stake  uint64
	att    int    // index in the round's attestations
	digest []byte // the model digest it carried (may be empty)
}

// weightedMedian is the lower stake-weighted median: the smallest value
// whose cumulative stake (values ascending, ties by attestation order)
// reaches half the total. votes is sorted in place.
func weightedMedian(votes []vote, total uint64) int64 {
	slices.SortFunc(votes, func(a, b vote) int {
		if c := cmp.Compare(a.value, b.value); c != 0 {
			return c
		}
		return cmp.Compare(a.att, b.att)
	})
	var cum uint64
	for _, v := range votes {
		cum += v.stake // the sum of stakes fits: it is part of the bonded supply
		if cum >= total-cum {
			return v.value
		}
	}
	return votes[len(votes)-1].value
}

func absDiff(a, b int64) uint64 {
	if a > b {
		return uint64(a - b) // both within ±MaxScore: no overflow
	}
	return uint64(b - a)
}

func abs64(a int64) uint64 {
	if a < 0 {
		return uint64(-a)
	}
	return uint64(a)
}

// withinTolerance reports whether v agrees with the median med.
func withinTolerance(t Tolerance, v, med int64) bool {
	d := absDiff(v, med)
	return d <= t.Absolute || ledger.CompareProducts(d, uint64(ledger.PPMOne), uint64(t.PPM), abs64(med)) <= 0
}

// improvement is how much score beats best in the spec's direction
// (negative when worse).
func improvement(dir string, score, best int64) int64 {
	if dir == DirectionMinimize {
		return best - score
	}
	return score - best
}

// agree computes each scored submission's agreed score and marks each
// attestation agreed or not. It returns the submissions (in scored order,
// updated) and, per attestation, whether it earns.
func agree(spec *Spec, rs *roundState, subs []Submission, atts []Attestation) (earns []bool) {
	bad := make([]bool, len(atts))
	counted := make([]int, len(atts))
	votes := make([]vote, 0, len(atts))
	for j := range subs {
		votes = votes[:0]
		var stake uint64
		for ai := range atts {
			a := &atts[ai]
			if !a.Revealed || len(a.Scores) != len(subs) || a.Scores[j].Abstain {
				continue
			}
			votes = append(votes, vote{value: a.Scores[j].Value, stake: a.Stake, att: ai, digest: a.Scores[j].Digest})
			stake += a.Stake
		}
		s := &subs[j]
		s.AttestingStake = stake
		if len(votes) == 0 || rs.SetStake == 0 ||
			ledger.CompareProducts(stake, uint64(ledger.PPMOne), uint64(spec.Validators.QuorumPPM), rs.SetStake) < 0 {
			s.Status = StatusNoQuorum
			continue
		}
		s.Digest = agreedDigest(votes) // before the median sorts votes: attestation order
		med := weightedMedian(votes, stake)
		s.Status, s.AgreedScore = StatusAgreed, &med
		for _, v := range votes {
			// A vote without the agreed digest is not credited: its
			// validator did not fetch and decode the model it scored
			// (or lied about it), so its score is a guess.
			if len(s.Digest) != 0 && !bytes.Equal(v.digest, s.Digest) {
				bad[v.att] = true
				continue
			}
			if withinTolerance(spec.Tolerance, v.value, med) {
				counted[v.att]++
			} else {
				bad[v.att] = true
			}
		}
	}
	earns = make([]bool, len(atts))
	for i := range atts {
		earns[i] = atts[i].Revealed && !bad[i] && counted[i] > 0
		atts[i].Agreed = earns[i]
	}
	return earns
}

// breakthroughs returns the indexes (into subs) of the agreed submissions
// that beat best by at least max(min_improvement, 1) and by more than the
// tolerance band around best, less the near copies (markNearCopies, which
// marks them in subs), ranked by improvement, ties by earlier commit.
func breakthroughs(spec *Spec, best int64, subs []Submission) []int {
	need := max(spec.MinImprovement, 1)
	var out []int
	for i := range subs {
		if subs[i].Status == StatusAgreed && improvement(spec.Direction, *subs[i].AgreedScore, best) >= need &&
			beyondTolerance(spec.Tolerance, *subs[i].AgreedScore, best) {
			out = append(out, i)
		}
	}
	out = markNearCopies(spec, subs, out)
	sort.SliceStable(out, func(a, b int) bool {
		ia := improvement(spec.Direction, *subs[out[a]].AgreedScore, best)
		ib := improvement(spec.Direction, *subs[out[b]].AgreedScore, best)
		if ia != ib {
			return ia > ib
		}
		return subs[out[a]].CommitSeq < subs[out[b]].CommitSeq
	})
	return out
}

// curveWeights are the reward weights of n ranked breakthroughs.
func curveWeights(spec *Spec, best int64, subs []Submission, ranked []int) []uint64 {
	w := make([]uint64, len(ranked))
	switch spec.Reward.Curve {
	case CurveWinnerTakeAll:
		w[0] = 1
	case CurveTopKGeometric:
		g := uint64(1_000_000_000_000)
		for i := range w {
			if uint64(i) >= spec.Reward.K {
				break
			}
			w[i] = g
			g = spec.Reward.RatioPPM.Of(g)
		}
	case CurveProportional:
		for i, j := range ranked {
			w[i] = uint64(improvement(spec.Direction, *subs[j].AgreedScore, best)) // > 0, at most 2*MaxScore
		}
	}
	return w
}
