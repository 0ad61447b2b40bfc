package compute_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/store"
)

// govChain is a wired chain with one validator, its operator funded, and
// short gov periods: block applies a block of msgs signed by the operator.
type govChain struct {
	t      *testing.T
	c      *chain.Chain
	op     keys.PrivKey
	nonce  uint64
	height uint64
	now    int64
}

func newGovChain(t *testing.T) *govChain {
	c, err := chain.New(store.NewMem(), chain.Options{Ledger: ledger.Options{SkipSigVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	opPub, op, _ := keys.Generate(r)
	consPub, _, _ := keys.Generate(r)
	opAddr := keys.AddressOf(opPub)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := &ledger.Genesis{ChainID: "gov-compute", GenesisTime: start,
		Params:     map[string]json.RawMessage{"gov": json.RawMessage(`{"min_deposit":1000000,"voting_period_s":10,"max_deposit_period_s":10}`)},
		Accounts:   []ledger.GenesisAccount{{Address: opAddr, Balance: 1000 * ledger.UinfPerINF}},
		Validators: []ledger.GenesisValidator{{Operator: opAddr, ConsPubKey: ledger.HexBytes(consPub), Moniker: "v", SelfBond: 100 * ledger.UinfPerINF}}}
	if _, err := c.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	return &govChain{t: t, c: c, op: op, now: start.UnixNano()}
}

func (g *govChain) block(msgs ...ledger.Msg) *ledger.BlockResult {
	g.t.Helper()
	var txs [][]byte
	if len(msgs) > 0 {
		_, raw := ledger.SignTx("gov-compute", g.op, g.nonce, 100, "", msgs...)
		g.nonce++
		txs = append(txs, raw)
	}
	g.height++
	g.now += int64(5 * time.Second)
	res, err := g.c.ApplyBlock(&ledger.Block{Height: g.height, Time: g.now, Txs: txs})
	if err != nil {
		g.t.Fatal(err)
	}
	if err := g.c.CheckInvariants(g.height); err != nil {
		g.t.Fatal(err)
	}
	return res
}

// propose submits a proposal setting compute's key to value.
func (g *govChain) propose(key, value string) *ledger.BlockResult {
	g.t.Helper()
	content := gov.NewParamChange(gov.ParamChange{Module: compute.Name, Key: key, Value: json.RawMessage(value)})
	return g.block(ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: key, Description: "d", Content: content, InitialDeposit: ledger.UinfPerINF}))
}

func (g *govChain) params() (p compute.Params) {
	g.c.Query(g.height, func(ctx *ledger.Context) error { p = g.c.Compute.Params(ctx); return nil })
	return p
}

// TestParamsChangedByGovernance: the compute module is wired into the
// chain with its parameters governable: a param_change proposal that
// passes sets rows_checked; one with an invalid value is refused at
// submission, naming the field.
func TestParamsChangedByGovernance(t *testing.T) {
	g := newGovChain(t)
	if res := g.propose("rows_checked", "24"); !res.Txs[0].OK {
		t.Fatalf("propose: %s", res.Txs[0].Error)
	}
	if res := g.block(ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: 1, Option: gov.OptionYes})); !res.Txs[0].OK {
		t.Fatal(res.Txs[0].Error)
	}
	for i := 0; i < 4; i++ {
		g.block()
	}
	if k := g.params().RowsChecked; k != 24 {
		t.Fatalf("rows_checked %d after the proposal passed, want 24", k)
	}
	// A proposal to set a value Validate refuses is refused at submission
	// (gov checks that it would apply), and the parameter is unchanged.
	res := g.propose("rows_checked", "0")
	if res.Txs[0].OK || !strings.Contains(res.Txs[0].Error, "rows_checked: ") {
		t.Fatalf("invalid proposal: ok %v, error %q; want refused naming rows_checked", res.Txs[0].OK, res.Txs[0].Error)
	}
	// So there is no proposal 2 to vote on.
	res = g.block(ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: 2, Option: gov.OptionYes}))
	if res.Txs[0].OK {
		t.Fatal("a vote on the refused proposal was accepted")
	}
	for i := 0; i < 4; i++ {
		g.block()
	}
	if k := g.params().RowsChecked; k != 24 {
		t.Fatalf("rows_checked %d after an invalid change, want 24", k)
	}
}

// TestParamChangesRefused: changes that would let a provider escape
// slashing (unbonding shorter than an epoch or a re-execution window) or
// make end-block's height arithmetic overflow (a huge block count) are
// refused at submission, naming the field. Before the fix every one was
// accepted (a huge jail_blocks then panics end-block when a provider is
// jailed, halting the chain).
func TestParamChangesRefused(t *testing.T) {
	g := newGovChain(t)
	def := compute.DefaultParams()
	for _, tc := range []struct{ key, value, field string }{
		{"unbonding_blocks", fmt.Sprint(def.EpochBlocks - 1), "unbonding_blocks"},
		{"epoch_blocks", fmt.Sprint(def.UnbondingBlocks + 1), "unbonding_blocks"},
		{"unbonding_blocks", fmt.Sprint(def.ReexecWindowBlocks), "unbonding_blocks"},
		{"reexec_window_blocks", fmt.Sprint(def.UnbondingBlocks), "unbonding_blocks"},
		{"jail_blocks", "18446744073709551615", "jail_blocks"},
		{"jail_blocks", fmt.Sprint(compute.MaxBlockCount + 1), "jail_blocks"},
		{"unbonding_blocks", fmt.Sprint(compute.MaxBlockCount + 1), "unbonding_blocks"},
	} {
		res := g.propose(tc.key, tc.value)
		if res.Txs[0].OK || !strings.Contains(res.Txs[0].Error, tc.field+": ") {
			t.Fatalf("%s = %s: ok %v, error %q; want refused naming %s", tc.key, tc.value, res.Txs[0].OK, res.Txs[0].Error, tc.field)
		}
	}
	if p := g.params(); p != def {
		t.Fatalf("parameters changed: %+v", p)
	}
	// The bounds themselves are accepted.
	for _, kv := range [][2]string{{"jail_blocks", fmt.Sprint(compute.MaxBlockCount)}, {"unbonding_blocks", fmt.Sprint(def.EpochBlocks)}} {
		if res := g.propose(kv[0], kv[1]); !res.Txs[0].OK {
			t.Fatalf("%s = %s refused: %s", kv[0], kv[1], res.Txs[0].Error)
		}
	}
}
