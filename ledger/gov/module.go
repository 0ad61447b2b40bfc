package gov

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
)

// ContentHandler executes one kind of proposal content. Other modules
// (contests) register theirs with RegisterContent at wiring time.
//
// Both methods run inside ApplyBlock and must be deterministic and must not
// panic (a panic in end-block stops the chain).
type ContentHandler interface {
	// ValidateContent checks raw when the proposal is submitted. It must
	// leave the state as it found it: a successful submission keeps every
	// write made during it.
	ValidateContent(ctx *ledger.Context, raw []byte) error
	// ExecuteContent carries out a passed proposal in end-block. On error
	// it must leave the state untouched; the proposal is then marked
	// failed and its deposits are refunded.
	ExecuteContent(ctx *ledger.Context, raw []byte) error
}

// Module is the gov module and keeper.
type Module struct {
	bank     *bank.Module
	staking  *staking.Module
	params   map[string]ledger.ParamModule
	contents map[string]ContentHandler
}

var (
	_ ledger.Module      = (*Module)(nil)
	_ ledger.Holder      = (*Module)(nil)
	_ ledger.ParamModule = (*Module)(nil)
)

// New returns the gov module. paramModules names the modules whose
// parameters param_change proposals may change (by module name); gov's own
// parameters are always included. The "text" and "param_change" content
// kinds are registered.
func New(b *bank.Module, s *staking.Module, paramModules map[string]ledger.ParamModule) *Module {
	m := &Module{bank: b, staking: s, params: map[string]ledger.ParamModule{}, contents: map[string]ContentHandler{}}
	for name, pm := range paramModules {
		m.params[name] = pm
	}
	m.params[Name] = m
	m.contents[KindText] = textContent{}
	m.contents[KindParamChange] = paramChangeContent{m}
	return m
}

// RegisterContent adds a proposal content kind. It is called while wiring
// the node, before any block; registering a kind twice is a bug and panics.
func (m *Module) RegisterContent(kind string, h ContentHandler) {
	if kind == "" || len(kind) > MaxKindBytes || h == nil {
		panic(fmt.Sprintf("gov: invalid content kind registration %q", kind))
	}
	if _, dup := m.contents[kind]; dup {
		panic(fmt.Sprintf("gov: content kind %q registered twice", kind))
	}
	m.contents[kind] = h
}

// ContentKinds lists the registered content kinds, sorted.
func (m *Module) ContentKinds() []string {
	out := make([]string, 0, len(m.contents))
	for k := range m.contents {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Name implements ledger.Module.
func (*Module) Name() string { return Name }

// MsgTypes implements ledger.Module.
func (*Module) MsgTypes() []string {
	return []string{MsgTypeSubmitProposal, MsgTypeDeposit, MsgTypeVote}
}

func genesisParams(g *ledger.Genesis) (Params, error) {
	return ledger.GenesisParams(g, Name, DefaultParams())
}

// ValidateGenesis implements ledger.Module.
func (*Module) ValidateGenesis(g *ledger.Genesis) error {
	_, err := genesisParams(g)
	return err
}

// InitGenesis writes the parameters; genesis has no proposals.
func (*Module) InitGenesis(ctx *ledger.Context, g *ledger.Genesis) error {
	p, err := genesisParams(g)
	if err != nil {
		return err
	}
	ctx.SetObj(keyParams, p)
	return nil
}

// BeginBlock implements ledger.Module.
func (*Module) BeginBlock(*ledger.Context, *ledger.BlockInfo) error { return nil }

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

// SetParam implements ledger.ParamModule. The whole parameter set is
// validated after the change; on error nothing is written.
func (m *Module) SetParam(ctx *ledger.Context, key string, value json.RawMessage) error {
	p, err := ledger.ApplyParamJSON(m.Params(ctx), key, value)
	if err != nil {
		return err
	}
	ctx.SetObj(keyParams, p)
	return nil
}

// Holdings implements ledger.Holder: every deposit of an active proposal
// is escrowed by gov.
func (*Module) Holdings(ctx *ledger.Context) []ledger.Holding {
	var total uint64
	ctx.Iterate([]byte(depositPrefix), func(_, v []byte) bool {
		total = ledger.MustAdd(total, binary.BigEndian.Uint64(v))
		return true
	})
	return []ledger.Holding{{Category: "escrowed", Amount: total}}
}

// Handle implements ledger.Module.
func (m *Module) Handle(ctx *ledger.Context, sender keys.Address, msg ledger.Msg) error {
	switch msg.Type {
	case MsgTypeSubmitProposal:
		return ledger.HandleAs(msg, func(x MsgSubmitProposal) error { return m.submit(ctx, sender, &x) })
	case MsgTypeDeposit:
		return ledger.HandleAs(msg, func(x MsgDeposit) error { return m.deposit(ctx, sender, x) })
	case MsgTypeVote:
		return ledger.HandleAs(msg, func(x MsgVote) error { return m.vote(ctx, sender, x) })
	}
	return fmt.Errorf("%w: %s", ledger.ErrUnknownMsg, msg.Type)
}

func checkText(field, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%w: %s is empty", ledger.ErrInvalidMsg, field)
	case len(s) > max:
		return fmt.Errorf("%w: %s is %d bytes, limit %d", ledger.ErrInvalidMsg, field, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", ledger.ErrInvalidMsg, field)
	}
	return nil
}

func (m *Module) submit(ctx *ledger.Context, sender keys.Address, x *MsgSubmitProposal) error {
	if err := checkText("title", x.Title, MaxTitleBytes, true); err != nil {
		return err
	}
	if err := checkText("description", x.Description, MaxDescriptionBytes, false); err != nil {
		return err
	}
	if x.InitialDeposit == 0 {
		return fmt.Errorf("%w: the initial deposit must be at least 1 uinf", ErrDepositTooSmall)
	}
	h, ok := m.contents[x.Content.Kind]
	if !ok {
		return fmt.Errorf("%w: unknown content kind %q (known: %s)", ErrInvalidContent, x.Content.Kind, strings.Join(m.ContentKinds(), ", "))
	}
	if err := h.ValidateContent(ctx, x.Content.Value); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidContent, x.Content.Kind, err)
	}
	if err := m.bank.SubBalance(ctx, sender, x.InitialDeposit); err != nil {
		return fmt.Errorf("initial deposit: %w", err)
	}
	params := m.Params(ctx)
	p := Proposal{
		ID: nextID(ctx), Proposer: sender, Title: x.Title, Description: x.Description, Content: x.Content,
		Status: StatusDepositPeriod, SubmitTime: ctx.Time, DepositEnd: endTime(ctx.Time, params.MaxDepositPeriodSeconds),
	}
	ctx.Emit("proposal_submitted", "proposal_id", fmt.Sprint(p.ID), "proposer", sender.String(), "kind", x.Content.Kind)
	ctx.Set(depQKey(p.DepositEnd, p.ID), []byte{})
	return m.addToProposal(ctx, &p, params, sender, x.InitialDeposit)
}

// addToProposal escrows amt (already taken from depositor's balance) on p,
// starts the voting period when min_deposit is reached, and saves p.
func (m *Module) addToProposal(ctx *ledger.Context, p *Proposal, params Params, depositor keys.Address, amt uint64) error {
	total, err := ledger.Add(p.TotalDeposit, amt)
	if err != nil {
		return err
	}
	if err := addDeposit(ctx, p.ID, depositor, amt); err != nil {
		return err
	}
	p.TotalDeposit = total
	ctx.Emit("proposal_deposit", "proposal_id", fmt.Sprint(p.ID), "depositor", depositor.String(), "amount", fmt.Sprint(amt), "total", fmt.Sprint(total))
	if p.Status == StatusDepositPeriod && total >= params.MinDeposit {
		ctx.Delete(depQKey(p.DepositEnd, p.ID))
		p.Status = StatusVotingPeriod
		p.VotingStart = ctx.Time
		p.VotingEnd = endTime(ctx.Time, params.VotingPeriodSeconds)
		ctx.Set(voteQKey(p.VotingEnd, p.ID), []byte{})
		ctx.Emit("voting_period_start", "proposal_id", fmt.Sprint(p.ID), "voting_end", fmt.Sprint(p.VotingEnd))
	}
	m.setProposal(ctx, p)
	return nil
}

func (m *Module) deposit(ctx *ledger.Context, sender keys.Address, x MsgDeposit) error {
	if x.Amount == 0 {
		return fmt.Errorf("%w: deposit of zero amount", ledger.ErrInvalidMsg)
	}
	p, err := m.getProposal(ctx, x.ProposalID)
	if err != nil {
		return err
	}
	if p.Status != StatusDepositPeriod {
		return fmt.Errorf("%w: proposal %d is %s; deposits are taken only until min_deposit is reached", ErrNotDepositPeriod, p.ID, p.Status)
	}
	if ctx.Time >= p.DepositEnd {
		return fmt.Errorf("%w: the deposit period of proposal %d ended at %d", ErrNotDepositPeriod, p.ID, p.DepositEnd)
	}
	if err := m.bank.SubBalance(ctx, sender, x.Amount); err != nil {
		return fmt.Errorf("deposit: %w", err)
	}
	return m.addToProposal(ctx, &p, m.Params(ctx), sender, x.Amount)
}

func (m *Module) vote(ctx *ledger.Context, sender keys.Address, x MsgVote) error {
	if !x.Option.Valid() {
		return fmt.Errorf("%w: %d (want 1 yes, 2 no, 3 abstain or 4 veto)", ErrInvalidVoteOption, uint8(x.Option))
	}
	p, err := m.getProposal(ctx, x.ProposalID)
	if err != nil {
		return err
	}
	if p.Status != StatusVotingPeriod {
		return fmt.Errorf("%w: proposal %d is %s", ErrNotVotingPeriod, p.ID, p.Status)
	}
	if ctx.Time >= p.VotingEnd {
		return fmt.Errorf("%w: the voting period of proposal %d ended at %d", ErrNotVotingPeriod, p.ID, p.VotingEnd)
	}
	ctx.Set(voteKey(p.ID, sender), []byte{byte(x.Option)})
	ctx.Emit("vote", "proposal_id", fmt.Sprint(p.ID), "voter", sender.String(), "option", x.Option.String())
	return nil
}
