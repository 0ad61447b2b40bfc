package gov

import (
	"github.com/inferd/inferd/ledger"
)

// Queries. They only read, so the node's API calls them with a read-only
// context from ledger.State.View or Query.

// Proposal returns proposal id, or ErrUnknownProposal.
func (m *Module) Proposal(ctx *ledger.Context, id uint64) (Proposal, error) {
	return m.getProposal(ctx, id)
}

// Proposals returns every proposal, active or final, by id.
func (*Module) Proposals(ctx *ledger.Context) []Proposal {
	var out []Proposal
	ctx.Iterate([]byte(propPrefix), func(_, raw []byte) bool {
		var p Proposal
		if err := ledger.DecodeStored(raw, &p); err != nil {
			panic("gov: corrupt proposal record: " + err.Error())
		}
		out = append(out, p)
		return true
	})
	return out
}

// Votes returns the votes cast on proposal id, by voter address. Votes are
// deleted when the proposal is tallied; its FinalTally remains.
func (m *Module) Votes(ctx *ledger.Context, id uint64) ([]Vote, error) {
	if _, err := m.getProposal(ctx, id); err != nil {
		return nil, err
	}
	return votes(ctx, id), nil
}

// Deposits returns the escrowed deposits of proposal id, by depositor
// address. They are removed (refunded or burned) when the proposal ends.
func (m *Module) Deposits(ctx *ledger.Context, id uint64) ([]Deposit, error) {
	if _, err := m.getProposal(ctx, id); err != nil {
		return nil, err
	}
	return deposits(ctx, id), nil
}

// TallyNow returns the tally of proposal id as it would be at this height:
// the current tally for an active proposal, the final one otherwise.
func (m *Module) TallyNow(ctx *ledger.Context, id uint64) (TallyResult, error) {
	p, err := m.getProposal(ctx, id)
	if err != nil {
		return TallyResult{}, err
	}
	if !p.Status.Active() {
		return p.FinalTally, nil
	}
	return m.tally(ctx, id), nil
}
