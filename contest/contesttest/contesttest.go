// Package contesttest builds, for tests of the API and the CLI, a real
// in-memory chain with a live contest that has closed a round: contest 1
// ("digits"), round 1 won by builder 0's model over builder 1's (both
// agreed by the one validator), round 2 open with one commit.
//
// Threading: a Net is used from one goroutine while it is being built;
// afterwards its chain may be queried from any.
package contesttest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/store"
)

// ChainID of the test chain.
const ChainID = "contesttest-1"

// Scores the validator gives the two models of round 1.
const (
	ScoreA = 930_000
	ScoreB = 910_000
)

// Account is a key with its address and next nonce.
type Account struct {
	Priv  keys.PrivKey
	Addr  keys.Address
	Nonce uint64
}

// Net is the chain and who is on it.
type Net struct {
	t         testing.TB
	C         *chain.Chain
	Height    uint64
	Validator *Account
	Designer  *Account
	Builders  []*Account
	ModelA    cid.Cid // builder 0's, the round 1 winner
	ModelB    cid.Cid // builder 1's
	Dataset   cid.Cid
	now       int64
}

// CID returns a CIDv1 (raw, sha2-256) of data.
func CID(data string) cid.Cid {
	mh, _ := multihash.Sum([]byte(data), multihash.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, mh)
}

// Spec is the test contest: maximize accuracy from 0.8, winner takes all,
// 20-block rounds of 4-block windows.
func Spec(designer keys.Address, dataset cid.Cid) contest.Spec {
	return contest.Spec{
		Name: "digits", Objective: "classify digits", Designer: designer,
		Evaluator: contest.Evaluator{Builtin: "mlp-accuracy"},
		Datasets:  []contest.Dataset{{Name: "test", CID: dataset.String(), Policy: contest.PolicyPublic}},
		Metric:    "accuracy", Direction: contest.DirectionMaximize, Baseline: 800_000, MinImprovement: 1_000,
		Validators: contest.ValidatorPolicy{Policy: contest.ValidatorsAll, QuorumPPM: 500_000},
		Reward:     contest.RewardCurve{Curve: contest.CurveWinnerTakeAll},
		Split:      contest.Split{BuildersPPM: 600_000, DesignerPPM: 100_000, ValidatorsPPM: 300_000},
		Schedule:   contest.Schedule{RoundLengthBlocks: 20, CommitBlocks: 4, RevealBlocks: 4, AttestCommitBlocks: 4, AttestRevealBlocks: 4},
		Tolerance:  contest.Tolerance{PPM: 1_000},
	}
}

// New builds the chain (see the package documentation).
func New(t testing.TB) *Net {
	t.Helper()
	r := rand.New(rand.NewSource(11))
	acct := func() *Account {
		pub, priv, err := keys.Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		return &Account{Priv: priv, Addr: keys.AddressOf(pub)}
	}
	n := &Net{t: t, Validator: acct(), Designer: acct(), Builders: []*Account{acct(), acct()},
		ModelA: CID("model A"), ModelB: CID("model B"), Dataset: CID("digits"), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	c, err := chain.New(store.NewMem(), chain.Options{Ledger: ledger.Options{SkipSigVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	n.C = c
	cons := acct()
	g := &ledger.Genesis{ChainID: ChainID, GenesisTime: time.Unix(0, n.now).UTC(), Params: map[string]json.RawMessage{
		"gov":      json.RawMessage(`{"min_deposit":1000,"max_deposit_period_s":100,"voting_period_s":3,"quorum_ppm":334000,"threshold_ppm":500000,"veto_threshold_ppm":334000}`),
		"emission": json.RawMessage(`{"initial_block_reward":1000000,"epoch_length_blocks":5}`),
	}}
	for _, a := range []*Account{n.Validator, n.Designer, n.Builders[0], n.Builders[1]} {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: a.Addr, Balance: 1000 * ledger.UinfPerINF})
	}
	g.Validators = []ledger.GenesisValidator{{Operator: n.Validator.Addr, ConsPubKey: ledger.HexBytes(cons.Priv.Public().(keys.PubKey)),
		Moniker: "val-0", SelfBond: 100 * ledger.UinfPerINF, Commission: 100_000}}
	if _, err := c.InitGenesis(g); err != nil {
		t.Fatal(err)
	}

	n.Block(n.Tx(n.Designer, ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "digits", Content: contest.NewCreateContent(Spec(n.Designer.Addr, n.Dataset)), InitialDeposit: 1000})))
	n.Block(n.Tx(n.Validator, ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: 1, Option: gov.OptionYes})))
	var ri contest.RoundInfo
	for i := 0; i < 10 && ri.Round == 0; i++ {
		n.Block()
		n.C.Query(n.Height, func(ctx *ledger.Context) error {
			if d, err := n.C.Contest.Contest(ctx, 1); err == nil {
				ri = d.Round
			}
			return nil
		})
	}
	if ri.Round == 0 {
		t.Fatal("contesttest: the contest was not created")
	}
	salt := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	b0, b1 := n.Builders[0], n.Builders[1]
	n.Block(
		n.Tx(n.Validator, ledger.NewMsg(emission.MsgTypeSetGauge, emission.MsgSetGauge{Weights: []emission.GaugeWeight{{Module: contest.PoolName(1), Weight: 1}}})),
		n.Tx(b0, ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: 1, Round: 1, Hash: contest.CommitHash(n.ModelA, salt("a"), b0.Addr)})),
		n.Tx(b1, ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: 1, Round: 1, Hash: contest.CommitHash(n.ModelB, salt("b"), b1.Addr)})),
	)
	n.To(ri.Reveal.Start - 1)
	n.Block(
		n.Tx(b0, ledger.NewMsg(contest.MsgTypeReveal, contest.MsgReveal{Contest: 1, Round: 1, Model: n.ModelA.String(), Salt: salt("a")})),
		n.Tx(b1, ledger.NewMsg(contest.MsgTypeReveal, contest.MsgReveal{Contest: 1, Round: 1, Model: n.ModelB.String(), Salt: salt("b")})),
	)
	n.To(ri.AttestCommit.Start - 1)
	scores := []contest.Score{{Value: ScoreA}, {Value: ScoreB}}
	n.Block(n.Tx(n.Validator, ledger.NewMsg(contest.MsgTypeAttestCommit, contest.MsgAttestCommit{Contest: 1, Round: 1, Hash: contest.AttestHash(scores, salt("v"), n.Validator.Addr)})))
	n.To(ri.AttestReveal.Start - 1)
	n.Block(n.Tx(n.Validator, ledger.NewMsg(contest.MsgTypeAttestReveal, contest.MsgAttestReveal{Contest: 1, Round: 1, Scores: scores, Salt: salt("v")})))
	n.To(ri.End + 1) // round 2's first block carries a commit
	n.Block(n.Tx(b1, ledger.NewMsg(contest.MsgTypeCommit, contest.MsgCommit{Contest: 1, Round: 2, Hash: contest.CommitHash(CID("model C"), salt("c"), b1.Addr)})))
	return n
}

// Tx signs msgs from a with its next nonce and the minimum fee.
func (n *Net) Tx(a *Account, msgs ...ledger.Msg) []byte {
	_, raw := ledger.SignTx(ChainID, a.Priv, a.Nonce, 100, "", msgs...)
	a.Nonce++
	return raw
}

// Apply applies the next block (one second later) and checks the supply
// invariant; failed transactions are in the result.
func (n *Net) Apply(txs ...[]byte) *ledger.BlockResult {
	n.t.Helper()
	n.now += int64(time.Second)
	res, err := n.C.ApplyBlock(&ledger.Block{Height: n.Height + 1, Time: n.now, Txs: txs})
	if err != nil {
		n.t.Fatal(err)
	}
	n.Height++
	if err := n.C.CheckInvariants(n.Height); err != nil {
		n.t.Fatal(err)
	}
	return res
}

// Block is Apply where every transaction must succeed.
func (n *Net) Block(txs ...[]byte) {
	n.t.Helper()
	res := n.Apply(txs...)
	for i, r := range res.Txs {
		if !r.OK {
			n.t.Fatalf("contesttest: block %d tx %d: %s", n.Height, i, r.Error)
		}
	}
}

// To applies empty blocks until height h.
func (n *Net) To(h uint64) {
	for n.Height < h {
		n.Block()
	}
}

// String describes the net for failure messages.
func (n *Net) String() string { return fmt.Sprintf("contesttest net at height %d", n.Height) }
