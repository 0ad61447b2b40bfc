package chain

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/store"
)

func TestGenesisRefusals(t *testing.T) {
	base := func() *ledger.Genesis {
		n := newTestNet(t, 11, 2, 2, Options{})
		return n.genesis()
	}
	cases := []struct {
		name  string
		edit  func(g *ledger.Genesis)
		field string // must appear in the error
	}{
		{"bad chain id", func(g *ledger.Genesis) { g.ChainID = "has space" }, "chain_id"},
		{"empty chain id", func(g *ledger.Genesis) { g.ChainID = "" }, "chain_id"},
		{"no time", func(g *ledger.Genesis) { g.GenesisTime = zeroTime() }, "genesis_time"},
		{"duplicate account", func(g *ledger.Genesis) { g.Accounts = append(g.Accounts, g.Accounts[0]) }, "accounts[4].address"},
		{"zero address", func(g *ledger.Genesis) { g.Accounts[1].Address = [20]byte{} }, "accounts[1].address"},
		{"supply overflow", func(g *ledger.Genesis) { g.Accounts[0].Balance = ^uint64(0) }, "balance"},
		{"empty validator set", func(g *ledger.Genesis) { g.Validators = nil }, "validators"},
		{"zero power validator", func(g *ledger.Genesis) { g.Validators[1].SelfBond = 0 }, "validators[1].self_bond"},
		{"sub-power validator", func(g *ledger.Genesis) { g.Validators[0].SelfBond = 999_999 }, "validators[0].self_bond"},
		{"short consensus key", func(g *ledger.Genesis) { g.Validators[0].ConsPubKey = g.Validators[0].ConsPubKey[:31] }, "validators[0].cons_pubkey"},
		{"duplicate consensus key", func(g *ledger.Genesis) { g.Validators[1].ConsPubKey = g.Validators[0].ConsPubKey }, "validators[1].cons_pubkey"},
		{"duplicate operator", func(g *ledger.Genesis) { g.Validators[1].Operator = g.Validators[0].Operator }, "validators[1].operator"},
		{"commission above 100%", func(g *ledger.Genesis) { g.Validators[0].Commission = 1_000_001 }, "validators[0].commission_ppm"},
		{"empty moniker", func(g *ledger.Genesis) { g.Validators[0].Moniker = " " }, "validators[0].moniker"},
		{"unknown module params", func(g *ledger.Genesis) { g.Params = map[string]json.RawMessage{"nosuch": json.RawMessage(`{}`)} }, "params.nosuch"},
		{"unknown param", func(g *ledger.Genesis) {
			g.Params = map[string]json.RawMessage{"bank": json.RawMessage(`{"min_fees":1}`)}
		}, "params.bank"},
		{"bad param value", func(g *ledger.Genesis) {
			g.Params = map[string]json.RawMessage{"staking": json.RawMessage(`{"max_validators":0}`)}
		}, "params.staking"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := base()
			c.edit(g)
			err := ValidateGenesis(g)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %q does not name %q", err, c.field)
			}
			// InitGenesis refuses it too and leaves the store empty.
			st := store.NewMem()
			ch, _ := New(st, Options{})
			if _, err := ch.InitGenesis(g); err == nil {
				t.Fatal("InitGenesis accepted a genesis that ValidateGenesis refused")
			}
			if _, has := st.Latest(); has {
				t.Fatal("refused genesis was written")
			}
		})
	}
	if err := ValidateGenesis(base()); err != nil {
		t.Fatalf("valid genesis refused: %v", err)
	}
}

func TestParseGenesisRefusals(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"chain_id": 5}`, "chain_id"},
		{`{"chain_id": "a", "unknown_field": 1}`, "unknown_field"},
		{`{"accounts": [{"address": "inf1bogus", "balance": 1}]}`, "inf1bogus"},
		{`{"accounts": [{"address": "` + keys.Address{1}.String() + `", "balance": -1}]}`, "balance"},
		{`{"validators": [{"cons_pubkey": "zz"}]}`, "hex"},
		{`{} {}`, "trailing"},
		{`{`, "JSON"},
	} {
		_, err := ledger.ParseGenesis([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseGenesis(%s) = %v, want an error mentioning %q", c.in, err, c.want)
		}
	}
}
