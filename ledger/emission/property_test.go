package emission

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
)

// TestRandomBlocksConserveSupply runs random votes, delegations and
// transfers over many epochs: the supply identity holds after every block
// (checked by n.block), every epoch accounts for all it divided, and two
// runs from the same seed reach the same app hash.
func TestRandomBlocksConserveSupply(t *testing.T) {
	run := func(seed int64) [32]byte {
		params := fmt.Sprintf(epochParams, `,"live_modules":["compute","a","b","c"]`)
		n := newNet(t, params, threeVals, 4)
		r := rand.New(rand.NewSource(seed))
		modules := []string{"compute", "a", "b", "c", "d"}
		everyone := append(append([]*acct{}, n.vals...), n.accts...)
		paidPools := 0
		for n.height < 300 {
			var txs [][]byte
			for i := r.Intn(4); i > 0; i-- {
				a := everyone[r.Intn(len(everyone))]
				switch r.Intn(3) {
				case 0:
					var ws []GaugeWeight
					for _, m := range modules {
						if r.Intn(2) == 0 {
							ws = append(ws, gw(m, uint32(r.Intn(5))))
						}
					}
					txs = append(txs, n.tx(a, setGauge(ws...)))
				case 1:
					txs = append(txs, n.tx(a, delegate(n.vals[r.Intn(len(n.vals))].addr, uint64(1+r.Intn(3_000_000)))))
				default:
					to := everyone[r.Intn(len(everyone))].addr
					txs = append(txs, n.tx(a, ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: uint64(1 + r.Intn(1000))})))
				}
			}
			switch n.height {
			case 95:
				n.hook.at[96] = func(ctx *ledger.Context) error { return n.em.AddLiveModule(ctx, "d") }
			case 150:
				n.hook.at[151] = func(ctx *ledger.Context) error { return n.em.RemoveLiveModule(ctx, "a") }
			}
			minted, pending := n.supply().Minted, n.pending()
			res := n.block(txs...)
			if n.height%10 == 0 {
				rep := n.lastEpoch()
				// Minted grew by what the epoch paid, plus nothing else
				// (no other module mints after genesis).
				if got := n.supply().Minted - minted; got != rep.ToValidators+rep.ToPools {
					t.Fatalf("height %d: minted +%d, epoch paid %d", n.height, got, rep.ToValidators+rep.ToPools)
				}
				if len(rep.Pools) > 0 {
					paidPools++
				}
				if rep.Pending != pending+1_000_000 || n.pending() != rep.Carried {
					t.Fatalf("height %d: report %+v, pending before %d after %d", n.height, rep, pending, n.pending())
				}
			}
			for _, tr := range res.Txs {
				if !tr.OK && tr.Err() == nil {
					t.Fatalf("failed tx without error")
				}
			}
		}
		if paidPools < 20 {
			t.Fatalf("only %d of 30 epochs paid gauge pools: the random votes do not exercise the gauge", paidPools)
		}
		return n.st.AppHash()
	}
	if a, b := run(7), run(7); a != b {
		t.Fatalf("same seed, different app hash: %x vs %x", a, b)
	}
}
