// Package chain composes the ledger's modules into the state machine of the
// Inference network: bank, staking, gov and emission, in that order for
// begin-block and end-block. It also holds the supply invariant and the
// query API the node serves. Contest and compute plug in here later.
//
// Threading: ApplyBlock from one goroutine; queries from any.
package chain

import (
	"fmt"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/ledger/store"
)

// Chain is the composed ledger.
type Chain struct {
	*ledger.State
	Bank     *bank.Module
	Staking  *staking.Module
	Gov      *gov.Module
	Emission *emission.Module
	Compute  *compute.Module
	Contest  *contest.Module
	modules  []ledger.Module
}

// Options configure a Chain.
type Options struct {
	Ledger   ledger.Options
	Evidence ledger.EvidenceVerifier
	// Extra modules appended after the built-in ones (tests use this to
	// plant bugs; contest and compute will be wired here).
	Extra []ledger.Module
}

type moduleSet struct {
	bank     *bank.Module
	staking  *staking.Module
	gov      *gov.Module
	emission *emission.Module
	compute  *compute.Module
	contest  *contest.Module
	all      []ledger.Module
}

// modules builds the module list. Order matters for begin- and end-block:
// staking first (unbonding, jailing), then gov (tallies read the stake),
// then emission (epoch rewards over the final stake of the block), then
// compute (its epoch close pays the pool emission has just filled), then
// contest (rounds close over the block's final stake and pools; it
// registers the contest/create and contest/retire proposal kinds).
func modules(o Options) moduleSet {
	b := bank.New()
	s := staking.New(b, o.Evidence)
	e := emission.New(b, s)
	c := compute.New(b, s)
	g := gov.New(b, s, map[string]ledger.ParamModule{bank.Name: b, staking.Name: s, emission.Name: e, compute.Name: c})
	ct := contest.New(b, s, g, e)
	all := []ledger.Module{b, s, g, e, c, ct}
	all = append(all, o.Extra...)
	return moduleSet{bank: b, staking: s, gov: g, emission: e, compute: c, contest: ct, all: all}
}

// New opens the chain over st.
func New(st store.Store, o Options) (*Chain, error) {
	ms := modules(o)
	state, err := ledger.New(st, ms.all, ms.bank, o.Ledger)
	if err != nil {
		return nil, err
	}
	return &Chain{State: state, Bank: ms.bank, Staking: ms.staking, Gov: ms.gov, Emission: ms.emission, Compute: ms.compute, Contest: ms.contest, modules: ms.all}, nil
}

// ValidateGenesis checks a genesis document with every module, without
// opening a store. Errors name the offending field.
func ValidateGenesis(g *ledger.Genesis) error {
	if err := g.ValidateBasic(); err != nil {
		return err
	}
	known := map[string]bool{}
	for _, m := range modules(Options{}).all {
		known[m.Name()] = true
		if err := m.ValidateGenesis(g); err != nil {
			return err
		}
	}
	for name := range g.Params {
		if !known[name] {
			return ledger.GenesisErr("params."+name, "no module named %q", name)
		}
	}
	return nil
}

// CheckInvariants verifies, on the state at ctx, the supply identity of
// DESIGN section 3: minted - burned = balances + bonded + unbonding +
// escrowed + pools.
func CheckInvariants(ctx *ledger.Context, mods []ledger.Module) error {
	var sk ledger.SupplyKeeper
	var held uint64
	parts := map[string]uint64{}
	for _, m := range mods {
		if s, ok := m.(ledger.SupplyKeeper); ok {
			sk = s
		}
		if h, ok := m.(ledger.Holder); ok {
			for _, x := range h.Holdings(ctx) {
				var err error
				if held, err = ledger.Add(held, x.Amount); err != nil {
					return fmt.Errorf("invariant: holdings overflow uint64")
				}
				parts[x.Category] += x.Amount
			}
		}
	}
	if sk == nil {
		return fmt.Errorf("invariant: no module tracks supply")
	}
	s := sk.Supply(ctx)
	if s.Burned > s.Minted {
		return fmt.Errorf("invariant: burned %d exceeds minted %d", s.Burned, s.Minted)
	}
	if s.Minted-s.Burned != held {
		return fmt.Errorf("invariant broken at height %d: minted %d - burned %d = %d, but holdings sum to %d %v",
			ctx.Height, s.Minted, s.Burned, s.Minted-s.Burned, held, parts)
	}
	return nil
}

// CheckInvariants verifies the supply identity at height.
func (c *Chain) CheckInvariants(height uint64) error {
	return c.Query(height, func(ctx *ledger.Context) error { return CheckInvariants(ctx, c.modules) })
}
