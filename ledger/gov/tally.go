package gov

import (
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/staking"
)

func (t *TallyResult) add(o VoteOption, amt uint64) {
	switch o {
	case OptionYes:
		t.Yes = ledger.MustAdd(t.Yes, amt)
	case OptionNo:
		t.No = ledger.MustAdd(t.No, amt)
	case OptionAbstain:
		t.Abstain = ledger.MustAdd(t.Abstain, amt)
	case OptionVeto:
		t.Veto = ledger.MustAdd(t.Veto, amt)
	}
}

// tally weighs proposal id's votes by the stake at the moment of the call,
// as Cosmos SDK does: only the active set (staking.BondedValidators)
// counts. A voter's delegations to bonded validators count for the
// voter's option and their shares are deducted from the validator; a
// bonded validator whose operator voted carries its remaining tokens (its
// tokens for the shares not deducted) for the operator's option. The
// operator's own self-delegation is a delegation like any other, so it
// counts once. Every conversion of shares to tokens rounds down. Reads
// only: safe in a query context.
func (m *Module) tally(ctx *ledger.Context, id uint64) TallyResult {
	type valState struct {
		v        staking.Validator
		deducted uint64 // shares of voters who voted themselves
		option   VoteOption
	}
	bonded := m.staking.BondedValidators(ctx)
	vals := make(map[keys.Address]*valState, len(bonded))
	var res TallyResult
	for _, v := range bonded {
		vals[v.Operator] = &valState{v: v}
		res.TotalBonded = ledger.MustAdd(res.TotalBonded, v.Tokens)
	}
	for _, vt := range votes(ctx, id) {
		if vs, ok := vals[vt.Voter]; ok {
			vs.option = vt.Option
		}
		for _, d := range m.staking.Delegations(ctx, vt.Voter) {
			vs, ok := vals[d.Validator]
			if !ok {
				continue
			}
			vs.deducted = ledger.MustAdd(vs.deducted, d.Shares)
			res.add(vt.Option, vs.v.TokensFor(d.Shares))
		}
	}
	for _, v := range bonded {
		vs := vals[v.Operator]
		if vs.option == 0 || vs.deducted >= vs.v.Shares {
			continue
		}
		res.add(vs.option, vs.v.TokensFor(vs.v.Shares-vs.deducted))
	}
	return res
}

// cmpPPM compares a/b with p/10^6 exactly (a*10^6 against p*b in 128 bits):
// -1, 0 or +1.
func cmpPPM(a, b uint64, p ledger.PPM) int {
	return ledger.CompareProducts(a, uint64(ledger.PPMOne), uint64(p), b)
}

// decide applies Cosmos SDK's rules, in its order:
//  1. voted / total bonded < quorum: rejected (deposits refunded; Cosmos's
//     default, burn_vote_quorum = false). No bonded stake at all: rejected.
//  2. everyone who voted abstained: rejected.
//  3. veto / voted > veto threshold: vetoed (deposits burned).
//  4. yes / (yes + no + veto) > threshold: passed; otherwise rejected.
func decide(t TallyResult, p Params) (Status, string) {
	voted := t.Voted()
	if t.TotalBonded == 0 {
		return StatusRejected, "no bonded stake"
	}
	if cmpPPM(voted, t.TotalBonded, p.Quorum) < 0 {
		return StatusRejected, fmt.Sprintf("quorum not reached: %d of %d bonded uinf voted, quorum %s", voted, t.TotalBonded, p.Quorum)
	}
	nonAbstain := ledger.MustAdd(ledger.MustAdd(t.Yes, t.No), t.Veto)
	if nonAbstain == 0 {
		return StatusRejected, "every vote abstained"
	}
	if cmpPPM(t.Veto, voted, p.VetoThreshold) > 0 {
		return StatusVetoed, fmt.Sprintf("vetoed: %d of %d voted uinf vetoed, above %s", t.Veto, voted, p.VetoThreshold)
	}
	if cmpPPM(t.Yes, nonAbstain, p.Threshold) > 0 {
		return StatusPassed, fmt.Sprintf("passed: %d yes of %d non-abstaining uinf, above %s", t.Yes, nonAbstain, p.Threshold)
	}
	return StatusRejected, fmt.Sprintf("threshold not reached: %d yes of %d non-abstaining uinf, need more than %s", t.Yes, nonAbstain, p.Threshold)
}

// EndBlock expires proposals whose deposit period ended (deposits burned)
// and tallies those whose voting period ended, in end-time then id order,
// reading only the due entries of the two queues.
func (m *Module) EndBlock(ctx *ledger.Context) error {
	for _, id := range due(ctx, depQPrefix, ctx.Time) {
		p, err := m.getProposal(ctx, id)
		if err != nil {
			return fmt.Errorf("gov: deposit queue names a missing proposal: %w", err)
		}
		ctx.Delete(depQKey(p.DepositEnd, id))
		burned, err := m.settleDeposits(ctx, id, true)
		if err != nil {
			return err
		}
		p.Status = StatusExpired
		p.Result = fmt.Sprintf("min_deposit %d uinf not reached in the deposit period; %d uinf of deposits burned", m.Params(ctx).MinDeposit, burned)
		m.setProposal(ctx, &p)
		ctx.Emit("proposal_expired", "proposal_id", fmt.Sprint(id), "burned", fmt.Sprint(burned))
	}
	for _, id := range due(ctx, voteQPrefix, ctx.Time) {
		p, err := m.getProposal(ctx, id)
		if err != nil {
			return fmt.Errorf("gov: voting queue names a missing proposal: %w", err)
		}
		ctx.Delete(voteQKey(p.VotingEnd, id))
		t := m.tally(ctx, id)
		status, why := decide(t, m.Params(ctx))
		if status == StatusPassed {
			if err := m.execute(ctx, p.Content); err != nil {
				status, why = StatusFailed, fmt.Sprintf("passed, but executing its %s content failed: %v", p.Content.Kind, err)
			}
		}
		amt, err := m.settleDeposits(ctx, id, status == StatusVetoed)
		if err != nil {
			return err
		}
		var vks [][]byte
		ctx.Iterate(votesOf(id), func(k, _ []byte) bool {
			vks = append(vks, k)
			return true
		})
		for _, k := range vks {
			ctx.Delete(k)
		}
		p.Status, p.FinalTally, p.Result = status, t, why
		m.setProposal(ctx, &p)
		settled := "refunded"
		if status == StatusVetoed {
			settled = "burned"
		}
		ctx.Emit("proposal_"+status.String(), "proposal_id", fmt.Sprint(id), "yes", fmt.Sprint(t.Yes), "no", fmt.Sprint(t.No),
			"abstain", fmt.Sprint(t.Abstain), "veto", fmt.Sprint(t.Veto), "total_bonded", fmt.Sprint(t.TotalBonded),
			settled, fmt.Sprint(amt), "result", why)
	}
	return nil
}

func (m *Module) execute(ctx *ledger.Context, c Content) error {
	h, ok := m.contents[c.Kind]
	if !ok {
		return fmt.Errorf("%w: content kind %q is not registered on this node", ErrInvalidContent, c.Kind)
	}
	return h.ExecuteContent(ctx, c.Value)
}

// settleDeposits removes proposal id's deposits from escrow: burned (the
// supply's burned total grows) or refunded to each depositor. It returns
// the total.
func (m *Module) settleDeposits(ctx *ledger.Context, id uint64, burn bool) (uint64, error) {
	var total uint64
	for _, d := range deposits(ctx, id) {
		ctx.Delete(depositKey(id, d.Depositor))
		total = ledger.MustAdd(total, d.Amount) // escrow <= supply
		if !burn {
			if err := m.bank.AddBalance(ctx, d.Depositor, d.Amount); err != nil {
				return 0, fmt.Errorf("gov: refund of proposal %d to %s: %w", id, d.Depositor, err)
			}
		}
	}
	if burn && total > 0 {
		m.bank.NoteBurned(ctx, total)
	}
	return total, nil
}
