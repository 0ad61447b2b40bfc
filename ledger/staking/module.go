package staking

import (
	"encoding/json"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Name implements ledger.Module.
func (*Module) Name() string { return Name }

// MsgTypes implements ledger.Module.
func (*Module) MsgTypes() []string {
	return []string{MsgTypeCreateValidator, MsgTypeEditValidator, MsgTypeDelegate, MsgTypeUndelegate, MsgTypeRedelegate, MsgTypeUnjail}
}

// ValidateParams checks a parameter set.
func (p Params) Validate() error {
	switch {
	case p.MaxValidators == 0:
		return fmt.Errorf("max_validators must be at least 1")
	case p.SignedBlocksWindow == 0:
		return fmt.Errorf("signed_blocks_window must be at least 1")
	case !p.MinSignedPerWindow.Valid():
		return fmt.Errorf("min_signed_per_window_ppm must be at most 1000000")
	case !p.SlashFractionDowntime.Valid():
		return fmt.Errorf("slash_fraction_downtime_ppm must be at most 1000000")
	case !p.SlashFractionDoubleSig.Valid():
		return fmt.Errorf("slash_fraction_double_sign_ppm must be at most 1000000")
	case p.UnbondingTimeSeconds > 10*365*24*3600:
		return fmt.Errorf("unbonding_time_s must be at most 10 years")
	case p.DowntimeJailSeconds > 10*365*24*3600:
		return fmt.Errorf("downtime_jail_s must be at most 10 years")
	case p.SignedBlocksWindow > 1_000_000:
		return fmt.Errorf("signed_blocks_window must be at most 1000000")
	}
	return nil
}

// ValidateGenesis implements ledger.Module.
func (*Module) ValidateGenesis(g *ledger.Genesis) error {
	p, err := ledger.DecodeParams(g, Name, DefaultParams())
	if err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return ledger.GenesisErr("params.staking", "%v", err)
	}
	for i, v := range g.Validators {
		if v.SelfBond < PowerReduction {
			return ledger.GenesisErr(fmt.Sprintf("validators[%d].self_bond", i), "%d uinf gives zero voting power; at least %d uinf (1 INF) is needed", v.SelfBond, uint64(PowerReduction))
		}
		if v.SelfBond < p.MinSelfBond {
			return ledger.GenesisErr(fmt.Sprintf("validators[%d].self_bond", i), "%d uinf is below params.staking.min_self_bond %d", v.SelfBond, p.MinSelfBond)
		}
	}
	return nil
}

// InitGenesis creates the genesis validators, their self-bonds minted as
// staked tokens.
func (m *Module) InitGenesis(ctx *ledger.Context, g *ledger.Genesis) error {
	p, err := ledger.DecodeParams(g, Name, DefaultParams())
	if err != nil {
		return err
	}
	ctx.SetObj(keyParams, p)
	for _, gv := range g.Validators {
		v := Validator{Operator: gv.Operator, ConsPubKey: gv.ConsPubKey, Moniker: gv.Moniker, Commission: gv.Commission, MaxCommission: ledger.PPMOne}
		if err := m.bank.NoteMinted(ctx, gv.SelfBond); err != nil {
			return err
		}
		m.createValidator(ctx, v)
		if _, err := m.bond(ctx, gv.Operator, gv.Operator, gv.SelfBond); err != nil {
			return err
		}
	}
	return nil
}

func (m *Module) createValidator(ctx *ledger.Context, v Validator) {
	m.setValidator(ctx, v)
	cons := v.ConsAddress()
	ctx.Set(cat(consPrefix, cons[:]), v.Operator[:])
	ctx.SetObj(cat(signPrefix, cons[:]), SigningInfo{StartHeight: ctx.Height})
}

// bond adds amt tokens (already taken from wherever they were) to val as
// del's delegation and returns the shares issued.
func (m *Module) bond(ctx *ledger.Context, del, val keys.Address, amt uint64) (uint64, error) {
	v, ok := m.Validator(ctx, val)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnknownValidator, val)
	}
	var shares uint64
	switch {
	case v.Shares == 0:
		shares = amt
	case v.Tokens == 0:
		return 0, fmt.Errorf("%w: %s", ErrValidatorWipedOut, val)
	default:
		var err error
		if shares, err = ledger.MulDiv(amt, v.Shares, v.Tokens); err != nil {
			return 0, err
		}
	}
	if shares == 0 {
		return 0, fmt.Errorf("%w: %d uinf buys no shares of %s; delegate more", ledger.ErrInvalidMsg, amt, val)
	}
	var err error
	if v.Tokens, err = ledger.Add(v.Tokens, amt); err != nil {
		return 0, err
	}
	if v.Shares, err = ledger.Add(v.Shares, shares); err != nil {
		return 0, err
	}
	total, err := ledger.Add(m.DelegationShares(ctx, del, val), shares)
	if err != nil {
		return 0, err
	}
	m.setValidator(ctx, v)
	m.setDelegation(ctx, del, val, total)
	return shares, nil
}

// unbond removes the shares worth amt tokens (rounded up, so the delegator
// never takes out more than their shares are worth) from del's delegation
// to val and returns the tokens released.
func (m *Module) unbond(ctx *ledger.Context, del, val keys.Address, amt uint64) (uint64, error) {
	v, ok := m.Validator(ctx, val)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnknownValidator, val)
	}
	held := m.DelegationShares(ctx, del, val)
	if held == 0 {
		return 0, fmt.Errorf("%w: %s has no stake with %s", ErrNoDelegation, del, val)
	}
	if worth := v.TokensFor(held); amt > worth {
		return 0, fmt.Errorf("%w: %d uinf requested, delegation to %s is worth %d", ErrInsufficientStake, amt, val, worth)
	}
	// shares = ceil(amt * Shares / Tokens)
	shares, err := ledger.MulDiv(amt, v.Shares, v.Tokens)
	if err != nil {
		return 0, err
	}
	if back := v.TokensFor(shares); back < amt {
		shares++
	}
	if shares > held {
		shares = held
	}
	tokens := amt
	if shares == held {
		tokens = v.TokensFor(held) // the whole delegation: its exact worth
	}
	v.Shares -= shares
	v.Tokens -= tokens
	m.setDelegation(ctx, del, val, held-shares)
	m.setValidator(ctx, v)
	return tokens, nil
}

// Handle implements ledger.Module.
func (m *Module) Handle(ctx *ledger.Context, sender keys.Address, msg ledger.Msg) error {
	switch msg.Type {
	case MsgTypeCreateValidator:
		return ledger.HandleAs(msg, func(x MsgCreateValidator) error { return m.handleCreate(ctx, sender, x) })
	case MsgTypeEditValidator:
		return ledger.HandleAs(msg, func(x MsgEditValidator) error { return m.handleEdit(ctx, sender, x) })
	case MsgTypeDelegate:
		return ledger.HandleAs(msg, func(x MsgDelegate) error { return m.handleDelegate(ctx, sender, x) })
	case MsgTypeUndelegate:
		return ledger.HandleAs(msg, func(x MsgUndelegate) error { return m.handleUndelegate(ctx, sender, x) })
	case MsgTypeRedelegate:
		return ledger.HandleAs(msg, func(x MsgRedelegate) error { return m.handleRedelegate(ctx, sender, x) })
	case MsgTypeUnjail:
		return ledger.HandleAs(msg, func(x MsgUnjail) error { return m.handleUnjail(ctx, sender) })
	}
	return fmt.Errorf("%w: %s", ledger.ErrUnknownMsg, msg.Type)
}

// ParamsJSON implements ledger.ParamModule.
func (m *Module) ParamsJSON(ctx *ledger.Context) json.RawMessage {
	b, _ := json.Marshal(m.Params(ctx))
	return b
}

// SetParam implements ledger.ParamModule.
func (m *Module) SetParam(ctx *ledger.Context, key string, value json.RawMessage) error {
	p, err := ledger.ApplyParamJSON(m.Params(ctx), key, value)
	if err != nil {
		return err
	}
	ctx.SetObj(keyParams, p)
	return nil
}
