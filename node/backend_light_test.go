package node

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/light"
	"github.com/inferd/inferd/node/api"
)

// openAt runs a one-validator devnet to height h and reopens it, engine
// attached but not running, as the API's backend sees it.
func openAt(t *testing.T, h uint64) backend {
	t.Helper()
	home := oneValidatorHome(t)
	runUntil(t, home, h)
	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		t.Fatal(err)
	}
	return backend{r: &Running{Node: n}}
}

// The block view's last commit names the set that signed it: before the
// fix it said "1 signatures of 0 validators (power 0/0)" at every height.
func TestBlockViewCountsTheLastCommitsValidators(t *testing.T) {
	b := openAt(t, 4)
	for h := uint64(2); h <= b.LatestHeight(); h++ {
		v, err := b.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		lc := v.LastCommit
		if lc.Height != h-1 || lc.Signatures != 1 || lc.Validators != 1 || lc.TotalPower == 0 || lc.SignedPower != lc.TotalPower {
			t.Fatalf("block %d: last commit %+v, want height %d, 1 signature of 1 validator with all the power", h, lc, h-1)
		}
	}
	v, err := b.Block(1)
	if err != nil {
		t.Fatal(err)
	}
	if v.LastCommit != (api.CommitSummary{}) {
		t.Fatalf("block 1 has no last commit, view says %+v", v.LastCommit)
	}
}

// Light blocks from a real node verify, and a proof at H verifies against
// header H+1: the whole chain of trust, on stored blocks.
func TestLightBlocksAndProofsOfARealChain(t *testing.T) {
	b := openAt(t, 4)
	latest := b.LatestHeight()
	var genesisSet = mustVals(t, b, 1)
	tr := light.TrustedState{ChainID: b.r.Genesis.ChainID, Height: 0, Time: b.r.Genesis.GenesisTime, Validators: genesisSet}
	for h := uint64(1); h <= latest; h++ {
		lb, canonical, err := b.LightBlock(h)
		if err != nil {
			t.Fatal(err)
		}
		if canonical != (h < latest) {
			t.Fatalf("height %d: canonical %v", h, canonical)
		}
		p, err := light.VerifySkipping(tr, &lb.Header, &lb.Commit, lb.Validators, light.Options{Now: time.Unix(0, lb.Header.Time).Add(time.Minute)})
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		if p.Signed != p.Total || p.Total == 0 {
			t.Fatalf("height %d: power %+v", h, p)
		}
		op := b.r.Genesis.Validators[0].Operator
		for _, key := range [][]byte{ledger.AccountKey(op), bank.BalanceKey(op)} {
			pv, err := b.r.Chain.Prove(h-1, key)
			if err != nil {
				t.Fatal(err)
			}
			if err := light.VerifyProven(pv, lb); err != nil {
				t.Fatalf("proof of %q at %d against header %d: %v", key, h-1, h, err)
			}
		}
	}
	// The set rebuilt from the ledger is the engine's own for the next height.
	next, err := b.validatorsAt(latest + 1)
	if err != nil {
		t.Fatal(err)
	}
	if ev := b.r.Engine.Validators(); ev == nil || next.Hash() != ev.Hash() {
		t.Fatalf("validator set of height %d rebuilt from the ledger differs from the engine's", latest+1)
	}
	if _, _, err := b.LightBlock(latest + 1); err == nil {
		t.Fatal("light block beyond the latest height")
	}
}

func mustVals(t *testing.T, b backend, h uint64) *consensus.ValidatorSet {
	t.Helper()
	vs, err := b.validatorsAt(h)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}
