package light

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/store"
)

// accounts is a genesis module writing n accounts' balance and nonce keys
// (2n keys in the tree), as bank and the ledger store them.
type accounts struct {
	kv
	n int
}

func benchAddr(i int) keys.Address {
	var a keys.Address
	binary.BigEndian.PutUint64(a[:], uint64(i)*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint32(a[16:], uint32(i))
	return a
}

func (m accounts) InitGenesis(ctx *ledger.Context, _ *ledger.Genesis) error {
	for i := 0; i < m.n; i++ {
		a := benchAddr(i)
		ctx.SetU64(bank.BalanceKey(a), uint64(i)+1)
		ctx.SetU64(ledger.AccountKey(a), uint64(i%7)+1)
	}
	return nil
}

func accountState(b *testing.B, n int) *ledger.State {
	b.Helper()
	m := accounts{n: n}
	s, err := ledger.New(store.NewMem(), []ledger.Module{m}, m, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	g := &ledger.Genesis{ChainID: testChain, GenesisTime: t0,
		Validators: []ledger.GenesisValidator{{Operator: keys.Address{1}, ConsPubKey: make([]byte, 32), Moniker: "v", SelfBond: 1}}}
	if _, err := s.InitGenesis(g); err != nil {
		b.Fatal(err)
	}
	if _, err := s.ApplyBlock(&ledger.Block{Height: 1, Time: t0.Add(time.Second).UnixNano(), Proposer: keys.Address{1}}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkAccountProof measures, for an account's balance key in a state
// of 2n keys (n accounts: balance and nonce), the proof's encoded size
// (proof-bytes), its generation at a recent height (Prove, from the undo
// log) and its verification (Verify). The lead runs it; do not run the
// large sizes on a shared machine.
func BenchmarkAccountProof(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 500_000} {
		b.Run(fmt.Sprintf("keys=%d", 2*n), func(b *testing.B) {
			s := accountState(b, n)
			key := bank.BalanceKey(benchAddr(n / 2))
			pv, err := s.Prove(0, key)
			if err != nil {
				b.Fatal(err)
			}
			app, _ := s.AppHashAt(0)
			size := pv.Proof.Size()
			b.Run("Prove", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := s.Prove(0, key); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(size), "proof-bytes")
				b.ReportMetric(float64(len(pv.Proof.Leaves)), "leaves")
			})
			b.Run("Verify", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := VerifyValue(app[:], key, pv.Value, true, &pv.Proof); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(size), "proof-bytes")
			})
		})
	}
}
