package contest

import (
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
)

// Module is the contest module and keeper. It holds no tokens itself:
// each contest's tokens are in the bank pool PoolName(id), which bank
// reports among its holdings.
type Module struct {
	bank     *bank.Module
	staking  *staking.Module
	emission *emission.Module
}

var _ ledger.Module = (*Module)(nil)

// New returns the contest module and registers the "contest/create" and
// "contest/retire" proposal kinds with g. Wire it after gov and emission
// so that its end-block sees the block's final stake and pools.
func New(b *bank.Module, s *staking.Module, g *gov.Module, e *emission.Module) *Module {
	m := &Module{bank: b, staking: s, emission: e}
	g.RegisterContent(KindCreate, createContent{m})
	g.RegisterContent(KindRetire, retireContent{m})
	return m
}

// Name implements ledger.Module.
func (*Module) Name() string { return Name }

// MsgTypes implements ledger.Module.
func (*Module) MsgTypes() []string {
	return []string{MsgTypeCommit, MsgTypeReveal, MsgTypeRevealDataset, MsgTypeAttestCommit, MsgTypeAttestReveal}
}

// ValidateGenesis implements ledger.Module: contests are created only
// through governance, so genesis has nothing for this module.
func (*Module) ValidateGenesis(*ledger.Genesis) error { return nil }

// InitGenesis implements ledger.Module.
func (*Module) InitGenesis(*ledger.Context, *ledger.Genesis) error { return nil }

// BeginBlock implements ledger.Module.
func (*Module) BeginBlock(*ledger.Context, *ledger.BlockInfo) error { return nil }

// Handle implements ledger.Module.
func (m *Module) Handle(ctx *ledger.Context, sender keys.Address, msg ledger.Msg) error {
	switch msg.Type {
	case MsgTypeCommit:
		return ledger.HandleAs(msg, func(x MsgCommit) error { return m.commit(ctx, sender, x) })
	case MsgTypeReveal:
		return ledger.HandleAs(msg, func(x MsgReveal) error { return m.reveal(ctx, sender, x) })
	case MsgTypeRevealDataset:
		return ledger.HandleAs(msg, func(x MsgRevealDataset) error { return m.revealDataset(ctx, sender, x) })
	case MsgTypeAttestCommit:
		return ledger.HandleAs(msg, func(x MsgAttestCommit) error { return m.attestCommit(ctx, sender, x) })
	case MsgTypeAttestReveal:
		return ledger.HandleAs(msg, func(x MsgAttestReveal) error { return m.attestReveal(ctx, sender, x) })
	}
	return fmt.Errorf("%w: %s", ledger.ErrUnknownMsg, msg.Type)
}

// EndBlock implements ledger.Module: for each live contest, freeze the
// round when its builders' reveal window ends (the scored submissions and
// the validator set with its stake), and close it at its last block
// (agreement and payouts). Reads only the small live index otherwise.
func (m *Module) EndBlock(ctx *ledger.Context) error {
	type due struct {
		id uint64
		e  liveEntry
	}
	var live []due
	ctx.Iterate([]byte(livePrefix), func(k, raw []byte) bool {
		var d due
		d.id = binary.BigEndian.Uint64(k[len(livePrefix):])
		mustDecode(raw, &d.e)
		live = append(live, d)
		return true
	})
	for _, d := range live {
		if ctx.Height < d.e.Start {
			continue
		}
		ri := RoundOf(d.e.Start, d.e.Schedule, ctx.Height)
		if ctx.Height == ri.Reveal.End {
			if err := m.freeze(ctx, d.id, ri.Round); err != nil {
				return err
			}
		}
		if ctx.Height == ri.End {
			if err := m.closeRound(ctx, d.id, ri.Round); err != nil {
				return err
			}
		}
	}
	return nil
}

// DecodeSpec decodes the value of a contest/create proposal.
func DecodeSpec(raw []byte) (Spec, error) {
	var s Spec
	if err := codec.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("%w: not a canonical Spec: %v", ErrInvalidSpec, err)
	}
	return s, nil
}

// NewCreateContent is the gov content that creates a contest from spec.
func NewCreateContent(spec Spec) gov.Content {
	return gov.Content{Kind: KindCreate, Value: codec.MustMarshal(spec)}
}

// NewRetireContent is the gov content that retires contest id.
func NewRetireContent(id uint64) gov.Content {
	return gov.Content{Kind: KindRetire, Value: codec.MustMarshal(RetireContent{ID: id})}
}

// createContent makes a contest live when its proposal passes.
type createContent struct{ m *Module }

func (createContent) ValidateContent(_ *ledger.Context, raw []byte) error {
	s, err := DecodeSpec(raw)
	if err != nil {
		return err
	}
	return s.Validate()
}

func (c createContent) ExecuteContent(ctx *ledger.Context, raw []byte) error {
	s, err := DecodeSpec(raw)
	if err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	branch, commit := ctx.Branch()
	id := nextCounter(branch, []byte(keyNextID))
	r := record{ID: id, Spec: s, Status: StatusLive, CreatedHeight: ctx.Height, StartHeight: ctx.Height + 1, Best: s.Baseline}
	r.DatasetCIDs = make([]string, len(s.Datasets))
	for i, d := range s.Datasets {
		r.DatasetCIDs[i] = d.CID // empty for sealed datasets until revealed
	}
	if err := c.m.emission.AddLiveModule(branch, PoolName(id)); err != nil {
		return err
	}
	setRecord(branch, &r)
	branch.SetObj(liveKey(id), liveEntry{Start: r.StartHeight, Schedule: s.Schedule})
	branch.Emit("contest_created", "contest", fmt.Sprint(id), "name", s.Name, "pool", PoolName(id), "start", fmt.Sprint(r.StartHeight))
	commit()
	return nil
}

// retireContent retires a contest when its proposal passes.
type retireContent struct{ m *Module }

func decodeRetire(raw []byte) (RetireContent, error) {
	var rc RetireContent
	if err := codec.Unmarshal(raw, &rc); err != nil {
		return rc, fmt.Errorf("not a canonical RetireContent: %v", err)
	}
	return rc, nil
}

func (c retireContent) ValidateContent(ctx *ledger.Context, raw []byte) error {
	rc, err := decodeRetire(raw)
	if err != nil {
		return err
	}
	r, err := c.m.getRecord(ctx, rc.ID)
	if err != nil {
		return err
	}
	if r.Status != StatusLive {
		return fmt.Errorf("%w: contest %d", ErrAlreadyRetired, rc.ID)
	}
	return nil
}

// ExecuteContent retires the contest: it leaves the gauge, its open round
// is abandoned (nothing more is paid for it), and whatever is left in its
// pool is burned, so the supply shrinks by exactly that amount.
func (c retireContent) ExecuteContent(ctx *ledger.Context, raw []byte) error {
	if err := c.ValidateContent(ctx, raw); err != nil {
		return err
	}
	rc, _ := decodeRetire(raw)
	branch, commit := ctx.Branch()
	r, _ := c.m.getRecord(branch, rc.ID)
	if err := c.m.emission.RemoveLiveModule(branch, PoolName(r.ID)); err != nil {
		return err
	}
	left := c.m.bank.Pool(branch, PoolName(r.ID))
	if left > 0 {
		if err := c.m.bank.PoolSub(branch, PoolName(r.ID), left); err != nil {
			return err
		}
		c.m.bank.NoteBurned(branch, left)
	}
	// Commits of the round in progress get their deposits back: the
	// contest ended under them.
	cur := RoundOf(r.StartHeight, r.Spec.Schedule, ctx.Height)
	if cur.Round > 0 {
		for _, s := range submissions(branch, r.ID, cur.Round) {
			if s.Deposit == 0 {
				continue
			}
			if err := c.m.bank.PoolToAccount(branch, DepositPoolName(r.ID), s.Builder, s.Deposit); err != nil {
				return err
			}
			s.Deposit = 0
			setSub(branch, &s)
		}
	}
	r.Status, r.RetiredHeight, r.Burned = StatusRetired, ctx.Height, left
	r.CarryBuilders, r.CarryValidators = 0, 0
	setRecord(branch, &r)
	branch.Delete(liveKey(r.ID))
	branch.Emit("contest_retired", "contest", fmt.Sprint(r.ID), "burned", fmt.Sprint(left))
	commit()
	return nil
}
