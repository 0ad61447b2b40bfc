package contest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/ledger/store"
)

const (
	testChain = "contest-test"
	testFee   = 100
	inf       = ledger.UinfPerINF
)

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type account struct {
	priv keys.PrivKey
	addr keys.Address
}

// hook is a test module run last in end-block, for direct state setup
// and the benchmark.
type hook struct {
	at map[uint64]func(ctx *ledger.Context) error
}

func (*hook) Name() string                                           { return "testhook" }
func (*hook) MsgTypes() []string                                     { return nil }
func (*hook) ValidateGenesis(*ledger.Genesis) error                  { return nil }
func (*hook) InitGenesis(*ledger.Context, *ledger.Genesis) error     { return nil }
func (*hook) Handle(*ledger.Context, keys.Address, ledger.Msg) error { return ledger.ErrUnknownMsg }
func (*hook) BeginBlock(*ledger.Context, *ledger.BlockInfo) error    { return nil }
func (h *hook) EndBlock(ctx *ledger.Context) error {
	if f := h.at[ctx.Height]; f != nil {
		return f(ctx)
	}
	return nil
}

// harness is a ledger of bank, staking, gov, emission and contest (and a
// hook) over a memory store, one block per second. Accounts: acc[0..5]
// with 10 000 INF; validators val[i] self-bonding selfBonds[i].
type harness struct {
	t       testing.TB
	st      *ledger.State
	mods    []ledger.Module
	bank    *bank.Module
	staking *staking.Module
	gov     *gov.Module
	em      *emission.Module
	c       *Module
	hook    *hook
	acc     []account
	val     []account
	nonce   map[keys.Address]uint64
	height  uint64
	now     int64
	check   bool
}

func newHarness(t testing.TB, selfBonds []uint64) *harness {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	gen := func() account {
		pub, priv, err := keys.Generate(rng)
		if err != nil {
			t.Fatal(err)
		}
		return account{priv: priv, addr: keys.AddressOf(pub)}
	}
	h := &harness{t: t, nonce: map[keys.Address]uint64{}, now: genesisTime.UnixNano(), check: true, hook: &hook{at: map[uint64]func(*ledger.Context) error{}}}
	g := &ledger.Genesis{ChainID: testChain, GenesisTime: genesisTime, Params: map[string]json.RawMessage{}}
	for i := 0; i < 6; i++ {
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
	g.Params[gov.Name] = json.RawMessage(`{"min_deposit":1000,"max_deposit_period_s":100,"voting_period_s":5,"quorum_ppm":334000,"threshold_ppm":500000,"veto_threshold_ppm":334000}`)
	g.Params[emission.Name] = json.RawMessage(`{"initial_block_reward":1000000,"reduction_interval_blocks":1000000,"reduction_ppm":1000000,"max_supply":0,"epoch_length_blocks":10,"validator_share_ppm":200000,"compute_floor_ppm":200000,"live_modules":["compute"]}`)
	g.Params[staking.Name] = json.RawMessage(`{"max_validators":200}`)
	h.bank = bank.New()
	h.staking = staking.New(h.bank, nil)
	h.em = emission.New(h.bank, h.staking)
	h.gov = gov.New(h.bank, h.staking, map[string]ledger.ParamModule{bank.Name: h.bank, staking.Name: h.staking, emission.Name: h.em})
	h.c = New(h.bank, h.staking, h.gov, h.em)
	h.mods = []ledger.Module{h.bank, h.staking, h.gov, h.em, h.c, h.hook}
	st, err := ledger.New(store.NewMem(), h.mods, h.bank, ledger.Options{SkipSigVerify: true})
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

func (h *harness) tx(a account, msgs ...ledger.Msg) []byte {
	_, raw := ledger.SignTx(testChain, a.priv, h.nonce[a.addr], testFee, "", msgs...)
	h.nonce[a.addr]++
	return raw
}

// block applies the next block (one second later) with txs.
func (h *harness) block(txs ...[]byte) *ledger.BlockResult {
	h.t.Helper()
	h.height++
	h.now += int64(time.Second)
	res, err := h.st.ApplyBlock(&ledger.Block{Height: h.height, Time: h.now, Txs: txs})
	if err != nil {
		h.t.Fatalf("block %d: %v", h.height, err)
	}
	if h.check {
		h.checkSupply()
	}
	return res
}

// okBlock applies a block whose txs must all succeed.
func (h *harness) okBlock(txs ...[]byte) *ledger.BlockResult {
	h.t.Helper()
	res := h.block(txs...)
	for i, r := range res.Txs {
		if !r.OK {
			h.t.Fatalf("block %d tx %d refused: %v", res.Height, i, r.Err())
		}
	}
	return res
}

// to applies empty blocks until the last applied height is target.
func (h *harness) to(target uint64) {
	h.t.Helper()
	for h.height < target {
		h.block()
	}
}

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

func (h *harness) pool(id uint64) (p uint64) {
	h.view(func(ctx *ledger.Context) { p = h.bank.Pool(ctx, PoolName(id)) })
	return p
}

func (h *harness) supply() (s ledger.Supply) {
	h.view(func(ctx *ledger.Context) { s = h.bank.Supply(ctx) })
	return s
}

func (h *harness) detail(id uint64) (d ContestDetail) {
	h.t.Helper()
	var err error
	h.view(func(ctx *ledger.Context) { d, err = h.c.Contest(ctx, id) })
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func (h *harness) round(id, r uint64) (v RoundView) {
	h.t.Helper()
	var err error
	h.view(func(ctx *ledger.Context) { v, err = h.c.Round(ctx, id, r) })
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// checkSupply is the invariant of DESIGN section 3, summed as
// chain.CheckInvariants does: minted - burned = every module's holdings.
func (h *harness) checkSupply() {
	h.t.Helper()
	if err := h.supplyErr(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) supplyErr() (err error) {
	h.view(func(ctx *ledger.Context) {
		s := h.bank.Supply(ctx)
		var held uint64
		for _, m := range h.mods {
			if hd, ok := m.(ledger.Holder); ok {
				for _, x := range hd.Holdings(ctx) {
					held = ledger.MustAdd(held, x.Amount)
				}
			}
		}
		if s.Minted-s.Burned != held {
			err = fmt.Errorf("supply invariant at height %d: minted %d - burned %d = %d, held %d", h.height, s.Minted, s.Burned, s.Minted-s.Burned, held)
		}
	})
	return err
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

// refuse sends msg from a alone in a block: it must fail with want and
// change only a's fee and nonce (and what emission does every block).
func (h *harness) refuse(a account, msg ledger.Msg, want error) {
	h.t.Helper()
	before := h.snapshot()
	res := h.block(h.tx(a, msg))
	if res.Txs[0].OK || !errors.Is(res.Txs[0].Err(), want) {
		h.t.Fatalf("%s: got ok=%v err=%v, want %v", msg.Type, res.Txs[0].OK, res.Txs[0].Err(), want)
	}
	h.t.Logf("%s refused: %v", msg.Type, res.Txs[0].Err())
	for _, e := range res.Events {
		if e.Type == "contest_round_frozen" || e.Type == "contest_round_closed" {
			return // end-block changed the module's state legitimately
		}
	}
	after := h.snapshot()
	for k, v := range after {
		if bytes.HasPrefix([]byte(k), []byte(Name+"/")) && !bytes.Equal(before[k], v) {
			h.t.Fatalf("%s refused but changed %q", msg.Type, k)
		}
	}
}

// modelCID is a deterministic CIDv1 (raw, sha2-256) for a test model.
func modelCID(name string) cid.Cid {
	mh, err := multihash.Sum([]byte(name), multihash.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, mh)
}

func salt(tag string) []byte {
	s := sha256.Sum256([]byte("salt/" + tag))
	return s[:]
}

// testSpec is a valid spec: maximize accuracy from a 0.8 baseline, top-2
// geometric curve, split 50/10/40, 30-block rounds of 6-block windows and 6 to settle.
func testSpec(designer keys.Address) Spec {
	return Spec{
		Name: "mnist-mlp", Objective: "classify digits", Designer: designer,
		Evaluator: Evaluator{Builtin: "mlp-accuracy"},
		Datasets:  []Dataset{{Name: "test", CID: modelCID("dataset").String(), Policy: PolicyPublic}},
		Metric:    "accuracy", Direction: DirectionMaximize, Baseline: 800_000, MinImprovement: 10_000,
		Validators: ValidatorPolicy{Policy: ValidatorsAll, QuorumPPM: 500_000},
		Reward:     RewardCurve{Curve: CurveTopKGeometric, K: 2, RatioPPM: 500_000},
		Split:      Split{BuildersPPM: 500_000, DesignerPPM: 100_000, ValidatorsPPM: 400_000},
		Schedule:   Schedule{RoundLengthBlocks: 30, CommitBlocks: 6, RevealBlocks: 6, AttestCommitBlocks: 6, AttestRevealBlocks: 6},
		Tolerance:  Tolerance{PPM: 1_000, Absolute: 0},
	}
}

// create proposes spec, has every validator vote yes, runs to the end of
// voting and returns the new contest's id and its record start height.
func (h *harness) create(spec Spec) (uint64, uint64) {
	h.t.Helper()
	res := h.okBlock(h.tx(h.acc[0], ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{
		Title: "contest", Content: NewCreateContent(spec), InitialDeposit: 1000,
	})))
	var pid uint64
	for _, e := range res.Txs[0].Events {
		if e.Type == "proposal_submitted" {
			fmt.Sscan(e.Attrs["proposal_id"], &pid)
		}
	}
	var votes [][]byte
	for _, v := range h.val {
		votes = append(votes, h.tx(v, ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: pid, Option: gov.OptionYes})))
	}
	h.okBlock(votes...)
	for i := 0; i < 10; i++ {
		res := h.block()
		for _, e := range res.Events {
			if e.Type == "contest_created" {
				var id uint64
				fmt.Sscan(e.Attrs["contest"], &id)
				d := h.detail(id)
				return id, d.Round.Start
			}
			if e.Type == "proposal_failed" || e.Type == "proposal_rejected" {
				h.t.Fatalf("proposal: %v", e.Attrs)
			}
		}
	}
	h.t.Fatal("contest not created")
	return 0, 0
}

func commitMsg(id, round uint64, model cid.Cid, s []byte, sender keys.Address) ledger.Msg {
	return ledger.NewMsg(MsgTypeCommit, MsgCommit{Contest: id, Round: round, Hash: CommitHash(model, s, sender)})
}

func revealMsg(id, round uint64, model cid.Cid, s []byte) ledger.Msg {
	return ledger.NewMsg(MsgTypeReveal, MsgReveal{Contest: id, Round: round, Model: model.String(), Salt: s})
}

func attestCommitMsg(id, round uint64, scores []Score, s []byte, sender keys.Address) ledger.Msg {
	return ledger.NewMsg(MsgTypeAttestCommit, MsgAttestCommit{Contest: id, Round: round, Hash: AttestHash(scores, s, sender)})
}

func attestRevealMsg(id, round uint64, scores []Score, s []byte) ledger.Msg {
	return ledger.NewMsg(MsgTypeAttestReveal, MsgAttestReveal{Contest: id, Round: round, Scores: scores, Salt: s})
}

func scores(vs ...int64) []Score {
	out := make([]Score, len(vs))
	for i, v := range vs {
		out[i] = Score{Value: v}
	}
	return out
}
