package chain

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/store"
)

// acct is a test account with its key and the next nonce to use.
type acct struct {
	priv  keys.PrivKey
	addr  keys.Address
	nonce uint64
	cons  keys.PrivKey // consensus key, for validator operators
}

func newAcct(r *rand.Rand) *acct {
	pub, priv, err := keys.Generate(r)
	if err != nil {
		panic(err)
	}
	return &acct{priv: priv, addr: keys.AddressOf(pub)}
}

type testNet struct {
	t       testing.TB
	chainID string
	r       *rand.Rand
	accts   []*acct
	vals    []*acct
	c       *Chain
	height  uint64
	now     int64
	opts    Options
	check   bool // check the supply invariant after every block
}

const (
	testBalance  = 1_000 * ledger.UinfPerINF
	testSelfBond = 100 * ledger.UinfPerINF
	testFee      = 100
)

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestNet(t testing.TB, seed int64, nAccts, nVals int, opts Options) *testNet {
	t.Helper()
	n := &testNet{t: t, chainID: "test-1", r: rand.New(rand.NewSource(seed)), opts: opts, check: true, now: genesisTime.UnixNano()}
	for i := 0; i < nAccts; i++ {
		n.accts = append(n.accts, newAcct(n.r))
	}
	for i := 0; i < nVals; i++ {
		a := newAcct(n.r)
		a.cons = newAcct(n.r).priv
		n.vals = append(n.vals, a)
	}
	n.c = n.open(store.NewMem())
	if _, err := n.c.InitGenesis(n.genesis()); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *testNet) open(st store.Store) *Chain {
	c, err := New(st, n.opts)
	if err != nil {
		n.t.Fatal(err)
	}
	return c
}

func (n *testNet) genesis() *ledger.Genesis {
	g := &ledger.Genesis{ChainID: n.chainID, GenesisTime: genesisTime}
	// No block reward: message tests compare whole states before and after
	// a transaction, and emission would change them every block. The
	// property test runs with emission on.
	g.Params = map[string]json.RawMessage{"emission": json.RawMessage(`{"initial_block_reward":0}`)}
	for _, a := range n.accts {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: a.addr, Balance: testBalance})
	}
	for i, v := range n.vals {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: v.addr, Balance: testBalance})
		g.Validators = append(g.Validators, ledger.GenesisValidator{
			Operator: v.addr, ConsPubKey: ledger.HexBytes(v.cons.Public().(keys.PubKey)),
			Moniker: fmt.Sprintf("val-%d", i), SelfBond: testSelfBond + uint64(i)*ledger.UinfPerINF, Commission: 100_000,
		})
	}
	return g
}

// tx signs msgs from a with its next nonce.
func (n *testNet) tx(a *acct, msgs ...ledger.Msg) []byte {
	_, raw := ledger.SignTx(n.chainID, a.priv, a.nonce, testFee, "", msgs...)
	a.nonce++
	return raw
}

// nextBlock builds the next block around txs.
func (n *testNet) nextBlock(txs ...[]byte) *ledger.Block {
	n.now += int64(6 * time.Second)
	return &ledger.Block{Height: n.height + 1, Time: n.now, Txs: txs}
}

// apply applies b, checks the invariant, and returns the result.
func (n *testNet) apply(b *ledger.Block) *ledger.BlockResult {
	n.t.Helper()
	res, err := n.c.ApplyBlock(b)
	if err != nil {
		n.t.Fatalf("apply block %d: %v", b.Height, err)
	}
	n.height = b.Height
	if n.check {
		if err := n.c.CheckInvariants(n.height); err != nil {
			n.t.Fatal(err)
		}
	}
	return res
}

// block applies one block of txs.
func (n *testNet) block(txs ...[]byte) *ledger.BlockResult {
	n.t.Helper()
	return n.apply(n.nextBlock(txs...))
}

// snapshot returns every state key at height (meta keys excluded).
func (n *testNet) snapshot(h uint64) map[string]string {
	out := map[string]string{}
	err := n.c.Query(h, func(ctx *ledger.Context) error {
		ctx.Iterate(nil, func(k, v []byte) bool {
			if k[0] != 0 && string(k) != "beacon" { // the beacon advances every block
				out[string(k)] = string(v)
			}
			return true
		})
		return nil
	})
	if err != nil {
		n.t.Fatal(err)
	}
	return out
}

// diff lists the keys that differ between two snapshots, sorted.
func diff(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (n *testNet) balance(a keys.Address) uint64 {
	var b uint64
	n.c.Query(n.height, func(ctx *ledger.Context) error { b = n.c.Bank.Balance(ctx, a); return nil })
	return b
}

func (n *testNet) supply() ledger.Supply {
	var s ledger.Supply
	n.c.Query(n.height, func(ctx *ledger.Context) error { s = n.c.Bank.Supply(ctx); return nil })
	return s
}

// expectReject applies raw alone in a block and checks that it fails with
// want and changes nothing but, when feePaid, the sender's fee and nonce.
func (n *testNet) expectReject(sender *acct, raw []byte, want error, feePaid bool) {
	n.t.Helper()
	before := n.snapshot(n.height)
	bal := n.balance(sender.addr)
	burned := n.supply().Burned
	res := n.block(raw)
	got := res.Txs[0]
	if got.OK || !errors.Is(got.Err(), want) {
		n.t.Fatalf("tx result ok=%v err=%v, want error %v", got.OK, got.Err(), want)
	}
	changed := diff(before, n.snapshot(n.height))
	if !feePaid {
		if len(changed) != 0 {
			n.t.Fatalf("rejected tx (%v) changed state: %q", want, changed)
		}
		// The tx consumed no nonce: roll the test's counter back.
		sender.nonce--
		return
	}
	wantKeys := []string{"acc/" + string(sender.addr[:]), "bank/bal/" + string(sender.addr[:]), "bank/supply"}
	sort.Strings(wantKeys)
	if fmt.Sprint(changed) != fmt.Sprint(wantKeys) {
		n.t.Fatalf("failed tx (%v) changed %q, want only the sender's nonce, balance and the burned total", want, changed)
	}
	if nb := n.balance(sender.addr); nb != bal-testFee {
		n.t.Fatalf("sender balance %d, want %d (fee only)", nb, bal-testFee)
	}
	if nbu := n.supply().Burned; nbu != burned+testFee {
		n.t.Fatalf("burned %d, want %d", nbu, burned+testFee)
	}
}
