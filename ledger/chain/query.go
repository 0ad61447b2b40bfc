package chain

import (
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
)

// The query API: every function reads the committed state at a height
// (ledger.ErrUnknownHeight-wrapping errors for heights not committed) and
// is safe to call while blocks are being applied. The node's HTTP API
// serves these as JSON.

// Account is what the ledger knows about one address.
type Account struct {
	Address     keys.Address         `json:"address"`
	Balance     uint64               `json:"balance"`
	Nonce       uint64               `json:"nonce"`
	Delegations []staking.Delegation `json:"delegations"`
	Unbondings  []staking.Unbonding  `json:"unbondings"`
}

// Account returns an address's balance, nonce, delegations and unbondings.
func (c *Chain) Account(height uint64, a keys.Address) (Account, error) {
	out := Account{Address: a}
	err := c.Query(height, func(ctx *ledger.Context) error {
		out.Balance = c.Bank.Balance(ctx, a)
		out.Nonce = ledger.AccountNonce(ctx, a)
		out.Delegations = c.Staking.Delegations(ctx, a)
		out.Unbondings = c.Staking.Unbondings(ctx, a)
		return nil
	})
	return out, err
}

// ValidatorInfo is a validator with its place in the active set.
type ValidatorInfo struct {
	staking.Validator
	ConsAddress keys.Address `json:"cons_address"`
	Bonded      bool         `json:"bonded"`
	Power       uint64       `json:"power"`
}

// Validators lists every validator, active ones first by power.
func (c *Chain) Validators(height uint64) ([]ValidatorInfo, error) {
	var out []ValidatorInfo
	err := c.Query(height, func(ctx *ledger.Context) error {
		seen := map[keys.Address]bool{}
		for _, v := range c.Staking.BondedValidators(ctx) {
			seen[v.Operator] = true
			out = append(out, ValidatorInfo{Validator: v, ConsAddress: v.ConsAddress(), Bonded: true, Power: v.Power()})
		}
		for _, v := range c.Staking.Validators(ctx) {
			if !seen[v.Operator] {
				out = append(out, ValidatorInfo{Validator: v, ConsAddress: v.ConsAddress()})
			}
		}
		return nil
	})
	return out, err
}

// ConsensusSet is the active set with voting powers, for consensus.
func (c *Chain) ConsensusSet(height uint64) ([]staking.ValidatorPower, error) {
	var out []staking.ValidatorPower
	err := c.Query(height, func(ctx *ledger.Context) error { out = c.Staking.ConsensusSet(ctx); return nil })
	return out, err
}

// Delegations lists a delegator's delegations.
func (c *Chain) Delegations(height uint64, del keys.Address) ([]staking.Delegation, error) {
	var out []staking.Delegation
	err := c.Query(height, func(ctx *ledger.Context) error { out = c.Staking.Delegations(ctx, del); return nil })
	return out, err
}

// ValidatorDelegations lists the delegations to a validator.
func (c *Chain) ValidatorDelegations(height uint64, val keys.Address) ([]staking.Delegation, error) {
	var out []staking.Delegation
	err := c.Query(height, func(ctx *ledger.Context) error { out = c.Staking.ValidatorDelegations(ctx, val); return nil })
	return out, err
}

// Unbondings lists a delegator's unbonding entries.
func (c *Chain) Unbondings(height uint64, del keys.Address) ([]staking.Unbonding, error) {
	var out []staking.Unbonding
	err := c.Query(height, func(ctx *ledger.Context) error { out = c.Staking.Unbondings(ctx, del); return nil })
	return out, err
}

// Proposals lists every proposal.
func (c *Chain) Proposals(height uint64) ([]gov.Proposal, error) {
	var out []gov.Proposal
	err := c.Query(height, func(ctx *ledger.Context) error { out = c.Gov.Proposals(ctx); return nil })
	return out, err
}

// ProposalDetail is a proposal with its votes, deposits and current tally.
type ProposalDetail struct {
	gov.Proposal
	Votes    []gov.Vote       `json:"votes"`
	Deposits []gov.Deposit    `json:"deposits"`
	Tally    *gov.TallyResult `json:"current_tally,omitempty"`
}

// Proposal returns one proposal with its votes and deposits.
func (c *Chain) Proposal(height, id uint64) (ProposalDetail, error) {
	var out ProposalDetail
	err := c.Query(height, func(ctx *ledger.Context) error {
		p, err := c.Gov.Proposal(ctx, id)
		if err != nil {
			return err
		}
		out.Proposal = p
		if out.Votes, err = c.Gov.Votes(ctx, id); err != nil {
			return err
		}
		if out.Deposits, err = c.Gov.Deposits(ctx, id); err != nil {
			return err
		}
		if p.Status == gov.StatusVotingPeriod {
			t, err := c.Gov.TallyNow(ctx, id)
			if err == nil {
				out.Tally = &t
			}
		}
		return nil
	})
	return out, err
}

// Gauge returns the gauge: each live module's weight and share, and votes.
func (c *Chain) Gauge(height uint64) (emission.GaugeReport, error) {
	var out emission.GaugeReport
	err := c.Query(height, func(ctx *ledger.Context) error { out = c.Emission.Gauge(ctx); return nil })
	return out, err
}

// Pools returns every module pool's balance.
func (c *Chain) Pools(height uint64) (map[string]uint64, error) {
	var out map[string]uint64
	err := c.Query(height, func(ctx *ledger.Context) error { out = c.Bank.Pools(ctx); return nil })
	return out, err
}

// SupplyReport is the supply and where it is held.
type SupplyReport struct {
	ledger.Supply
	Held          map[string]uint64 `json:"held"` // balances, bonded, unbonding, escrowed, pools
	PendingReward uint64            `json:"pending_emission"`
}

// Supply returns minted, burned and circulating totals and their holders.
func (c *Chain) Supply(height uint64) (SupplyReport, error) {
	out := SupplyReport{Held: map[string]uint64{}}
	err := c.Query(height, func(ctx *ledger.Context) error {
		out.Supply = c.Bank.Supply(ctx)
		for _, m := range c.modules {
			if h, ok := m.(ledger.Holder); ok {
				for _, x := range h.Holdings(ctx) {
					out.Held[x.Category] += x.Amount
				}
			}
		}
		out.PendingReward = c.Emission.Pending(ctx)
		return nil
	})
	return out, err
}

// Beacon is the randomness beacon after block height (ledger/beacon.go):
// what the proposer of height+1 proves its VRF over.
func (c *Chain) Beacon(height uint64) (ledger.Beacon, error) {
	var out ledger.Beacon
	err := c.Query(height, func(ctx *ledger.Context) error { out = ledger.CurrentBeacon(ctx); return nil })
	return out, err
}
