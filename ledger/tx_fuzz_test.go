package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/gov"
)

const fuzzChain = "fuzz-chain"

func fuzzKey(tb testing.TB, n byte) keys.PrivKey {
	seed := sha256.Sum256([]byte{n})
	priv, err := keys.FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}

// txSeeds are transactions the CLI and the agents build: sends, a
// multi-send, a proposal with a parameter change, several messages, a
// memo.
func txSeeds(tb testing.TB) [][]byte {
	a, b := fuzzKey(tb, 1), fuzzKey(tb, 2)
	to := keys.AddressOf(b.Public().(keys.PubKey))
	var out [][]byte
	add := func(priv keys.PrivKey, nonce uint64, memo string, msgs ...ledger.Msg) {
		_, raw := ledger.SignTx(fuzzChain, priv, nonce, 100, memo, msgs...)
		out = append(out, raw)
	}
	add(a, 0, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: 5}))
	add(b, 7, "memo", ledger.NewMsg(bank.MsgTypeMultiSend, bank.MsgMultiSend{Outputs: []bank.Output{{To: to, Amount: 1}}}))
	add(a, 1, "", ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "t", Content: gov.NewParamChange(gov.ParamChange{Module: "bank", Key: "min_fee", Value: json.RawMessage(`250`)}), InitialDeposit: 1}),
		ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: 1, Option: gov.OptionYes}))
	return out
}

// FuzzDecodeTx: every transaction from gossip or the API goes through
// DecodeTx, then VerifyTx. Neither may panic; an accepted transaction is
// canonical (re-encodes to its input), within every stateless bound, and
// its messages decode, or fail to, without panicking.
func FuzzDecodeTx(f *testing.F) {
	for _, s := range txSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{0x82, 0x87})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tx, err := ledger.DecodeTx(raw)
		if err != nil {
			if tx != nil {
				t.Fatal("error with a transaction")
			}
			return
		}
		if again := codec.MustMarshal(tx); !bytes.Equal(again, raw) {
			t.Fatalf("accepted a transaction that re-encodes differently")
		}
		if err := tx.ValidateBasic(); err != nil {
			t.Fatalf("DecodeTx accepted what ValidateBasic refuses: %v", err)
		}
		b := tx.Body
		if len(raw) > ledger.MaxTxBytes || len(b.Msgs) == 0 || len(b.Msgs) > ledger.MaxTxMsgs || len(b.Memo) > ledger.MaxMemoBytes || len(tx.Signature) != 64 {
			t.Fatalf("accepted a transaction outside the bounds")
		}
		verr := ledger.VerifyTx(fuzzChain, tx)
		if verr == nil && !bytes.Equal(codec.MustMarshal(tx), raw) {
			t.Fatal("verified bytes differ")
		}
		for _, m := range b.Msgs {
			switch m.Type {
			case bank.MsgTypeSend:
				_ = ledger.HandleAs(m, func(bank.MsgSend) error { return nil })
			case bank.MsgTypeMultiSend:
				_ = ledger.HandleAs(m, func(bank.MsgMultiSend) error { return nil })
			case gov.MsgTypeSubmitProposal:
				_ = ledger.HandleAs(m, func(p gov.MsgSubmitProposal) error {
					_, _ = gov.DecodeParamChange(p.Content)
					return nil
				})
			case gov.MsgTypeVote:
				_ = ledger.HandleAs(m, func(gov.MsgVote) error { return nil })
			}
		}
	})
}

// TestCheckJSONBounds: the caps and the string skipping of the pre-check.
func TestCheckJSONBounds(t *testing.T) {
	ok := []string{`250`, `"[[[[[[[[[["`, `"\"[[[[[[[[["`, `[[[[1]]]]`, `{"a":{"b":[1,{"c":2}]}}`}
	for _, in := range ok {
		if err := ledger.CheckJSONBounds([]byte(in), 64, 4); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	for _, in := range []string{`[[[[[1]]]]]`, `{"a":{"b":{"c":{"d":{}}}}}`, `"` + string(bytes.Repeat([]byte{'x'}, 64)) + `"`} {
		if err := ledger.CheckJSONBounds([]byte(in), 64, 4); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

// FuzzParseGenesis: a genesis file is fetched by operators from wherever
// the network publishes it. Parsing and ValidateBasic never panic, and an
// accepted genesis survives JSON encoding unchanged.
func FuzzParseGenesis(f *testing.F) {
	a := keys.AddressOf(fuzzKey(f, 1).Public().(keys.PubKey))
	g := ledger.Genesis{ChainID: fuzzChain, Accounts: []ledger.GenesisAccount{{Address: a, Balance: 10}},
		Validators: []ledger.GenesisValidator{{Operator: a, ConsPubKey: ledger.HexBytes(fuzzKey(f, 2).Public().(keys.PubKey)), Moniker: "v", SelfBond: 5, Commission: 100}},
		Params:     map[string]json.RawMessage{"bank": json.RawMessage(`{"min_fee":100}`)}}
	raw, err := json.Marshal(g)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"chain_id":"x","genesis_time":"2026-01-01T00:00:00Z","accounts":null,"validators":[]}`))
	f.Add([]byte(`{"chain_id":"x"} {}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, err := ledger.ParseGenesis(raw)
		if err != nil {
			return
		}
		_ = g.ValidateBasic()
		out, err := json.Marshal(g)
		if err != nil {
			return // a time outside what JSON can carry: Save fails with an error too
		}
		g2, err := ledger.ParseGenesis(out)
		if err != nil {
			t.Fatalf("re-parse of an accepted genesis: %v\n%s", err, out)
		}
		if out2, _ := json.Marshal(g2); !bytes.Equal(out, out2) {
			t.Fatalf("genesis changes through JSON:\n%s\n%s", out, out2)
		}
	})
}
