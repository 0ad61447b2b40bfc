package emission

import (
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// ValidatorPayout is what one validator's part of an epoch paid.
type ValidatorPayout struct {
	Operator   keys.Address `json:"operator"`
	Amount     uint64       `json:"amount"`     // the validator's part, all of it paid
	Commission uint64       `json:"commission"` // to the operator
	Delegators uint64       `json:"delegators"` // to delegators by shares (the operator's self-bond included)
	Remainder  uint64       `json:"remainder"`  // rounding remainder of the delegator split, to the operator
}

// PoolPayout is what one module pool received.
type PoolPayout struct {
	Module string `json:"module"`
	Amount uint64 `json:"amount"`
	Weight uint64 `json:"weight"` // its gauge weight at the epoch
}

// EpochReport is what an epoch's payout did. Pending = ToValidators +
// ToPools + Carried, and the bank's minted total grew by ToValidators +
// ToPools.
type EpochReport struct {
	Height       uint64            `json:"height"`
	Pending      uint64            `json:"pending"`       // divided this epoch
	ToValidators uint64            `json:"to_validators"` // minted to operators and delegators
	Validators   []ValidatorPayout `json:"validators"`    // in active-set order
	ComputeFloor uint64            `json:"compute_floor"` // to the compute pool before the gauge
	GaugeWeight  uint64            `json:"gauge_weight"`  // total gauge weight
	Pools        []PoolPayout      `json:"pools"`         // gauge shares of live modules, in name order
	ToPools      uint64            `json:"to_pools"`      // compute floor + gauge shares, minted to pools
	Carried      uint64            `json:"carried"`       // left pending, not minted
}

// LastEpoch returns the report of the last epoch paid, and false before
// the first.
func (*Module) LastEpoch(ctx *ledger.Context) (EpochReport, bool) {
	var r EpochReport
	ok := ctx.GetObj(keyLastEpoch, &r)
	return r, ok
}

// payEpoch divides the pending emission (see the package documentation).
func (m *Module) payEpoch(ctx *ledger.Context, p Params) error {
	pending := m.Pending(ctx)
	rep := EpochReport{Height: ctx.Height, Pending: pending}
	toVals := p.ValidatorSharePPM.Of(pending)
	toMods := pending - toVals

	// Validators, by tokens; the rounding remainder stays pending.
	vals := m.staking.BondedValidators(ctx)
	tokens := make([]uint64, len(vals))
	for i, v := range vals {
		tokens[i] = v.Tokens
	}
	parts, carried := ledger.SplitProRata(toVals, tokens)
	for i, v := range vals {
		x := parts[i]
		if x == 0 {
			continue
		}
		pay := ValidatorPayout{Operator: v.Operator, Amount: x, Commission: v.Commission.Of(x)}
		dels := m.staking.ValidatorDelegations(ctx, v.Operator)
		shares := make([]uint64, len(dels))
		for j, d := range dels {
			shares[j] = d.Shares
		}
		dparts, drem := ledger.SplitProRata(x-pay.Commission, shares)
		pay.Remainder = drem
		operator := ledger.MustAdd(pay.Commission, drem)
		for j, d := range dels {
			pay.Delegators = ledger.MustAdd(pay.Delegators, dparts[j])
			if d.Delegator == v.Operator {
				operator = ledger.MustAdd(operator, dparts[j])
				continue
			}
			if err := m.mint(ctx, d.Delegator, dparts[j]); err != nil {
				return err
			}
		}
		if err := m.mint(ctx, v.Operator, operator); err != nil {
			return err
		}
		rep.ToValidators = ledger.MustAdd(rep.ToValidators, x)
		rep.Validators = append(rep.Validators, pay)
	}

	// Module pools: the compute floor, then the gauge.
	rep.ComputeFloor = p.ComputeFloorPPM.Of(toMods)
	if err := m.mintToPool(ctx, ComputeModule, rep.ComputeFloor); err != nil {
		return err
	}
	rep.ToPools = rep.ComputeFloor
	g := m.Gauge(ctx)
	rep.GaugeWeight = g.TotalWeight
	weights := make([]uint64, len(g.Modules))
	for i, mw := range g.Modules {
		weights[i] = mw.Weight
	}
	gparts, grem := ledger.SplitProRata(toMods-rep.ComputeFloor, weights)
	carried = ledger.MustAdd(carried, grem)
	for i, mw := range g.Modules {
		if mw.Weight == 0 {
			continue
		}
		if err := m.mintToPool(ctx, mw.Module, gparts[i]); err != nil {
			return err
		}
		rep.Pools = append(rep.Pools, PoolPayout{Module: mw.Module, Amount: gparts[i], Weight: mw.Weight})
		rep.ToPools = ledger.MustAdd(rep.ToPools, gparts[i])
	}

	rep.Carried = carried
	if paid := ledger.MustAdd(ledger.MustAdd(rep.ToValidators, rep.ToPools), rep.Carried); paid != pending {
		return fmt.Errorf("emission: epoch at height %d accounts for %d of %d pending uinf", ctx.Height, paid, pending)
	}
	m.setPending(ctx, carried)
	ctx.SetObj(keyLastEpoch, rep)
	attrs := []string{
		"height", fmt.Sprint(rep.Height),
		"pending", fmt.Sprint(rep.Pending),
		"validators", fmt.Sprint(rep.ToValidators),
		"compute_floor", fmt.Sprint(rep.ComputeFloor),
		"pools", fmt.Sprint(rep.ToPools),
		"carried", fmt.Sprint(rep.Carried),
	}
	for _, pp := range rep.Pools {
		attrs = append(attrs, "pool."+pp.Module, fmt.Sprint(pp.Amount))
	}
	ctx.Emit("emission_epoch", attrs...)
	return nil
}

func (m *Module) mint(ctx *ledger.Context, to keys.Address, amt uint64) error {
	if amt == 0 {
		return nil
	}
	return m.bank.Mint(ctx, to, amt)
}

func (m *Module) mintToPool(ctx *ledger.Context, pool string, amt uint64) error {
	if amt == 0 {
		return nil
	}
	return m.bank.MintToPool(ctx, pool, amt)
}
