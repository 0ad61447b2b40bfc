package staking

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
)

var (
	keyParams  = []byte("staking/params")
	keyNextID  = []byte("staking/next_ubd_id")
	valPrefix  = "staking/val/"
	consPrefix = "staking/cons/"
	delPrefix  = "staking/del/"
	delvPrefix = "staking/delv/"
	ubdPrefix  = "staking/ubd/"
	ubddPrefix = "staking/ubdd/"
	ubdvPrefix = "staking/ubdv/"
	signPrefix = "staking/sign/"
)

func cat(prefix string, parts ...[]byte) []byte {
	out := []byte(prefix)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Module is the staking module and keeper.
type Module struct {
	bank     *bank.Module
	evidence ledger.EvidenceVerifier
}

// New returns the staking module. ev checks double-sign evidence; with nil,
// all evidence is refused (and reported as an event).
func New(b *bank.Module, ev ledger.EvidenceVerifier) *Module {
	return &Module{bank: b, evidence: ev}
}

// Params returns the current parameters.
func (*Module) Params(ctx *ledger.Context) Params {
	p := DefaultParams()
	ctx.GetObj(keyParams, &p)
	return p
}

// Validator returns the validator operated by op.
func (*Module) Validator(ctx *ledger.Context, op keys.Address) (Validator, bool) {
	var v Validator
	ok := ctx.GetObj(cat(valPrefix, op[:]), &v)
	return v, ok
}

// ValidatorByConsAddr finds a validator by its consensus address.
func (m *Module) ValidatorByConsAddr(ctx *ledger.Context, cons keys.Address) (Validator, bool) {
	op := ctx.Get(cat(consPrefix, cons[:]))
	if len(op) != keys.AddressLen {
		return Validator{}, false
	}
	return m.Validator(ctx, keys.Address(op))
}

func (*Module) setValidator(ctx *ledger.Context, v Validator) {
	ctx.SetObj(cat(valPrefix, v.Operator[:]), v)
}

// Validators returns every validator, bonded or not, by operator address.
func (*Module) Validators(ctx *ledger.Context) []Validator {
	var out []Validator
	ctx.Iterate([]byte(valPrefix), func(_, raw []byte) bool {
		var v Validator
		mustDecode(raw, &v)
		out = append(out, v)
		return true
	})
	return out
}

// BondedValidators is the active set: validators that are not jailed and
// have at least one unit of power, the top MaxValidators by tokens (ties
// broken by operator address), in that order.
func (m *Module) BondedValidators(ctx *ledger.Context) []Validator {
	all := m.Validators(ctx)
	act := all[:0]
	for _, v := range all {
		if v.Power() > 0 {
			act = append(act, v)
		}
	}
	sort.SliceStable(act, func(i, j int) bool {
		if act[i].Tokens != act[j].Tokens {
			return act[i].Tokens > act[j].Tokens
		}
		return bytes.Compare(act[i].Operator[:], act[j].Operator[:]) < 0
	})
	if max := m.Params(ctx).MaxValidators; uint64(len(act)) > max {
		act = act[:max]
	}
	return act
}

// IsBonded reports whether op is in the active set.
func (m *Module) IsBonded(ctx *ledger.Context, op keys.Address) bool {
	for _, v := range m.BondedValidators(ctx) {
		if v.Operator == op {
			return true
		}
	}
	return false
}

// TotalBonded is the sum of the active set's tokens.
func (m *Module) TotalBonded(ctx *ledger.Context) uint64 {
	var t uint64
	for _, v := range m.BondedValidators(ctx) {
		t = ledger.MustAdd(t, v.Tokens)
	}
	return t
}

// ConsensusSet is the validator set consensus uses, from the active set.
func (m *Module) ConsensusSet(ctx *ledger.Context) []ValidatorPower {
	act := m.BondedValidators(ctx)
	out := make([]ValidatorPower, len(act))
	for i, v := range act {
		out[i] = ValidatorPower{ConsPubKey: v.ConsPubKey, Operator: v.Operator, Power: v.Power()}
	}
	return out
}

func delKey(del, val keys.Address) []byte  { return cat(delPrefix, del[:], val[:]) }
func delvKey(val, del keys.Address) []byte { return cat(delvPrefix, val[:], del[:]) }

// DelegationShares returns the shares del holds in val.
func (*Module) DelegationShares(ctx *ledger.Context, del, val keys.Address) uint64 {
	v := ctx.Get(delKey(del, val))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (*Module) setDelegation(ctx *ledger.Context, del, val keys.Address, shares uint64) {
	if shares == 0 {
		ctx.Delete(delKey(del, val))
		ctx.Delete(delvKey(val, del))
		return
	}
	ctx.Set(delKey(del, val), u64(shares))
	ctx.Set(delvKey(val, del), []byte{1})
}

// Delegations lists del's delegations, by validator address, with their
// current worth in tokens.
func (m *Module) Delegations(ctx *ledger.Context, del keys.Address) []Delegation {
	var out []Delegation
	p := cat(delPrefix, del[:])
	ctx.Iterate(p, func(k, raw []byte) bool {
		var val keys.Address
		copy(val[:], k[len(p):])
		out = append(out, Delegation{Delegator: del, Validator: val, Shares: binary.BigEndian.Uint64(raw)})
		return true
	})
	for i := range out {
		if v, ok := m.Validator(ctx, out[i].Validator); ok {
			out[i].Tokens = v.TokensFor(out[i].Shares)
		}
	}
	return out
}

// ValidatorDelegations lists the delegations to val, by delegator address.
func (m *Module) ValidatorDelegations(ctx *ledger.Context, val keys.Address) []Delegation {
	v, _ := m.Validator(ctx, val)
	var out []Delegation
	p := cat(delvPrefix, val[:])
	ctx.Iterate(p, func(k, _ []byte) bool {
		var del keys.Address
		copy(del[:], k[len(p):])
		out = append(out, Delegation{Delegator: del, Validator: val})
		return true
	})
	for i := range out {
		out[i].Shares = m.DelegationShares(ctx, out[i].Delegator, val)
		out[i].Tokens = v.TokensFor(out[i].Shares)
	}
	return out
}

// BondedStakeOf is the worth in tokens of del's delegations to validators
// in the active set: the weight del carries in governance and the gauge.
func (m *Module) BondedStakeOf(ctx *ledger.Context, del keys.Address) uint64 {
	bonded := map[keys.Address]bool{}
	for _, v := range m.BondedValidators(ctx) {
		bonded[v.Operator] = true
	}
	var t uint64
	for _, d := range m.Delegations(ctx, del) {
		if bonded[d.Validator] {
			t = ledger.MustAdd(t, d.Tokens)
		}
	}
	return t
}

func ubdKey(u *Unbonding) []byte {
	return cat(ubdPrefix, u64(uint64(u.CompletionTime)), u64(u.ID))
}

// Unbondings lists del's unbonding entries, oldest first.
func (*Module) Unbondings(ctx *ledger.Context, del keys.Address) []Unbonding {
	var out []Unbonding
	ctx.Iterate(cat(ubddPrefix, del[:]), func(_, qk []byte) bool {
		var u Unbonding
		if ctx.GetObj(qk, &u) {
			out = append(out, u)
		}
		return true
	})
	return out
}

func (*Module) addUnbonding(ctx *ledger.Context, u Unbonding) {
	id := binary.BigEndian.Uint64(append(make([]byte, 8-len(ctx.Get(keyNextID))), ctx.Get(keyNextID)...))
	u.ID = id
	ctx.Set(keyNextID, u64(id+1))
	qk := ubdKey(&u)
	ctx.SetObj(qk, u)
	ctx.Set(cat(ubddPrefix, u.Delegator[:], u64(id)), qk)
	ctx.Set(cat(ubdvPrefix, u.Validator[:], u64(id)), qk)
}

func (*Module) removeUnbonding(ctx *ledger.Context, u *Unbonding) {
	ctx.Delete(ubdKey(u))
	ctx.Delete(cat(ubddPrefix, u.Delegator[:], u64(u.ID)))
	ctx.Delete(cat(ubdvPrefix, u.Validator[:], u64(u.ID)))
}

// SigningInfo returns the downtime record of a consensus address.
func (*Module) SigningInfo(ctx *ledger.Context, cons keys.Address) (SigningInfo, bool) {
	var s SigningInfo
	ok := ctx.GetObj(cat(signPrefix, cons[:]), &s)
	return s, ok
}

// Holdings implements ledger.Holder: staked and unbonding tokens.
func (m *Module) Holdings(ctx *ledger.Context) []ledger.Holding {
	var bonded, unbonding uint64
	for _, v := range m.Validators(ctx) {
		bonded = ledger.MustAdd(bonded, v.Tokens)
	}
	ctx.Iterate([]byte(ubdPrefix), func(_, raw []byte) bool {
		var u Unbonding
		mustDecode(raw, &u)
		unbonding = ledger.MustAdd(unbonding, u.Amount)
		return true
	})
	return []ledger.Holding{{Category: "bonded", Amount: bonded}, {Category: "unbonding", Amount: unbonding}}
}

func mustDecode(raw []byte, v any) {
	ctx := ledger.DecodeStored(raw, v)
	if ctx != nil {
		panic(fmt.Sprintf("staking: corrupt record: %v", ctx))
	}
}
