// Package bank is the ledger module for balances, transfers, module pools,
// fees and the supply counters. Fees are burned: they leave the payer's
// balance and add to the burned total. Tokens are created only through Mint
// and destroyed only through Burn, so minted - burned is the supply.
//
// Store layout (under "bank/"): bal/<addr> and pool/<name> as 8-byte
// big-endian amounts; supply and params as canonical CBOR.
package bank

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Name is the module name.
const Name = "bank"

// Message types.
const (
	MsgTypeSend      = "bank/send"
	MsgTypeMultiSend = "bank/multi_send"
)

// MaxOutputs bounds a multi-send.
const MaxOutputs = 256

// Output is one recipient of a multi-send.
type Output struct {
	_      struct{} `cbor:",toarray"`
	To     keys.Address
	Amount uint64
}

// MsgMultiSend pays several recipients at once (payrolls, airdrops); the
// total is checked for overflow before anything moves.
type MsgMultiSend struct {
	_       struct{} `cbor:",toarray"`
	Outputs []Output
}

// MsgSend moves Amount uinf from the sender to To.
type MsgSend struct {
	_      struct{} `cbor:",toarray"`
	To     keys.Address
	Amount uint64
}

// Params of the bank module.
type Params struct {
	// MinFee is the smallest fee a transaction may pay, in uinf.
	MinFee uint64 `json:"min_fee"`
}

// DefaultParams are used when genesis has no bank section.
func DefaultParams() Params { return Params{MinFee: 100} }

var (
	keyParams  = []byte("bank/params")
	keySupply  = []byte("bank/supply")
	balPrefix  = "bank/bal/"
	poolPrefix = "bank/pool/"
)

type supply struct {
	_      struct{} `cbor:",toarray"`
	Minted uint64
	Burned uint64
}

// Module is the bank module and keeper.
type Module struct{}

// New returns the bank module.
func New() *Module { return &Module{} }

// Name implements ledger.Module.
func (*Module) Name() string { return Name }

// MsgTypes implements ledger.Module.
func (*Module) MsgTypes() []string { return []string{MsgTypeSend, MsgTypeMultiSend} }

// ValidateGenesis implements ledger.Module.
func (*Module) ValidateGenesis(g *ledger.Genesis) error {
	_, err := ledger.DecodeParams(g, Name, DefaultParams())
	return err
}

// InitGenesis mints the genesis balances.
func (m *Module) InitGenesis(ctx *ledger.Context, g *ledger.Genesis) error {
	p, err := ledger.DecodeParams(g, Name, DefaultParams())
	if err != nil {
		return err
	}
	ctx.SetObj(keyParams, p)
	ctx.SetObj(keySupply, supply{})
	for _, a := range g.Accounts {
		if err := m.Mint(ctx, a.Address, a.Balance); err != nil {
			return err
		}
	}
	return nil
}

// BeginBlock implements ledger.Module.
func (*Module) BeginBlock(*ledger.Context, *ledger.BlockInfo) error { return nil }

// EndBlock implements ledger.Module.
func (*Module) EndBlock(*ledger.Context) error { return nil }

// Handle implements ledger.Module.
func (m *Module) Handle(ctx *ledger.Context, sender keys.Address, msg ledger.Msg) error {
	switch msg.Type {
	case MsgTypeSend:
		var s MsgSend
		if err := ledger.DecodeMsg(msg, &s); err != nil {
			return err
		}
		if s.Amount == 0 {
			return fmt.Errorf("%w: send of zero amount", ledger.ErrInvalidMsg)
		}
		if s.To.IsZero() {
			return fmt.Errorf("%w: recipient is the zero address", ledger.ErrInvalidMsg)
		}
		if err := m.Send(ctx, sender, s.To, s.Amount); err != nil {
			return err
		}
		ctx.Emit("transfer", "from", sender.String(), "to", s.To.String(), "amount", fmt.Sprint(s.Amount))
		return nil
	case MsgTypeMultiSend:
		var s MsgMultiSend
		if err := ledger.DecodeMsg(msg, &s); err != nil {
			return err
		}
		return m.multiSend(ctx, sender, s)
	}
	return fmt.Errorf("%w: %s", ledger.ErrUnknownMsg, msg.Type)
}

func balKey(a keys.Address) []byte { return append([]byte(balPrefix), a[:]...) }
func poolKey(n string) []byte      { return []byte(poolPrefix + n) }

// Balance returns the spendable balance of a.
func (*Module) Balance(ctx *ledger.Context, a keys.Address) uint64 { return ctx.GetU64(balKey(a)) }

// EachBalance calls f for every account with a balance entry, in address
// order, until f returns false. Read-only (the explorer's account list).
func (*Module) EachBalance(ctx *ledger.Context, f func(a keys.Address, amt uint64) bool) {
	ctx.Iterate([]byte(balPrefix), func(k, v []byte) bool {
		var a keys.Address
		if len(k) != len(balPrefix)+len(a) || len(v) != 8 {
			return true
		}
		copy(a[:], k[len(balPrefix):])
		return f(a, binary.BigEndian.Uint64(v))
	})
}

// AddBalance credits a (tokens moved from elsewhere, not minted).
func (*Module) AddBalance(ctx *ledger.Context, a keys.Address, amt uint64) error {
	k := balKey(a)
	v, err := ledger.Add(ctx.GetU64(k), amt)
	if err != nil {
		return err
	}
	ctx.SetU64(k, v)
	return nil
}

// SubBalance debits a, failing with ErrInsufficientFunds.
func (*Module) SubBalance(ctx *ledger.Context, a keys.Address, amt uint64) error {
	k := balKey(a)
	v, err := ledger.Sub(ctx.GetU64(k), amt)
	if err != nil {
		return fmt.Errorf("%w (account %s)", err, a)
	}
	ctx.SetU64(k, v)
	return nil
}

// Send moves amt from one account to another.
func (m *Module) Send(ctx *ledger.Context, from, to keys.Address, amt uint64) error {
	if err := m.SubBalance(ctx, from, amt); err != nil {
		return err
	}
	return m.AddBalance(ctx, to, amt)
}

func (*Module) supply(ctx *ledger.Context) supply {
	var s supply
	ctx.GetObj(keySupply, &s)
	return s
}

// Mint creates amt new tokens in account to.
func (m *Module) Mint(ctx *ledger.Context, to keys.Address, amt uint64) error {
	if err := m.NoteMinted(ctx, amt); err != nil {
		return err
	}
	return m.AddBalance(ctx, to, amt)
}

// MintToPool creates amt new tokens in a module pool.
func (m *Module) MintToPool(ctx *ledger.Context, pool string, amt uint64) error {
	if err := m.NoteMinted(ctx, amt); err != nil {
		return err
	}
	return m.PoolAdd(ctx, pool, amt)
}

// NoteMinted records amt as minted for tokens a module creates in its own
// holdings (genesis self-bonds). Prefer Mint or MintToPool.
func (m *Module) NoteMinted(ctx *ledger.Context, amt uint64) error {
	s := m.supply(ctx)
	v, err := ledger.Add(s.Minted, amt)
	if err != nil {
		return err
	}
	s.Minted = v
	ctx.SetObj(keySupply, s)
	return nil
}

// Burn destroys amt from account from.
func (m *Module) Burn(ctx *ledger.Context, from keys.Address, amt uint64) error {
	if err := m.SubBalance(ctx, from, amt); err != nil {
		return err
	}
	m.NoteBurned(ctx, amt)
	return nil
}

// NoteBurned records amt as burned for tokens a module already removed
// from its own holdings (slashed stake, a vetoed deposit).
func (m *Module) NoteBurned(ctx *ledger.Context, amt uint64) {
	s := m.supply(ctx)
	s.Burned = ledger.MustAdd(s.Burned, amt) // burned <= minted <= max uint64
	ctx.SetObj(keySupply, s)
}

// Pool returns the balance of a module pool.
func (*Module) Pool(ctx *ledger.Context, name string) uint64 { return ctx.GetU64(poolKey(name)) }

// PoolAdd credits a pool with tokens moved from elsewhere.
func (*Module) PoolAdd(ctx *ledger.Context, name string, amt uint64) error {
	v, err := ledger.Add(ctx.GetU64(poolKey(name)), amt)
	if err != nil {
		return err
	}
	ctx.SetU64(poolKey(name), v)
	return nil
}

// PoolSub debits a pool.
func (*Module) PoolSub(ctx *ledger.Context, name string, amt uint64) error {
	v, err := ledger.Sub(ctx.GetU64(poolKey(name)), amt)
	if err != nil {
		return fmt.Errorf("%w (pool %s)", err, name)
	}
	ctx.SetU64(poolKey(name), v)
	return nil
}

// PoolToAccount pays amt from a pool to an account.
func (m *Module) PoolToAccount(ctx *ledger.Context, name string, to keys.Address, amt uint64) error {
	if err := m.PoolSub(ctx, name, amt); err != nil {
		return err
	}
	return m.AddBalance(ctx, to, amt)
}

// Pools lists every non-empty pool, in name order.
func (*Module) Pools(ctx *ledger.Context) map[string]uint64 {
	out := map[string]uint64{}
	ctx.Iterate([]byte(poolPrefix), func(k, v []byte) bool {
		if len(v) == 8 {
			out[string(k[len(poolPrefix):])] = binary.BigEndian.Uint64(v)
		}
		return true
	})
	return out
}

// Params returns the current parameters.
func (*Module) Params(ctx *ledger.Context) Params {
	p := DefaultParams()
	ctx.GetObj(keyParams, &p)
	return p
}

// MinFee implements ledger.FeePayer.
func (m *Module) MinFee(ctx *ledger.Context) uint64 { return m.Params(ctx).MinFee }

// ChargeFee implements ledger.FeePayer: the fee is burned.
func (m *Module) ChargeFee(ctx *ledger.Context, payer keys.Address, fee uint64) error {
	if fee == 0 {
		return nil
	}
	return m.Burn(ctx, payer, fee)
}

// Supply implements ledger.SupplyKeeper.
func (m *Module) Supply(ctx *ledger.Context) ledger.Supply {
	s := m.supply(ctx)
	return ledger.Supply{Minted: s.Minted, Burned: s.Burned, Circulating: s.Minted - s.Burned}
}

// Holdings implements ledger.Holder: all balances and all pools.
func (m *Module) Holdings(ctx *ledger.Context) []ledger.Holding {
	var bal uint64
	ctx.Iterate([]byte(balPrefix), func(_, v []byte) bool {
		bal = ledger.MustAdd(bal, binary.BigEndian.Uint64(v))
		return true
	})
	var pools uint64
	for _, v := range m.Pools(ctx) {
		pools = ledger.MustAdd(pools, v)
	}
	return []ledger.Holding{{Category: "balances", Amount: bal}, {Category: "pools", Amount: pools}}
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

func (m *Module) multiSend(ctx *ledger.Context, sender keys.Address, s MsgMultiSend) error {
	if len(s.Outputs) == 0 || len(s.Outputs) > MaxOutputs {
		return fmt.Errorf("%w: multi-send needs 1 to %d outputs, got %d", ledger.ErrInvalidMsg, MaxOutputs, len(s.Outputs))
	}
	var total uint64
	for i, o := range s.Outputs {
		if o.Amount == 0 || o.To.IsZero() {
			return fmt.Errorf("%w: output %d has a zero amount or recipient", ledger.ErrInvalidMsg, i)
		}
		var err error
		if total, err = ledger.Add(total, o.Amount); err != nil {
			return fmt.Errorf("%w: outputs total more than 2^64-1 uinf", ledger.ErrOverflow)
		}
	}
	if err := m.SubBalance(ctx, sender, total); err != nil {
		return err
	}
	for _, o := range s.Outputs {
		if err := m.AddBalance(ctx, o.To, o.Amount); err != nil {
			return err
		}
	}
	ctx.Emit("multi_transfer", "from", sender.String(), "outputs", fmt.Sprint(len(s.Outputs)), "total", fmt.Sprint(total))
	return nil
}
