package staking

import (
	"fmt"
	"strings"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

func validMoniker(s string) error {
	if strings.TrimSpace(s) == "" || len(s) > 64 {
		return fmt.Errorf("%w: moniker must be 1-64 characters", ledger.ErrInvalidMsg)
	}
	return nil
}

func (m *Module) handleCreate(ctx *ledger.Context, op keys.Address, x MsgCreateValidator) error {
	if _, exists := m.Validator(ctx, op); exists {
		return fmt.Errorf("%w: %s already operates a validator; use edit-validator", ErrValidatorExists, op)
	}
	if len(x.ConsPubKey) != 32 {
		return fmt.Errorf("%w: consensus key is %d bytes, want 32", ledger.ErrInvalidMsg, len(x.ConsPubKey))
	}
	cons := keys.AddressOf(x.ConsPubKey)
	if ctx.Has(cat(consPrefix, cons[:])) {
		return fmt.Errorf("%w: %s", ErrConsKeyInUse, cons)
	}
	if err := validMoniker(x.Moniker); err != nil {
		return err
	}
	if !x.MaxCommission.Valid() || x.Commission > x.MaxCommission {
		return fmt.Errorf("%w: commission %s must be at most max commission %s, which must be at most 100%%", ErrInvalidCommission, x.Commission, x.MaxCommission)
	}
	if min := m.Params(ctx).MinSelfBond; x.SelfBond < min {
		return fmt.Errorf("%w: %d uinf, minimum %d uinf", ErrSelfBondTooLow, x.SelfBond, min)
	}
	if err := m.bank.SubBalance(ctx, op, x.SelfBond); err != nil {
		return err
	}
	m.createValidator(ctx, Validator{Operator: op, ConsPubKey: x.ConsPubKey, Moniker: x.Moniker, Commission: x.Commission, MaxCommission: x.MaxCommission})
	if _, err := m.bond(ctx, op, op, x.SelfBond); err != nil {
		return err
	}
	ctx.Emit("create_validator", "operator", op.String(), "self_bond", fmt.Sprint(x.SelfBond))
	return nil
}

func (m *Module) handleEdit(ctx *ledger.Context, op keys.Address, x MsgEditValidator) error {
	v, ok := m.Validator(ctx, op)
	if !ok {
		return fmt.Errorf("%w: %s operates no validator", ErrUnknownValidator, op)
	}
	if x.Moniker != "" {
		if err := validMoniker(x.Moniker); err != nil {
			return err
		}
		v.Moniker = x.Moniker
	}
	if x.SetCommission {
		if x.Commission > v.MaxCommission {
			return fmt.Errorf("%w: %s is above the validator's max commission %s", ErrInvalidCommission, x.Commission, v.MaxCommission)
		}
		v.Commission = x.Commission
	}
	m.setValidator(ctx, v)
	ctx.Emit("edit_validator", "operator", op.String())
	return nil
}

// activeTarget returns a validator that may receive stake.
func (m *Module) activeTarget(ctx *ledger.Context, val keys.Address) (Validator, error) {
	v, ok := m.Validator(ctx, val)
	switch {
	case !ok:
		return v, fmt.Errorf("%w: %s", ErrUnknownValidator, val)
	case v.Tombstoned:
		return v, fmt.Errorf("%w: %s", ErrTombstoned, val)
	case v.Jailed:
		return v, fmt.Errorf("%w: %s; delegate to another validator", ErrValidatorJailed, val)
	}
	return v, nil
}

func (m *Module) handleDelegate(ctx *ledger.Context, del keys.Address, x MsgDelegate) error {
	if x.Amount == 0 {
		return fmt.Errorf("%w: delegation of zero amount", ledger.ErrInvalidMsg)
	}
	if _, err := m.activeTarget(ctx, x.Validator); err != nil {
		return err
	}
	if err := m.bank.SubBalance(ctx, del, x.Amount); err != nil {
		return err
	}
	if _, err := m.bond(ctx, del, x.Validator, x.Amount); err != nil {
		return err
	}
	ctx.Emit("delegate", "delegator", del.String(), "validator", x.Validator.String(), "amount", fmt.Sprint(x.Amount))
	return nil
}

func (m *Module) handleUndelegate(ctx *ledger.Context, del keys.Address, x MsgUndelegate) error {
	if x.Amount == 0 {
		return fmt.Errorf("%w: undelegation of zero amount", ledger.ErrInvalidMsg)
	}
	tokens, err := m.unbond(ctx, del, x.Validator, x.Amount)
	if err != nil {
		return err
	}
	p := m.Params(ctx)
	done := ctx.Time + int64(p.UnbondingTimeSeconds)*1e9
	m.addUnbonding(ctx, Unbonding{Delegator: del, Validator: x.Validator, Amount: tokens, CreationHeight: ctx.Height, CompletionTime: done})
	m.checkSelfBond(ctx, del, x.Validator)
	ctx.Emit("undelegate", "delegator", del.String(), "validator", x.Validator.String(), "amount", fmt.Sprint(tokens), "completion_time", fmt.Sprint(done))
	return nil
}

// checkSelfBond jails a validator whose operator took its self-bond below
// the minimum: a validator must keep skin in the game.
func (m *Module) checkSelfBond(ctx *ledger.Context, del, val keys.Address) {
	if del != val {
		return
	}
	v, ok := m.Validator(ctx, val)
	if !ok || v.Jailed {
		return
	}
	if v.TokensFor(m.DelegationShares(ctx, val, val)) < m.Params(ctx).MinSelfBond {
		v.Jailed = true
		v.JailedUntil = ctx.Time
		m.setValidator(ctx, v)
		ctx.Emit("jail", "operator", val.String(), "reason", "self_bond_below_minimum")
	}
}

func (m *Module) handleRedelegate(ctx *ledger.Context, del keys.Address, x MsgRedelegate) error {
	if x.Amount == 0 {
		return fmt.Errorf("%w: redelegation of zero amount", ledger.ErrInvalidMsg)
	}
	if x.From == x.To {
		return fmt.Errorf("%w: %s", ErrSameValidator, x.From)
	}
	if _, err := m.activeTarget(ctx, x.To); err != nil {
		return err
	}
	tokens, err := m.unbond(ctx, del, x.From, x.Amount)
	if err != nil {
		return err
	}
	if _, err := m.bond(ctx, del, x.To, tokens); err != nil {
		return err
	}
	m.checkSelfBond(ctx, del, x.From)
	ctx.Emit("redelegate", "delegator", del.String(), "from", x.From.String(), "to", x.To.String(), "amount", fmt.Sprint(tokens))
	return nil
}

func (m *Module) handleUnjail(ctx *ledger.Context, op keys.Address) error {
	v, ok := m.Validator(ctx, op)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s operates no validator", ErrUnknownValidator, op)
	case v.Tombstoned:
		return fmt.Errorf("%w: %s", ErrTombstoned, op)
	case !v.Jailed:
		return fmt.Errorf("%w: %s", ErrNotJailed, op)
	case ctx.Time < v.JailedUntil:
		return fmt.Errorf("%w: %s may unjail after %d (unix ns), block time is %d", ErrStillJailed, op, v.JailedUntil, ctx.Time)
	}
	if self := v.TokensFor(m.DelegationShares(ctx, op, op)); self < m.Params(ctx).MinSelfBond {
		return fmt.Errorf("%w: self-bond is %d uinf, minimum %d; delegate to yourself first", ErrSelfBondTooLow, self, m.Params(ctx).MinSelfBond)
	}
	v.Jailed, v.JailedUntil = false, 0
	m.setValidator(ctx, v)
	// A fresh window: past misses were already punished.
	cons := v.ConsAddress()
	ctx.SetObj(cat(signPrefix, cons[:]), SigningInfo{StartHeight: ctx.Height})
	ctx.Emit("unjail", "operator", op.String())
	return nil
}
