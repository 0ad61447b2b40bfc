package gov

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/ledger/store"
)

const (
	testChain = "gov-test"
	testFee   = 100
	inf       = ledger.UinfPerINF
)

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testParams: short periods, min deposit 1000 uinf.
func testParams() Params {
	p := DefaultParams()
	p.MinDeposit = 1000
	p.MaxDepositPeriodSeconds = 100
	p.VotingPeriodSeconds = 100
	return p
}

type account struct {
	priv keys.PrivKey
	addr keys.Address
}

// harness is a ledger with bank, staking and gov over a memory store.
// Accounts a0..a4 hold 10 000 INF each; validators v0..v2 (operators with
// no balance beyond 100 INF) self-bond 100, 50 and 30 INF.
type harness struct {
	t       *testing.T
	st      *ledger.State
	bank    *bank.Module
	staking *staking.Module
	gov     *Module
	acc     []account // a0..a4
	val     []account // operators v0..v2
	nonce   map[keys.Address]uint64
	height  uint64
	now     int64
}

var selfBonds = []uint64{100 * inf, 50 * inf, 30 * inf}

func newHarness(t *testing.T, params Params, extra ...func(*Module)) *harness {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	gen := func() account {
		pub, priv, err := keys.Generate(rng)
		if err != nil {
			t.Fatal(err)
		}
		return account{priv: priv, addr: keys.AddressOf(pub)}
	}
	h := &harness{t: t, nonce: map[keys.Address]uint64{}, now: genesisTime.UnixNano()}
	g := &ledger.Genesis{ChainID: testChain, GenesisTime: genesisTime, Params: map[string]json.RawMessage{}}
	for i := 0; i < 5; i++ {
		a := gen()
		h.acc = append(h.acc, a)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: a.addr, Balance: 10_000 * inf})
	}
	for i, sb := range selfBonds {
		op, cons := gen(), gen()
		h.val = append(h.val, op)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: op.addr, Balance: 100 * inf})
		g.Validators = append(g.Validators, ledger.GenesisValidator{
			Operator: op.addr, ConsPubKey: ledger.HexBytes(cons.priv.Public().(keys.PubKey)),
			Moniker: fmt.Sprintf("v%d", i), SelfBond: sb, Commission: 100_000,
		})
	}
	raw, _ := json.Marshal(params)
	g.Params[Name] = raw
	h.bank = bank.New()
	h.staking = staking.New(h.bank, nil)
	h.gov = New(h.bank, h.staking, map[string]ledger.ParamModule{bank.Name: h.bank, staking.Name: h.staking})
	for _, f := range extra {
		f(h.gov)
	}
	st, err := ledger.New(store.NewMem(), []ledger.Module{h.bank, h.staking, h.gov}, h.bank, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	h.st = st
	h.checkSupply()
	return h
}

// sign makes a tx from a with the next nonce.
func (h *harness) sign(a account, msgs ...ledger.Msg) []byte {
	_, raw := ledger.SignTx(testChain, a.priv, h.nonce[a.addr], testFee, "", msgs...)
	h.nonce[a.addr]++
	return raw
}

// block applies a block dt after the previous one.
func (h *harness) block(dt time.Duration, txs ...[]byte) *ledger.BlockResult {
	h.t.Helper()
	h.height++
	h.now += int64(dt)
	res, err := h.st.ApplyBlock(&ledger.Block{Height: h.height, Time: h.now, Txs: txs})
	if err != nil {
		h.t.Fatalf("block %d: %v", h.height, err)
	}
	h.checkSupply()
	return res
}

// do runs one tx of one message in its own block, one second later.
func (h *harness) do(a account, typ string, v any) ledger.TxResult {
	h.t.Helper()
	return h.block(time.Second, h.sign(a, ledger.NewMsg(typ, v))).Txs[0]
}

// ok runs one message and fails the test if it is refused.
func (h *harness) ok(a account, typ string, v any) ledger.TxResult {
	h.t.Helper()
	r := h.do(a, typ, v)
	if !r.OK {
		h.t.Fatalf("%s refused: %v", typ, r.Err())
	}
	return r
}

// view runs f on a read-only context at the latest height.
func (h *harness) view(f func(ctx *ledger.Context)) {
	h.t.Helper()
	if err := h.st.Query(h.height, func(ctx *ledger.Context) error { f(ctx); return nil }); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) balance(a keys.Address) (b uint64) {
	h.view(func(ctx *ledger.Context) { b = h.bank.Balance(ctx, a) })
	return b
}

func (h *harness) burned() (b uint64) {
	h.view(func(ctx *ledger.Context) { b = h.bank.Supply(ctx).Burned })
	return b
}

func (h *harness) proposal(id uint64) (p Proposal) {
	h.t.Helper()
	var err error
	h.view(func(ctx *ledger.Context) { p, err = h.gov.Proposal(ctx, id) })
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) escrowed() (e uint64) {
	h.view(func(ctx *ledger.Context) { e = h.gov.Holdings(ctx)[0].Amount })
	return e
}

// checkSupply asserts minted - burned = balances + bonded + unbonding +
// escrowed + pools.
func (h *harness) checkSupply() {
	h.t.Helper()
	h.view(func(ctx *ledger.Context) {
		s := h.bank.Supply(ctx)
		var held uint64
		for _, m := range []ledger.Holder{h.bank, h.staking, h.gov} {
			for _, x := range m.Holdings(ctx) {
				held += x.Amount
			}
		}
		if s.Minted-s.Burned != held {
			h.t.Fatalf("supply invariant at height %d: minted %d - burned %d = %d, held %d", h.height, s.Minted, s.Burned, s.Minted-s.Burned, held)
		}
	})
}

// snapshot is every app-state key at the latest height.
func (h *harness) snapshot() map[string][]byte {
	out := map[string][]byte{}
	h.view(func(ctx *ledger.Context) {
		ctx.Iterate(nil, func(k, v []byte) bool {
			if len(k) > 0 && k[0] != 0 && string(k) != "beacon" { // the beacon advances every block
				out[string(k)] = bytes.Clone(v)
			}
			return true
		})
	})
	return out
}

// refuse runs one message from a that must fail with want and change
// nothing but a's nonce, a's balance (by the fee) and the burned total (by
// the fee).
func (h *harness) refuse(a account, typ string, v any, want error) {
	h.t.Helper()
	before, bal, burned := h.snapshot(), h.balance(a.addr), h.burned()
	r := h.do(a, typ, v)
	if r.OK || !errors.Is(r.Err(), want) {
		h.t.Fatalf("%s: got %v, want %v", typ, r.Err(), want)
	}
	h.t.Logf("%s refused: %v", typ, r.Err())
	if got := h.balance(a.addr); got != bal-testFee {
		h.t.Fatalf("%s: balance %d, want %d (only the fee)", typ, got, bal-testFee)
	}
	if got := h.burned(); got != burned+testFee {
		h.t.Fatalf("%s: burned %d, want %d", typ, got, burned+testFee)
	}
	after := h.snapshot()
	skip := map[string]bool{"acc/" + string(a.addr[:]): true, "bank/bal/" + string(a.addr[:]): true, "bank/supply": true}
	var diff []string
	for k, v := range after {
		if !skip[k] && !bytes.Equal(before[k], v) {
			diff = append(diff, fmt.Sprintf("%q changed", k))
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok && !skip[k] {
			diff = append(diff, fmt.Sprintf("%q deleted", k))
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		h.t.Fatalf("%s refused (%v) but changed state: %v", typ, r.Err(), diff)
	}
}

// submit submits a proposal from a and returns its id.
func (h *harness) submit(a account, c Content, deposit uint64) uint64 {
	h.t.Helper()
	r := h.ok(a, MsgTypeSubmitProposal, MsgSubmitProposal{Title: "t", Description: "d", Content: c, InitialDeposit: deposit})
	for _, e := range r.Events {
		if e.Type == "proposal_submitted" {
			var id uint64
			fmt.Sscan(e.Attrs["proposal_id"], &id)
			return id
		}
	}
	h.t.Fatal("no proposal_submitted event")
	return 0
}

func (h *harness) vote(a account, id uint64, o VoteOption) {
	h.t.Helper()
	h.ok(a, MsgTypeVote, MsgVote{ProposalID: id, Option: o})
}

// endVoting moves block time past proposal id's voting end.
func (h *harness) endVoting(id uint64) *ledger.BlockResult {
	h.t.Helper()
	p := h.proposal(id)
	return h.block(time.Duration(p.VotingEnd - h.now))
}

func findEvent(evs []ledger.Event, typ string) (ledger.Event, bool) {
	for _, e := range evs {
		if e.Type == typ {
			return e, true
		}
	}
	return ledger.Event{}, false
}
