package blocks

import (
	"math/rand"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/store"
)

// TestLedgerAppliesBlocks runs two blocks through ToLedger into the real
// ledger with EvidenceVerifier: the double-signing validator named by the
// evidence in block 2 is jailed and tombstoned, the others are not.
func TestLedgerAppliesBlocks(t *testing.T) {
	tv := newVals(t, 1, 10, 10, 10, 10)
	r := rand.New(rand.NewSource(8))
	g := &ledger.Genesis{ChainID: chainID, GenesisTime: time.Unix(0, 0).UTC()}
	for i := 0; i < tv.set.Len(); i++ {
		pub, _, _ := keys.Generate(r)
		op := keys.AddressOf(pub)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: op, Balance: 1_000 * ledger.UinfPerINF})
		g.Validators = append(g.Validators, ledger.GenesisValidator{Operator: op, ConsPubKey: ledger.HexBytes(tv.set.Validator(i).PubKey), Moniker: "v", SelfBond: 100 * ledger.UinfPerINF})
	}
	c, err := chain.New(store.NewMem(), chain.Options{Evidence: EvidenceVerifier{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	b1 := NewBlock(Header{ChainID: chainID, Height: 1, Time: 1e9, Proposer: tv.addr(0), BeaconProof: tv.proof(0, 1)}, nil, nil, Commit{})
	b2 := NewBlock(Header{ChainID: chainID, Height: 2, Time: 2e9, LastBlockHash: b1.Hash(), Proposer: tv.addr(1), BeaconProof: tv.proof(1, 2)},
		nil, [][]byte{tv.duplicateVote(3, 1)}, tv.commit(1, b1.Hash(), 0, 1, 2))
	for _, step := range []struct {
		b    *Block
		last bool
	}{{b1, false}, {b2, true}} {
		if err := step.b.ValidateBasic(); err != nil {
			t.Fatal(err)
		}
		lastVals := tv.set
		if !step.last {
			lastVals = nil
		}
		lb, err := ToLedger(step.b, lastVals)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ApplyBlock(lb); err != nil {
			t.Fatalf("apply block %d: %v", step.b.Header.Height, err)
		}
	}
	vals, err := c.Validators(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 4 {
		t.Fatalf("%d validators", len(vals))
	}
	for _, v := range vals {
		wantJailed := v.ConsAddress == tv.addr(3)
		if v.Jailed != wantJailed || v.Tombstoned != wantJailed {
			t.Fatalf("validator %s: jailed %v tombstoned %v, want %v", v.ConsAddress, v.Jailed, v.Tombstoned, wantJailed)
		}
	}
	if err := c.CheckInvariants(2); err != nil {
		t.Fatal(err)
	}
}
