package contest

import (
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// closeRound runs in the end-block of a round's last block: agreement,
// breakthroughs and payouts from the contest's pool.
//
// Accounting: fresh = pool - carried shares (what arrived since the last
// close, plus earlier rounding remainders). The builders' pot is the
// carried builders' share plus split.builders of fresh; the validators'
// pot likewise; the designer gets split.designer of fresh. A pot with no
// recipient (no breakthrough; no agreeing validator) is carried to the
// next round; every rounding remainder stays in the pool uncarried and so
// is split again next round. Nothing leaves the pool except by
// bank.PoolToAccount, so every uinf is accounted for.
func (m *Module) closeRound(ctx *ledger.Context, id, round uint64) error {
	r, err := m.getRecord(ctx, id)
	if err != nil {
		return fmt.Errorf("contest: live index names a missing contest: %w", err)
	}
	rs := getRound(ctx, id, round)
	if !rs.Frozen { // a contest whose reveal end fell before it went live cannot happen; be safe
		if err := m.freeze(ctx, id, round); err != nil {
			return err
		}
		rs = getRound(ctx, id, round)
	}
	subs := make([]Submission, len(rs.Scored))
	for j, i := range rs.Scored {
		s, ok := getSub(ctx, id, round, i)
		if !ok {
			return fmt.Errorf("contest %d round %d: scored submission %d is missing", id, round, i)
		}
		subs[j] = s
	}
	atts := attestations(ctx, id, round)
	earns := agree(&r.Spec, &rs, subs, atts)
	markDigestCopies(ctx, id, subs)
	ranked := breakthroughs(&r.Spec, r.Best, subs)

	pool := PoolName(id)
	res := RoundResult{Round: round, Height: ctx.Height, Pool: m.bank.Pool(ctx, pool), BestBefore: r.Best}
	carryB, carryV := r.CarryBuilders, r.CarryValidators
	if carryB > res.Pool { // cannot happen: carries are part of the pool; keep the books sane anyway
		carryB = res.Pool
	}
	if carryV > res.Pool-carryB {
		carryV = res.Pool - carryB
	}
	res.Fresh = res.Pool - carryB - carryV
	sp := r.Spec.Split
	res.BuildersPot = carryB + sp.BuildersPPM.Of(res.Fresh)
	res.ValidatorsPot = carryV + sp.ValidatorsPPM.Of(res.Fresh)
	designer := sp.DesignerPPM.Of(res.Fresh)

	// Builders, by the reward curve over the ranked breakthroughs.
	if len(ranked) > 0 {
		shares, _ := ledger.SplitProRata(res.BuildersPot, curveWeights(&r.Spec, r.Best, subs, ranked))
		for rank, j := range ranked {
			s := &subs[j]
			s.Breakthrough, s.Rank, s.Reward = true, uint32(rank+1), shares[rank]
			if err := m.pay(ctx, pool, s.Builder, shares[rank]); err != nil {
				return err
			}
			res.BuildersPaid += shares[rank]
		}
		top := &subs[ranked[0]]
		r.Best, r.BestBuilder, r.BestModel = *top.AgreedScore, top.Builder, top.Model
		res.Breakthroughs = uint32(len(ranked))
	} else {
		res.CarryBuilders = res.BuildersPot
	}

	// The designer.
	if err := m.pay(ctx, pool, r.Spec.Designer, designer); err != nil {
		return err
	}
	res.DesignerPaid = designer

	// Validators whose attestations agreed, by the stake recorded at commit.
	stakes := make([]uint64, len(atts))
	earned := false
	for i, a := range atts {
		if earns[i] {
			stakes[i], earned = a.Stake, true
		}
	}
	if earned {
		shares, _ := ledger.SplitProRata(res.ValidatorsPot, stakes)
		for i := range atts {
			if shares[i] == 0 {
				continue
			}
			atts[i].Reward = shares[i]
			if err := m.pay(ctx, pool, atts[i].Validator, shares[i]); err != nil {
				return err
			}
			res.ValidatorsPaid += shares[i]
		}
	} else {
		res.CarryValidators = res.ValidatorsPot
	}

	// Write back what changed.
	for j := range subs {
		setSub(ctx, &subs[j])
		if subs[j].Status == StatusAgreed {
			res.Agreed++
			ctx.Set(agreedKey(id, round, subs[j].Index), []byte{})
		}
	}
	for i := range atts {
		if atts[i].Revealed {
			ctx.SetObj(attKey(id, round, atts[i].Validator), &atts[i])
		}
	}
	rs.Closed = true
	setRound(ctx, id, round, &rs)
	res.BestAfter = r.Best
	r.CarryBuilders, r.CarryValidators, r.LastClosed, r.LastResult = res.CarryBuilders, res.CarryValidators, round, &res
	setRecord(ctx, &r)
	ctx.Emit("contest_round_closed", "contest", fmt.Sprint(id), "round", fmt.Sprint(round),
		"agreed", fmt.Sprint(res.Agreed), "breakthroughs", fmt.Sprint(res.Breakthroughs),
		"builders_paid", fmt.Sprint(res.BuildersPaid), "designer_paid", fmt.Sprint(res.DesignerPaid),
		"validators_paid", fmt.Sprint(res.ValidatorsPaid), "carry_builders", fmt.Sprint(res.CarryBuilders),
		"carry_validators", fmt.Sprint(res.CarryValidators), "best", fmt.Sprint(r.Best))
	return nil
}

func (m *Module) pay(ctx *ledger.Context, pool string, to keys.Address, amt uint64) error {
	if amt == 0 {
		return nil
	}
	return m.bank.PoolToAccount(ctx, pool, to, amt)
}
