package compute_test

import (
	"encoding/json"
	"math/rand"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/store"
)

// TestParamsChangedByGovernance: the compute module is wired into the
// chain with its parameters governable: a param_change proposal that
// passes sets rows_checked; one with an invalid value fails to apply.
func TestParamsChangedByGovernance(t *testing.T) {
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
	var nonce, height uint64
	now := start.UnixNano()
	block := func(msgs ...ledger.Msg) *ledger.BlockResult {
		t.Helper()
		var txs [][]byte
		if len(msgs) > 0 {
			_, raw := ledger.SignTx("gov-compute", op, nonce, 100, "", msgs...)
			nonce++
			txs = append(txs, raw)
		}
		height++
		now += int64(5 * time.Second)
		res, err := c.ApplyBlock(&ledger.Block{Height: height, Time: now, Txs: txs})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckInvariants(height); err != nil {
			t.Fatal(err)
		}
		return res
	}
	propose := func(value string) {
		content := gov.NewParamChange(gov.ParamChange{Module: compute.Name, Key: "rows_checked", Value: json.RawMessage(value)})
		res := block(ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "k", Description: "d", Content: content, InitialDeposit: ledger.UinfPerINF}))
		if !res.Txs[0].OK {
			t.Fatalf("propose %s: %s", value, res.Txs[0].Error)
		}
	}
	rowsChecked := func() (k uint64) {
		c.Query(height, func(ctx *ledger.Context) error { k = c.Compute.Params(ctx).RowsChecked; return nil })
		return k
	}
	propose("24")
	if res := block(ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: 1, Option: gov.OptionYes})); !res.Txs[0].OK {
		t.Fatal(res.Txs[0].Error)
	}
	for i := 0; i < 4; i++ {
		block()
	}
	if k := rowsChecked(); k != 24 {
		t.Fatalf("rows_checked %d after the proposal passed, want 24", k)
	}
	// A proposal to set a value Validate refuses is refused at submission
	// (gov checks that it would apply) or fails to apply; either way the
	// parameter is unchanged.
	content := gov.NewParamChange(gov.ParamChange{Module: compute.Name, Key: "rows_checked", Value: json.RawMessage("0")})
	block(ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "k0", Description: "d", Content: content, InitialDeposit: ledger.UinfPerINF}))
	block(ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: 2, Option: gov.OptionYes}))
	for i := 0; i < 4; i++ {
		block()
	}
	if k := rowsChecked(); k != 24 {
		t.Fatalf("rows_checked %d after an invalid change, want 24", k)
	}
}
