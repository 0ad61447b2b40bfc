package emission

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
)

// Name is the module name.
const Name = "emission"

// MsgTypeSetGauge sets (or clears) the sender's gauge vote.
const MsgTypeSetGauge = "emission/set_gauge"

// MaxGaugeEntries is the most modules one gauge vote may name.
const MaxGaugeEntries = 32

// Sentinel errors of the emission module.
var (
	ErrUnknownModule  = errors.New("module is not live")
	ErrNoStake        = errors.New("sender has no bonded stake")
	ErrInvalidWeights = errors.New("invalid gauge weights")
	ErrComputeForever = errors.New("the compute module cannot be retired")
)

// GaugeWeight is one entry of a gauge vote.
type GaugeWeight struct {
	_      struct{} `cbor:",toarray"`
	Module string   `json:"module"`
	Weight uint32   `json:"weight"`
}

// MsgSetGauge splits the sender's bonded stake across live modules in
// proportion to Weights; an empty list withdraws the sender's vote.
type MsgSetGauge struct {
	_       struct{} `cbor:",toarray"`
	Weights []GaugeWeight
}

var (
	keyParams    = []byte("emission/params")
	keyPending   = []byte("emission/pending")
	keyLastEpoch = []byte("emission/last_epoch")
	livePrefix   = "emission/live/"
	votePrefix   = "emission/vote/"
)

// Module is the emission module and keeper. It is a ledger.ParamModule
// but not a ledger.Holder: it holds no tokens (pending emission is not
// minted; what it pays lands in bank balances and bank pools).
type Module struct {
	bank    *bank.Module
	staking *staking.Module
}

var (
	_ ledger.Module      = (*Module)(nil)
	_ ledger.ParamModule = (*Module)(nil)
)

// New returns the emission module over the bank (which mints) and staking
// (the active set, delegations and stake of voters).
func New(b *bank.Module, s *staking.Module) *Module { return &Module{bank: b, staking: s} }

// Name implements ledger.Module.
func (*Module) Name() string { return Name }

// MsgTypes implements ledger.Module.
func (*Module) MsgTypes() []string { return []string{MsgTypeSetGauge} }

func genesisParams(g *ledger.Genesis) (Params, error) {
	return ledger.GenesisParams(g, Name, DefaultParams())
}

// ValidateGenesis implements ledger.Module.
func (*Module) ValidateGenesis(g *ledger.Genesis) error {
	_, err := genesisParams(g)
	return err
}

// InitGenesis implements ledger.Module: params, the live set, nothing
// pending.
func (m *Module) InitGenesis(ctx *ledger.Context, g *ledger.Genesis) error {
	p, err := genesisParams(g)
	if err != nil {
		return err
	}
	m.setParams(ctx, p)
	return nil
}

// setParams stores p; its LiveModules replace the live set.
func (*Module) setParams(ctx *ledger.Context, p Params) {
	live := p.LiveModules
	p.LiveModules = nil
	ctx.SetObj(keyParams, p)
	var old [][]byte
	ctx.Iterate([]byte(livePrefix), func(k, _ []byte) bool {
		old = append(old, k)
		return true
	})
	for _, k := range old {
		ctx.Delete(k)
	}
	for _, name := range live {
		ctx.Set([]byte(livePrefix+name), []byte{1})
	}
}

// Params returns the current parameters, LiveModules being the live set.
func (m *Module) Params(ctx *ledger.Context) Params {
	p := storedParams(ctx)
	p.LiveModules = m.LiveModules(ctx)
	return p
}

// storedParams are the parameters without the live set.
func storedParams(ctx *ledger.Context) Params {
	p := DefaultParams()
	p.LiveModules = nil
	ctx.GetObj(keyParams, &p)
	return p
}

// ParamsJSON implements ledger.ParamModule.
func (m *Module) ParamsJSON(ctx *ledger.Context) json.RawMessage {
	b, _ := json.Marshal(m.Params(ctx))
	return b
}

// SetParam implements ledger.ParamModule. Setting live_modules replaces
// the live set (it must keep "compute").
func (m *Module) SetParam(ctx *ledger.Context, key string, value json.RawMessage) error {
	p, err := ledger.ApplyParamJSON(m.Params(ctx), key, value)
	if err != nil {
		return err
	}
	m.setParams(ctx, p)
	return nil
}

// LiveModules lists the live modules in name order.
func (*Module) LiveModules(ctx *ledger.Context) []string {
	var out []string
	ctx.Iterate([]byte(livePrefix), func(k, _ []byte) bool {
		out = append(out, string(k[len(livePrefix):]))
		return true
	})
	return out
}

// IsLive reports whether name can receive emission.
func (*Module) IsLive(ctx *ledger.Context, name string) bool {
	return ctx.Has([]byte(livePrefix + name))
}

// AddLiveModule makes name eligible for gauge votes and emission (the
// contest module calls it when governance approves a contest). Adding a
// live module again is a no-op.
func (*Module) AddLiveModule(ctx *ledger.Context, name string) error {
	if !ValidModuleName(name) {
		return fmt.Errorf("%w: module name %q must be 1-48 characters of a-z, 0-9, '_', '.', '-'", ledger.ErrInvalidMsg, name)
	}
	ctx.Set([]byte(livePrefix+name), []byte{1})
	return nil
}

// RemoveLiveModule retires name: from the next epoch it receives nothing
// and votes for it are ignored (they stay stored). Its bank pool is left
// to its owner. The compute module cannot be retired.
func (m *Module) RemoveLiveModule(ctx *ledger.Context, name string) error {
	if name == ComputeModule {
		return ErrComputeForever
	}
	if !m.IsLive(ctx, name) {
		return fmt.Errorf("%w: %q", ErrUnknownModule, name)
	}
	ctx.Delete([]byte(livePrefix + name))
	return nil
}

// Pending is the emission accrued since the last payout (or carried over
// from it): scheduled but not minted, so in no holding.
func (*Module) Pending(ctx *ledger.Context) uint64 {
	v := ctx.Get(keyPending)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (*Module) setPending(ctx *ledger.Context, v uint64) {
	if v == 0 {
		ctx.Delete(keyPending)
		return
	}
	ctx.Set(keyPending, binary.BigEndian.AppendUint64(nil, v))
}

// BeginBlock implements ledger.Module: the block's reward, cut to the
// supply cap, is added to pending.
func (m *Module) BeginBlock(ctx *ledger.Context, b *ledger.BlockInfo) error {
	p := storedParams(ctx)
	r := BlockReward(p, b.Height)
	if r == 0 {
		return nil
	}
	pending := m.Pending(ctx)
	// Room left: under the cap, and in any case within uint64.
	limit := p.MaxSupply
	if limit == 0 {
		limit = ^uint64(0)
	}
	used, err := ledger.Add(m.bank.Supply(ctx).Minted, pending)
	if err != nil {
		used = ^uint64(0)
	}
	if used >= limit {
		return nil
	}
	r = min(r, limit-used)
	m.setPending(ctx, pending+r) // pending+r <= limit - minted
	return nil
}

// EndBlock implements ledger.Module: at the end of every epoch the pending
// emission is paid out (see the package documentation).
func (m *Module) EndBlock(ctx *ledger.Context) error {
	p := storedParams(ctx)
	if ctx.Height == 0 || ctx.Height%p.EpochLengthBlocks != 0 {
		return nil
	}
	return m.payEpoch(ctx, p)
}

// Handle implements ledger.Module.
func (m *Module) Handle(ctx *ledger.Context, sender keys.Address, msg ledger.Msg) error {
	switch msg.Type {
	case MsgTypeSetGauge:
		return ledger.HandleAs(msg, func(x MsgSetGauge) error { return m.setGauge(ctx, sender, x.Weights) })
	}
	return fmt.Errorf("%w: %s", ledger.ErrUnknownMsg, msg.Type)
}
