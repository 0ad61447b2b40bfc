package emission

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/ledger/store"
)

const (
	testChainID = "emission-test-1"
	testFee     = 100
)

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type acct struct {
	priv  keys.PrivKey
	addr  keys.Address
	nonce uint64
}

func newAcct(r *rand.Rand) *acct {
	pub, priv, err := keys.Generate(r)
	if err != nil {
		panic(err)
	}
	return &acct{priv: priv, addr: keys.AddressOf(pub)}
}

// hook is a test module that runs a function at the start of chosen
// blocks, for calls other modules make (AddLiveModule, SetParam).
type hook struct {
	at map[uint64]func(ctx *ledger.Context) error
}

func (*hook) Name() string                                           { return "testhook" }
func (*hook) MsgTypes() []string                                     { return nil }
func (*hook) ValidateGenesis(*ledger.Genesis) error                  { return nil }
func (*hook) InitGenesis(*ledger.Context, *ledger.Genesis) error     { return nil }
func (*hook) Handle(*ledger.Context, keys.Address, ledger.Msg) error { return ledger.ErrUnknownMsg }
func (*hook) EndBlock(*ledger.Context) error                         { return nil }
func (h *hook) BeginBlock(ctx *ledger.Context, b *ledger.BlockInfo) error {
	if f := h.at[b.Height]; f != nil {
		return f(ctx)
	}
	return nil
}

// valSpec is a genesis validator: self-bond and commission.
type valSpec struct {
	selfBond   uint64
	commission ledger.PPM
}

type testNet struct {
	t      *testing.T
	st     *ledger.State
	mods   []ledger.Module
	bank   *bank.Module
	stake  *staking.Module
	em     *Module
	hook   *hook
	vals   []*acct // operators, in the order of the specs
	accts  []*acct // plain funded accounts
	height uint64
	now    int64
}

const acctBalance = 100 * ledger.UinfPerINF

// newNet builds a chain of bank, staking, a hook and emission with the
// given emission params (JSON; "" for defaults), validators, and nAccts
// funded accounts. Every operator also gets acctBalance to pay fees.
func newNet(t *testing.T, params string, vals []valSpec, nAccts int) *testNet {
	t.Helper()
	n, g := buildNet(t, params, vals, nAccts)
	if _, err := n.st.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	n.checkSupply()
	return n
}

func buildNet(t *testing.T, params string, vals []valSpec, nAccts int) (*testNet, *ledger.Genesis) {
	r := rand.New(rand.NewSource(42))
	b := bank.New()
	s := staking.New(b, nil)
	n := &testNet{t: t, bank: b, stake: s, em: New(b, s), hook: &hook{at: map[uint64]func(*ledger.Context) error{}}, now: genesisTime.UnixNano()}
	n.mods = []ledger.Module{b, s, n.hook, n.em}
	st, err := ledger.New(store.NewMem(), n.mods, b, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n.st = st
	g := &ledger.Genesis{ChainID: testChainID, GenesisTime: genesisTime, Params: map[string]json.RawMessage{}}
	if params != "" {
		g.Params[Name] = json.RawMessage(params)
	}
	for i, v := range vals {
		op := newAcct(r)
		cons := newAcct(r)
		n.vals = append(n.vals, op)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: op.addr, Balance: acctBalance})
		g.Validators = append(g.Validators, ledger.GenesisValidator{
			Operator: op.addr, ConsPubKey: ledger.HexBytes(cons.priv.Public().(keys.PubKey)),
			Moniker: fmt.Sprintf("val-%d", i), SelfBond: v.selfBond, Commission: v.commission,
		})
	}
	for i := 0; i < nAccts; i++ {
		a := newAcct(r)
		n.accts = append(n.accts, a)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: a.addr, Balance: acctBalance})
	}
	return n, g
}

// tx signs msgs from a with its next nonce.
func (n *testNet) tx(a *acct, msgs ...ledger.Msg) []byte {
	_, raw := ledger.SignTx(testChainID, a.priv, a.nonce, testFee, "", msgs...)
	a.nonce++
	return raw
}

// block applies the next block with txs, checks the supply invariant and
// returns the result.
func (n *testNet) block(txs ...[]byte) *ledger.BlockResult {
	n.t.Helper()
	n.now += int64(6 * time.Second)
	res, err := n.st.ApplyBlock(&ledger.Block{Height: n.height + 1, Time: n.now, Txs: txs})
	if err != nil {
		n.t.Fatalf("apply block %d: %v", n.height+1, err)
	}
	n.height++
	n.checkSupply()
	return res
}

// blocksTo applies empty blocks up to height h.
func (n *testNet) blocksTo(h uint64) {
	n.t.Helper()
	for n.height < h {
		n.block()
	}
}

// query runs f on the committed state at the current height.
func (n *testNet) query(f func(ctx *ledger.Context)) {
	n.t.Helper()
	if err := n.st.Query(n.height, func(ctx *ledger.Context) error { f(ctx); return nil }); err != nil {
		n.t.Fatal(err)
	}
}

func (n *testNet) balance(a keys.Address) (v uint64) {
	n.query(func(ctx *ledger.Context) { v = n.bank.Balance(ctx, a) })
	return v
}

func (n *testNet) pool(name string) (v uint64) {
	n.query(func(ctx *ledger.Context) { v = n.bank.Pool(ctx, name) })
	return v
}

func (n *testNet) pending() (v uint64) {
	n.query(func(ctx *ledger.Context) { v = n.em.Pending(ctx) })
	return v
}

func (n *testNet) supply() (s ledger.Supply) {
	n.query(func(ctx *ledger.Context) { s = n.bank.Supply(ctx) })
	return s
}

func (n *testNet) lastEpoch() (r EpochReport) {
	n.query(func(ctx *ledger.Context) {
		var ok bool
		if r, ok = n.em.LastEpoch(ctx); !ok {
			n.t.Fatal("no epoch report")
		}
	})
	return r
}

// checkSupply is the conservation property: minted - burned equals the
// sum of every module's holdings, at the current height.
func (n *testNet) checkSupply() {
	n.t.Helper()
	n.query(func(ctx *ledger.Context) {
		var held uint64
		for _, m := range n.mods {
			if h, ok := m.(ledger.Holder); ok {
				for _, x := range h.Holdings(ctx) {
					held = ledger.MustAdd(held, x.Amount)
				}
			}
		}
		s := n.bank.Supply(ctx)
		if s.Minted-s.Burned != held {
			n.t.Fatalf("height %d: minted %d - burned %d = %d, holdings %d", n.height, s.Minted, s.Burned, s.Minted-s.Burned, held)
		}
	})
}

// snapshot is every non-meta key of the state at height h.
func (n *testNet) snapshot(h uint64) map[string]string {
	out := map[string]string{}
	if err := n.st.Query(h, func(ctx *ledger.Context) error {
		ctx.Iterate(nil, func(k, v []byte) bool {
			if len(k) > 0 && k[0] != 0 && string(k) != "beacon" { // the beacon advances every block
				out[string(k)] = string(v)
			}
			return true
		})
		return nil
	}); err != nil {
		n.t.Fatal(err)
	}
	return out
}

// expectReject sends msg from a alone in a block and checks that it fails
// with want and that the block changed nothing but a's fee and nonce and
// the emission pending counter.
func (n *testNet) expectReject(a *acct, msg ledger.Msg, want error) {
	n.t.Helper()
	before := n.snapshot(n.height)
	bal := n.balance(a.addr)
	res := n.block(n.tx(a, msg))
	if res.Txs[0].OK || !errors.Is(res.Txs[0].Err(), want) {
		n.t.Fatalf("tx: ok=%v err=%v, want %v", res.Txs[0].OK, res.Txs[0].Err(), want)
	}
	if got := n.balance(a.addr); got != bal-testFee {
		n.t.Fatalf("balance %d, want %d - fee", got, bal)
	}
	var nonce uint64
	n.query(func(ctx *ledger.Context) { nonce = ledger.AccountNonce(ctx, a.addr) })
	if nonce != a.nonce {
		n.t.Fatalf("nonce %d, want %d", nonce, a.nonce)
	}
	after := n.snapshot(n.height)
	allowed := map[string]bool{
		"bank/bal/" + string(a.addr[:]): true,
		"bank/supply":                   true,
		"acc/" + string(a.addr[:]):      true,
		string(keyPending):              true,
	}
	for k, v := range after {
		if before[k] != v && !allowed[k] {
			n.t.Errorf("key %q changed", k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok && !allowed[k] {
			n.t.Errorf("key %q deleted", k)
		}
	}
}

func setGauge(ws ...GaugeWeight) ledger.Msg {
	return ledger.NewMsg(MsgTypeSetGauge, MsgSetGauge{Weights: ws})
}

func gw(module string, w uint32) GaugeWeight { return GaugeWeight{Module: module, Weight: w} }

func delegate(val keys.Address, amt uint64) ledger.Msg {
	return ledger.NewMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: val, Amount: amt})
}

func mustOK(t *testing.T, res *ledger.BlockResult) {
	t.Helper()
	for i, r := range res.Txs {
		if !r.OK {
			t.Fatalf("block %d tx %d failed: %s", res.Height, i, r.Error)
		}
	}
}
