package compute

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/ledger/store"
)

const (
	testChainID = "compute-test-1"
	testFee     = 100
	acctBalance = 10_000 * ledger.UinfPerINF
)

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testParams are short epochs for tests: epoch of 6 blocks, commits in the
// first 2, attestations in blocks 3..5. Nothing is re-executed
// (reexec_ppm 0), so results are reported in the clear.
const testParams = `{"reexec_ppm":0,"min_bond":1000000,"unbonding_blocks":6,"epoch_blocks":6,"commit_deadline_blocks":2,
"attest_deadline_blocks":5,"downtime_jail_threshold":3,"jail_blocks":10,"job_deadline_blocks":10,
"job_min_run_blocks":2,"reexec_window_blocks":3}`

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

// minter is a test module that mints into the compute pool every block,
// standing in for emission.
type minter struct {
	bank    *bank.Module
	perBlck uint64
	hook    func(*ledger.Context) // run at the start of the next block, then cleared
}

func (*minter) Name() string                                           { return "testminter" }
func (*minter) MsgTypes() []string                                     { return nil }
func (*minter) ValidateGenesis(*ledger.Genesis) error                  { return nil }
func (*minter) InitGenesis(*ledger.Context, *ledger.Genesis) error     { return nil }
func (*minter) Handle(*ledger.Context, keys.Address, ledger.Msg) error { return ledger.ErrUnknownMsg }
func (*minter) EndBlock(*ledger.Context) error                         { return nil }
func (m *minter) BeginBlock(ctx *ledger.Context, _ *ledger.BlockInfo) error {
	if m.hook != nil {
		m.hook(ctx)
		m.hook = nil
	}
	if m.perBlck == 0 {
		return nil
	}
	return m.bank.MintToPool(ctx, Name, m.perBlck)
}

type testNet struct {
	t      testing.TB
	st     *ledger.State
	mods   []ledger.Module
	bank   *bank.Module
	stake  *staking.Module
	cm     *Module
	mint   *minter
	vals   []*acct
	accts  []*acct
	height uint64
	now    int64
	check  bool                 // recount totals after every block
	sealed map[uint64]sealedRes // sealed results revealAll reveals
}

// sealedRes is a provider's sealed result, to reveal later.
type sealedRes struct {
	prov *acct
	res  string
}

// newNet builds bank, staking, the minter and compute, with nVals equal
// validators and nAccts funded accounts.
func newNet(t testing.TB, params string, nVals, nAccts int) *testNet {
	t.Helper()
	r := rand.New(rand.NewSource(7))
	b := bank.New()
	s := staking.New(b, nil)
	n := &testNet{t: t, bank: b, stake: s, cm: New(b, s), mint: &minter{bank: b}, now: genesisTime.UnixNano(), check: true}
	n.mods = []ledger.Module{b, s, n.mint, n.cm}
	st, err := ledger.New(store.NewMem(), n.mods, b, ledger.Options{SkipSigVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	n.st = st
	g := &ledger.Genesis{ChainID: testChainID, GenesisTime: genesisTime, Params: map[string]json.RawMessage{}}
	if params != "" {
		g.Params[Name] = json.RawMessage(params)
	}
	for i := 0; i < nVals; i++ {
		op, cons := newAcct(r), newAcct(r)
		n.vals = append(n.vals, op)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: op.addr, Balance: acctBalance})
		g.Validators = append(g.Validators, ledger.GenesisValidator{Operator: op.addr,
			ConsPubKey: ledger.HexBytes(cons.priv.Public().(keys.PubKey)), Moniker: fmt.Sprintf("val-%d", i),
			SelfBond: 100 * ledger.UinfPerINF})
	}
	for i := 0; i < nAccts; i++ {
		a := newAcct(r)
		n.accts = append(n.accts, a)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: a.addr, Balance: acctBalance})
	}
	if _, err := st.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *testNet) tx(a *acct, msgs ...ledger.Msg) []byte {
	_, raw := ledger.SignTx(testChainID, a.priv, a.nonce, testFee, "", msgs...)
	a.nonce++
	return raw
}

// block applies the next block and checks the supply invariant, the
// running totals and that no escrow outlives its deadline.
func (n *testNet) block(txs ...[]byte) *ledger.BlockResult {
	n.t.Helper()
	n.now += int64(time.Second)
	h := n.height + 1
	hash := make([]byte, 32)
	copy(hash, fmt.Sprintf("block-%d", h)) // distinct, deterministic "block hashes"
	res, err := n.st.ApplyBlock(&ledger.Block{Height: h, Time: n.now, LastBlockHash: hash, Txs: txs})
	if err != nil {
		n.t.Fatalf("apply block %d: %v", h, err)
	}
	n.height = h
	if n.check {
		n.checkState()
	}
	return res
}

func (n *testNet) blocksTo(h uint64) {
	n.t.Helper()
	for n.height < h {
		n.block()
	}
}

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

func (n *testNet) provider(a keys.Address) (p Provider) {
	n.t.Helper()
	n.query(func(ctx *ledger.Context) {
		var ok bool
		if p, ok = n.cm.provider(ctx, a); !ok {
			n.t.Fatalf("no provider %s", a)
		}
	})
	return p
}

func (n *testNet) job(id uint64) (j Job) {
	n.t.Helper()
	n.query(func(ctx *ledger.Context) {
		var err error
		if j, err = n.cm.JobByID(ctx, id); err != nil {
			n.t.Fatal(err)
		}
	})
	return j
}

func (n *testNet) epoch() (e Epoch) {
	n.query(func(ctx *ledger.Context) { e, _ = n.cm.epoch(ctx) })
	return e
}

func (n *testNet) challenge(a keys.Address) (ci ChallengeInfo, err error) {
	n.query(func(ctx *ledger.Context) { ci, err = n.cm.Challenge(ctx, a) })
	return ci, err
}

func (n *testNet) supply() (s ledger.Supply) {
	n.query(func(ctx *ledger.Context) { s = n.bank.Supply(ctx) })
	return s
}

// checkState: minted - burned == holdings; the compute totals equal a
// recount of the records; every open or assigned job's deadline is still
// ahead (its escrow ended at the deadline's end-block otherwise).
func (n *testNet) checkState() {
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
		var bonded, unbonding, escrow, assigned uint64
		queue := unbondingQueue(ctx)
		for _, p := range n.cm.Providers(ctx) {
			if p.Unbonding() {
				unbonding += p.Bond
				if queue[p.Address] != p.UnbondAt {
					n.t.Fatalf("provider %s unbonding at %d but queued at %d", p.Address, p.UnbondAt, queue[p.Address])
				}
			} else {
				bonded += p.Bond
			}
		}
		used := map[keys.Address]*Usage{}
		ctx.Iterate([]byte(jobPrefix), func(_, raw []byte) bool {
			var j Job
			if err := ledger.DecodeStored(raw, &j); err != nil {
				n.t.Fatal(err)
			}
			if j.Kind != KindWasm && (j.Status == JobAssigned || j.Status == JobRunning) {
				u := used[j.Provider]
				if u == nil {
					u = &Usage{}
					used[j.Provider] = u
				}
				u.MilliCPU += j.MilliCPU
				u.MemoryBytes += j.MemoryBytes
				for i, g := range j.GPUAlloc {
					for len(u.GPUs) <= i {
						u.GPUs = append(u.GPUs, 0)
					}
					u.GPUs[i] += g
				}
			}
			if j.Status == JobRunning {
				assigned++
				escrow += j.MaxPrice - j.Charged
				if !ctx.Has(jprovKey(j.Provider, j.ID)) {
					n.t.Fatalf("lease %d missing from its provider's index", j.ID)
				}
				if j.Lease == nil || j.Lease.End < n.height {
					n.t.Fatalf("height %d: lease %d running past its end", n.height, j.ID)
				}
			}
			if j.Status == JobAssigned || j.Status == JobSealed {
				assigned++
				if !ctx.Has(jprovKey(j.Provider, j.ID)) {
					n.t.Fatalf("job %d missing from its provider's index", j.ID)
				}
			}
			if (j.Status == JobSealed) != ctx.Has(rsealKey(j.ID)) {
				n.t.Fatalf("job %d is %s, sealed record present %v", j.ID, j.Status, ctx.Has(rsealKey(j.ID)))
			}
			if j.Status == JobOpen || j.Status == JobAssigned || j.Status == JobSealed {
				escrow += j.MaxPrice
				if j.Deadline <= n.height {
					n.t.Fatalf("height %d: job %d is %s past its deadline %d", n.height, j.ID, j.Status, j.Deadline)
				}
			} else if j.Status != JobRunning && j.Charged+j.Refunded != j.MaxPrice {
				n.t.Fatalf("job %d: charged %d + refunded %d != max price %d", j.ID, j.Charged, j.Refunded, j.MaxPrice)
			}
			return true
		})
		// Resources in use are exactly those of the provider's running
		// container jobs and leases.
		for _, p := range n.cm.Providers(ctx) {
			u := used[p.Address]
			if u == nil {
				u = &Usage{}
			}
			var gpus, want uint32
			for i, g := range p.Used.GPUs {
				gpus += g
				if i < len(u.GPUs) && u.GPUs[i] != g {
					n.t.Fatalf("height %d: provider %s GPU group %d in use %d, jobs hold %d", n.height, p.Address, i, g, u.GPUs[i])
				}
			}
			for _, g := range u.GPUs {
				want += g
			}
			if p.Used.MilliCPU != u.MilliCPU || p.Used.MemoryBytes != u.MemoryBytes || gpus != want {
				n.t.Fatalf("height %d: provider %s in use %+v, its jobs hold %+v", n.height, p.Address, p.Used, *u)
			}
		}
		var indexed uint64
		ctx.Iterate([]byte(jprovPrefix), func(_, _ []byte) bool { indexed++; return true })
		if indexed != assigned {
			n.t.Fatalf("provider job index has %d entries, %d jobs assigned", indexed, assigned)
		}
		h := n.cm.Holdings(ctx)
		if h[0].Amount != bonded || h[1].Amount != unbonding || h[2].Amount != escrow {
			n.t.Fatalf("height %d: totals %v, recount bonded %d unbonding %d escrowed %d", n.height, h, bonded, unbonding, escrow)
		}
	})
}

func mustOK(t testing.TB, res *ledger.BlockResult) {
	t.Helper()
	for i, r := range res.Txs {
		if !r.OK {
			t.Fatalf("block %d tx %d failed: %s", res.Height, i, r.Error)
		}
	}
}

func mustFail(t testing.TB, res *ledger.BlockResult, want error) {
	t.Helper()
	if len(res.Txs) != 1 || res.Txs[0].OK || !errors.Is(res.Txs[0].Err(), want) {
		t.Fatalf("want one tx failing with %v, got ok=%v err=%v", want, res.Txs[0].OK, res.Txs[0].Err())
	}
}

func register(price uint64, tier uint8, capacity uint32, bond uint64) ledger.Msg {
	return ledger.NewMsg(MsgTypeRegister, MsgRegister{Price: price, Tier: tier, Capacity: capacity, Bond: bond})
}

func submit(workload, input string, size, maxPrice uint64) ledger.Msg {
	return ledger.NewMsg(MsgTypeJobSubmit, MsgJobSubmit{Workload: workload, Input: input, InputSize: size, MaxPrice: maxPrice})
}

func result(id uint64, res string) ledger.Msg {
	return ledger.NewMsg(MsgTypeJobResult, MsgJobResult{Job: id, Result: res})
}

// resultSalt is a test provider's result salt for a job: deterministic.
func resultSalt(a *acct, id uint64) []byte {
	s := sha256.Sum256(append([]byte("result"), append(a.addr[:], u64(id)...)...))
	return s[:16]
}

// sealResult is job id's sealed result res from a ("" with errText for a
// failure).
func (n *testNet) sealResult(a *acct, id uint64, res string) []byte {
	if n.sealed == nil {
		n.sealed = map[uint64]sealedRes{}
	}
	n.sealed[id] = sealedRes{a, res}
	c := ResultCommitment(testChainID, id, a.addr, res, errIfEmpty(res), resultSalt(a, id))
	return n.tx(a, ledger.NewMsg(MsgTypeJobResultCommit, MsgJobResultCommit{Job: id, Commitment: c[:]}))
}

func (n *testNet) revealResult(a *acct, id uint64, res string) []byte {
	return n.tx(a, ledger.NewMsg(MsgTypeJobResultReveal, MsgJobResultReveal{Job: id, Result: res, Error: errIfEmpty(res), Salt: resultSalt(a, id)}))
}

func errIfEmpty(res string) string {
	if res == "" {
		return "wasmrun: trap"
	}
	return ""
}

// testCID is a valid CIDv1 (raw, sha2-256) of s.
func testCID(s string) string {
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, h).String()
}
