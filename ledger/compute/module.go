package compute

import (
	"encoding/json"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
)

// Module is the compute module and keeper.
type Module struct {
	bank    *bank.Module
	staking *staking.Module
}

var (
	_ ledger.Module      = (*Module)(nil)
	_ ledger.Holder      = (*Module)(nil)
	_ ledger.ParamModule = (*Module)(nil)
)

// New returns the compute module over the bank (bonds, escrow, burns, the
// "compute" pool) and staking (who may attest, and with what weight).
func New(b *bank.Module, s *staking.Module) *Module { return &Module{bank: b, staking: s} }

// Name implements ledger.Module.
func (*Module) Name() string { return Name }

// MsgTypes implements ledger.Module.
func (*Module) MsgTypes() []string {
	return []string{MsgTypeRegister, MsgTypeUpdate, MsgTypeUnregister, MsgTypeUnjail,
		MsgTypeCommitRoot, MsgTypeAttest, MsgTypeJobSubmit, MsgTypeJobResult, MsgTypeJobReexec,
		MsgTypeSetResources, MsgTypeJobSubmitContainer, MsgTypeJobContainerResult,
		MsgTypeLeaseStart, MsgTypeLeaseClose, MsgTypeLeaseAllow, MsgTypeLeaseAttest,
		MsgTypeJobReexecCommit, MsgTypeJobReexecReveal, MsgTypeJobResultCommit, MsgTypeJobResultReveal}
}

func genesisParams(g *ledger.Genesis) (Params, error) {
	return ledger.GenesisParams(g, Name, DefaultParams())
}

// ValidateGenesis implements ledger.Module.
func (*Module) ValidateGenesis(g *ledger.Genesis) error {
	_, err := genesisParams(g)
	return err
}

// InitGenesis implements ledger.Module: parameters only; providers
// register by transaction.
func (*Module) InitGenesis(ctx *ledger.Context, g *ledger.Genesis) error {
	p, err := genesisParams(g)
	if err != nil {
		return err
	}
	ctx.SetObj(keyParams, p)
	return nil
}

// Params returns the current parameters.
func (*Module) Params(ctx *ledger.Context) Params {
	p := DefaultParams()
	ctx.GetObj(keyParams, &p)
	return p
}

// ParamsJSON implements ledger.ParamModule.
func (m *Module) ParamsJSON(ctx *ledger.Context) json.RawMessage {
	b, _ := json.Marshal(m.Params(ctx))
	return b
}

// SetParam implements ledger.ParamModule. Contest timing changes apply from
// the next epoch (the current one keeps the schedule fixed at its start).
func (m *Module) SetParam(ctx *ledger.Context, key string, value json.RawMessage) error {
	p, err := ledger.ApplyParamJSON(m.Params(ctx), key, value)
	if err != nil {
		return err
	}
	ctx.SetObj(keyParams, p)
	return nil
}

// Holdings implements ledger.Holder: provider bonds ("bonded"), bonds of
// unregistered providers on their way back ("unbonding"), and job escrow
// ("escrowed"). The emission pool is a bank pool, counted by the bank.
func (*Module) Holdings(ctx *ledger.Context) []ledger.Holding {
	return []ledger.Holding{
		{Category: "bonded", Amount: ctx.GetU64(keyBonded)},
		{Category: "unbonding", Amount: ctx.GetU64(keyUnbonding)},
		{Category: "escrowed", Amount: ctx.GetU64(keyEscrow)},
	}
}

// Handle implements ledger.Module.
func (m *Module) Handle(ctx *ledger.Context, sender keys.Address, msg ledger.Msg) error {
	switch msg.Type {
	case MsgTypeRegister:
		return ledger.HandleAs(msg, func(x MsgRegister) error { return m.register(ctx, sender, x) })
	case MsgTypeUpdate:
		return ledger.HandleAs(msg, func(x MsgUpdate) error { return m.update(ctx, sender, x) })
	case MsgTypeUnregister:
		return ledger.HandleAs(msg, func(MsgUnregister) error { return m.unregister(ctx, sender) })
	case MsgTypeUnjail:
		return ledger.HandleAs(msg, func(MsgUnjail) error { return m.unjail(ctx, sender) })
	case MsgTypeCommitRoot:
		return ledger.HandleAs(msg, func(x MsgCommitRoot) error { return m.commitRoot(ctx, sender, x) })
	case MsgTypeAttest:
		return ledger.HandleAs(msg, func(x MsgAttest) error { return m.attest(ctx, sender, x) })
	case MsgTypeJobSubmit:
		return ledger.HandleAs(msg, func(x MsgJobSubmit) error { return m.submitJob(ctx, sender, x) })
	case MsgTypeJobResult:
		return ledger.HandleAs(msg, func(x MsgJobResult) error { return m.jobResult(ctx, sender, x) })
	case MsgTypeJobReexec:
		return ErrReexecInClear
	case MsgTypeJobReexecCommit:
		return ledger.HandleAs(msg, func(x MsgJobReexecCommit) error { return m.reexecCommit(ctx, sender, x) })
	case MsgTypeJobReexecReveal:
		return ledger.HandleAs(msg, func(x MsgJobReexecReveal) error { return m.reexecReveal(ctx, sender, x) })
	case MsgTypeJobResultCommit:
		return ledger.HandleAs(msg, func(x MsgJobResultCommit) error { return m.resultCommit(ctx, sender, x) })
	case MsgTypeJobResultReveal:
		return ledger.HandleAs(msg, func(x MsgJobResultReveal) error { return m.resultReveal(ctx, sender, x) })
	case MsgTypeSetResources:
		return ledger.HandleAs(msg, func(x MsgSetResources) error { return m.setResources(ctx, sender, x) })
	case MsgTypeJobSubmitContainer:
		return ledger.HandleAs(msg, func(x MsgJobSubmitContainer) error { return m.submitContainer(ctx, sender, x) })
	case MsgTypeJobContainerResult:
		return ledger.HandleAs(msg, func(x MsgJobContainerResult) error { return m.containerResult(ctx, sender, x) })
	case MsgTypeLeaseStart:
		return ledger.HandleAs(msg, func(x MsgLeaseStart) error { return m.leaseStart(ctx, sender, x) })
	case MsgTypeLeaseClose:
		return ledger.HandleAs(msg, func(x MsgLeaseClose) error { return m.leaseClose(ctx, sender, x) })
	case MsgTypeLeaseAllow:
		return ledger.HandleAs(msg, func(x MsgLeaseAllow) error { return m.leaseAllow(ctx, sender, x) })
	case MsgTypeLeaseAttest:
		return ledger.HandleAs(msg, func(x MsgLeaseAttest) error { return m.leaseAttest(ctx, sender, x) })
	}
	return fmt.Errorf("%w: %s", ledger.ErrUnknownMsg, msg.Type)
}

// BeginBlock implements ledger.Module: re-execution draws for the jobs
// reported in the previous block (this block's beacon was unknown to their
// providers), a new epoch when the last one has closed and some provider
// is live, and the check seed at the commit deadline. An idle module (no
// live provider, nothing due) writes nothing. Every seed is this block's
// beacon (ledger/beacon.go), never its LastBlockHash, which the previous
// proposer could grind by reordering or choosing transactions.
func (m *Module) BeginBlock(ctx *ledger.Context, b *ledger.BlockInfo) error {
	seed := blockSeed(b.Height, b.Beacon)
	m.drawsDue(ctx, seed)
	e, ok := m.epoch(ctx)
	if !ok || b.Height > e.End {
		next := uint64(0)
		if ok {
			next = e.Number + 1
		}
		return m.startEpoch(ctx, next, seed)
	}
	if b.Height == e.CommitDeadline && e.Providers > 0 {
		e.CheckSeed = seed[:]
		ctx.SetObj(keyEpoch, e)
	}
	return nil
}

// EndBlock implements ledger.Module. Per block: job deadlines and
// re-execution tallies due at this height (each indexed by height, so only
// the due entries are read), the leases of providers jailed in the last
// block and the lease windows that end at this height, then at most max_assign_per_block
// assignments; at the epoch's last height, the epoch close (one pass over
// its rounds and attestations); last, the unbondings that mature at this
// height.
func (m *Module) EndBlock(ctx *ledger.Context) error {
	p := m.Params(ctx)
	if err := m.jobDeadlines(ctx, p); err != nil {
		return err
	}
	m.tallyDue(ctx, p)
	// Leases of providers jailed since the last block end before any of
	// their windows is charged; then the windows due at this height.
	if err := m.goneLeases(ctx, p); err != nil {
		return err
	}
	if err := m.leaseWindows(ctx, p); err != nil {
		return err
	}
	if err := m.assignJobs(ctx, p); err != nil {
		return err
	}
	if e, ok := m.epoch(ctx); ok && ctx.Height == e.End {
		if err := m.closeEpoch(ctx, p, e); err != nil {
			return err
		}
	}
	// Last: a provider whose unbonding ends at this height is still there
	// for the tallies and the epoch close due at it (and slashed by them).
	return m.matureUnbondings(ctx)
}
