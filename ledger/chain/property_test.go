package chain

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/ledger/store/badgerstore"
)

var (
	propSeeds  = flag.Int("prop.seeds", 4, "seeds for TestPropertyRandomBlocks")
	propBlocks = flag.Int("prop.blocks", 60, "blocks per seed for TestPropertyRandomBlocks")
	propSeed   = flag.Int64("prop.seed", 0, "run only this seed (reproduce a failure)")
)

// fakeEvidence accepts evidence whose Raw is "valid": the ledger's handling
// of verified evidence is tested here, the verification in consensus.
type fakeEvidence struct{}

func (fakeEvidence) VerifyEvidence(_ string, ev ledger.Evidence, _ keys.PubKey) error {
	if string(ev.Raw) != "valid" {
		return fmt.Errorf("signatures do not verify")
	}
	return nil
}

// propGenesis shortens the periods so that unbonding, jailing and downtime
// all happen within a short run.
func propGenesis(n *testNet) *ledger.Genesis {
	g := n.genesis()
	g.Params = map[string]json.RawMessage{
		"staking":  json.RawMessage(`{"unbonding_time_s":60,"signed_blocks_window":10,"min_signed_per_window_ppm":500000,"downtime_jail_s":30,"slash_fraction_downtime_ppm":10000,"max_validators":5}`),
		"gov":      json.RawMessage(`{"min_deposit":20000000,"max_deposit_period_s":40,"voting_period_s":40,"quorum_ppm":100000}`),
		"emission": json.RawMessage(`{"epoch_length_blocks":10,"live_modules":["compute","contest-a"]}`),
		"compute":  json.RawMessage(computePropParams),
	}
	return g
}

func TestPropertyRandomBlocks(t *testing.T) {
	seeds := make([]int64, 0, *propSeeds)
	if *propSeed != 0 {
		seeds = append(seeds, *propSeed)
	} else {
		for i := 0; i < *propSeeds; i++ {
			seeds = append(seeds, int64(1000+i))
		}
	}
	blocks := *propBlocks
	if testing.Short() {
		blocks = 20
	}
	cover := map[string]int{}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			if err := runProperty(t, seed, blocks, cover); err != nil {
				t.Fatalf("seed %d: %v (reproduce: go test ./ledger/chain -run TestPropertyRandomBlocks -prop.seed %d)", seed, err, seed)
			}
		})
	}
	// The random blocks must reach every path worth checking; a generator
	// that stopped producing them would make this test pass vacuously.
	if *propSeed == 0 && !testing.Short() {
		for _, k := range []string{"tx ok", "tx failed", "transfer", "multi_transfer", "delegate", "undelegate", "redelegate", "create_validator", "unjail", "slash/downtime", "slash/double_sign", "evidence_rejected/signatures do not verify", "unbonding_complete/", "emission_epoch/", "gauge_vote", "proposal_submitted", "proposal_deposit", "proposal_rejected/", "proposal_expired/",
			"compute_resources", "job_assign/", "job_result", "lease_start", "lease_attest", "lease_window/", "lease_end/duration", "lease_end"} {
			if cover[k] == 0 {
				t.Errorf("no %q in %d seeds: the generator lost coverage", k, len(seeds))
			}
		}
	}
}

func runProperty(t *testing.T, seed int64, blocks int, total map[string]int) error {
	opts := Options{Evidence: fakeEvidence{}}
	n := &testNet{t: t, chainID: "prop-1", r: rand.New(rand.NewSource(seed)), opts: opts, now: genesisTime.UnixNano()}
	for i := 0; i < 8; i++ {
		n.accts = append(n.accts, newAcct(n.r))
	}
	for i := 0; i < 4; i++ {
		a := newAcct(n.r)
		a.cons = newAcct(n.r).priv
		n.vals = append(n.vals, a)
	}
	g := propGenesis(n)
	// Twin ledger on Badger: same blocks must give the same app hash on a
	// different store implementation.
	bs, err := badgerstore.Open(t.TempDir(), badgerstore.Options{NoSync: true, SmallMemory: true})
	if err != nil {
		return err
	}
	defer bs.Close()
	a, err := New(store.NewMem(), opts)
	if err != nil {
		return err
	}
	b, err := New(bs, opts)
	if err != nil {
		return err
	}
	ha, err := a.InitGenesis(g)
	if err != nil {
		return err
	}
	hb, err := b.InitGenesis(g)
	if err != nil {
		return err
	}
	if ha != hb {
		return fmt.Errorf("genesis app hashes differ")
	}
	n.c = a
	cover := map[string]int{}
	defer func() {
		t.Logf("seed %d coverage: %v", seed, cover)
		for k, v := range cover {
			total[k] += v
		}
	}()
	everyone := append(append([]*acct{}, n.accts...), n.vals...)
	for h := 1; h <= blocks; h++ {
		blk := n.randomBlock(everyone)
		ra, err := a.ApplyBlock(blk)
		if err != nil {
			return fmt.Errorf("height %d: %v", blk.Height, err)
		}
		rb, err := b.ApplyBlock(blk)
		if err != nil {
			return fmt.Errorf("height %d (badger twin): %v", blk.Height, err)
		}
		n.height = blk.Height
		if ra.AppHash != rb.AppHash {
			return fmt.Errorf("height %d: app hash differs between twins: %x vs %x", blk.Height, ra.AppHash, rb.AppHash)
		}
		for i := range ra.Txs {
			if ra.Txs[i].Error != rb.Txs[i].Error {
				return fmt.Errorf("height %d tx %d: results differ: %q vs %q", blk.Height, i, ra.Txs[i].Error, rb.Txs[i].Error)
			}
		}
		if err := a.CheckInvariants(blk.Height); err != nil {
			return err
		}
		for _, tr := range ra.Txs {
			if tr.OK {
				cover["tx ok"]++
			} else {
				cover["tx failed"]++
			}
			for _, e := range tr.Events {
				cover[e.Type]++
			}
		}
		for _, e := range ra.Events {
			cover[e.Type+"/"+e.Attrs["reason"]]++
		}
		// Resync the test's nonces with the ledger (failed txs may not
		// consume one).
		a.Query(blk.Height, func(ctx *ledger.Context) error {
			for _, x := range everyone {
				x.nonce = ledger.AccountNonce(ctx, x.addr)
			}
			return nil
		})
	}
	// Past heights stay readable and keep their app hash.
	for h := uint64(0); h <= n.height; h += 7 {
		x, _ := a.AppHashAt(h)
		y, _ := b.AppHashAt(h)
		if x != y {
			return fmt.Errorf("recorded app hash at %d differs", h)
		}
	}
	return nil
}

// randomBlock makes a block of random, mostly valid, transactions, random
// missed signatures and occasional evidence.
func (n *testNet) randomBlock(everyone []*acct) *ledger.Block {
	r := n.r
	var txs [][]byte
	pick := func() *acct { return everyone[r.Intn(len(everyone))] }
	var vals []staking.Validator
	n.c.Query(n.height, func(ctx *ledger.Context) error { vals = n.c.Staking.Validators(ctx); return nil })
	valAddr := func() keys.Address {
		if len(vals) == 0 || r.Intn(10) == 0 {
			return pick().addr
		}
		return vals[r.Intn(len(vals))].Operator
	}
	for i, k := 0, r.Intn(12); i < k; i++ {
		from := pick()
		amt := uint64(r.Int63n(50 * ledger.UinfPerINF))
		var msg ledger.Msg
		switch r.Intn(19) {
		case 0, 1, 2:
			msg = send(pick().addr, amt)
		case 3:
			msg = send(pick().addr, math.MaxUint64-uint64(r.Intn(3)))
		case 4:
			second := uint64(1 + r.Intn(1000))
			if r.Intn(3) == 0 {
				second = math.MaxUint64 // the total overflows
			}
			msg = ledger.NewMsg(bank.MsgTypeMultiSend, bank.MsgMultiSend{Outputs: []bank.Output{{To: pick().addr, Amount: amt + 1}, {To: pick().addr, Amount: second}}})
		case 5:
			msg = ledger.NewMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: valAddr(), Amount: amt})
		case 6:
			msg = ledger.NewMsg(staking.MsgTypeUndelegate, staking.MsgUndelegate{Validator: valAddr(), Amount: amt / 4})
		case 7:
			msg = ledger.NewMsg(staking.MsgTypeRedelegate, staking.MsgRedelegate{From: valAddr(), To: valAddr(), Amount: amt / 4})
		case 8:
			cons := newAcct(r).priv.Public().(keys.PubKey)
			msg = ledger.NewMsg(staking.MsgTypeCreateValidator, staking.MsgCreateValidator{ConsPubKey: cons, Moniker: "v", Commission: ledger.PPM(r.Intn(100_000)), MaxCommission: 100_000, SelfBond: amt})
		case 9:
			msg = ledger.NewMsg(staking.MsgTypeUnjail, staking.MsgUnjail{})
		case 10:
			msg = ledger.NewMsg(staking.MsgTypeEditValidator, staking.MsgEditValidator{SetCommission: true, Commission: ledger.PPM(r.Intn(200_000))})
		case 11:
			content := gov.NewText()
			if r.Intn(2) == 0 {
				content = gov.NewParamChange(gov.ParamChange{Module: "bank", Key: "min_fee", Value: json.RawMessage(fmt.Sprint(100 + r.Intn(50)))})
			}
			msg = ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "t", Description: "d", Content: content, InitialDeposit: amt / 2})
		case 12:
			msg = ledger.NewMsg(gov.MsgTypeDeposit, gov.MsgDeposit{ProposalID: uint64(1 + r.Intn(5)), Amount: amt / 2})
		case 13:
			msg = ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: uint64(1 + r.Intn(5)), Option: gov.VoteOption(1 + r.Intn(4))})
		case 14:
			msg = ledger.NewMsg(emission.MsgTypeSetGauge, emission.MsgSetGauge{Weights: []emission.GaugeWeight{{Module: "compute", Weight: uint32(r.Intn(10))}, {Module: "contest-a", Weight: uint32(1 + r.Intn(10))}}})
		default: // compute: container jobs and leases (compute_prop_test.go)
			msg, from = n.randomComputeMsg(r, from, everyone)
		}
		nonce, fee := from.nonce, uint64(testFee+r.Intn(100))
		switch r.Intn(20) {
		case 0:
			nonce += 1 + uint64(r.Intn(3))
		case 1:
			fee = 1
		}
		tx, raw := ledger.SignTx(n.chainID, from.priv, nonce, fee, "", msg)
		if r.Intn(25) == 0 {
			tx.Signature[3] ^= 0x40
			raw = mustEncode(tx)
		}
		if r.Intn(40) == 0 {
			raw = raw[:r.Intn(len(raw))]
		}
		if nonce == from.nonce {
			from.nonce++
		}
		txs = append(txs, raw)
	}
	blk := n.nextBlock(txs...)
	blk.Time = n.now + int64(r.Intn(10))*1e9
	n.now = blk.Time
	// Votes: one validator is flaky; the rest sign almost always.
	n.c.Query(n.height, func(ctx *ledger.Context) error {
		for i, v := range n.c.Staking.BondedValidators(ctx) {
			signed := r.Intn(20) != 0
			if i == 1 {
				signed = r.Intn(3) == 0
			}
			blk.LastCommit = append(blk.LastCommit, ledger.VoteInfo{Validator: v.ConsAddress(), Signed: signed})
		}
		return nil
	})
	if r.Intn(25) == 0 && len(vals) > 0 && blk.Height > 2 {
		v := vals[r.Intn(len(vals))]
		raw := "valid"
		if r.Intn(2) == 0 {
			raw = "forged"
		}
		blk.Evidence = append(blk.Evidence, ledger.Evidence{Kind: "duplicate_vote", Validator: v.ConsAddress(), Height: blk.Height - 1, Raw: []byte(raw)})
	}
	return blk
}

// buggyModule credits 1 uinf out of thin air at one height: a planted bug
// the supply invariant must catch.
type buggyModule struct {
	bank   *bank.Module
	height uint64
	to     keys.Address
}

func (*buggyModule) Name() string                                           { return "buggy" }
func (*buggyModule) MsgTypes() []string                                     { return nil }
func (*buggyModule) ValidateGenesis(*ledger.Genesis) error                  { return nil }
func (*buggyModule) InitGenesis(*ledger.Context, *ledger.Genesis) error     { return nil }
func (*buggyModule) Handle(*ledger.Context, keys.Address, ledger.Msg) error { return nil }
func (*buggyModule) BeginBlock(*ledger.Context, *ledger.BlockInfo) error    { return nil }
func (m *buggyModule) EndBlock(ctx *ledger.Context) error {
	if ctx.Height == m.height {
		return m.bank.AddBalance(ctx, m.to, 1)
	}
	return nil
}

func TestPlantedSupplyBugIsCaught(t *testing.T) {
	bug := &buggyModule{height: 3}
	n := newTestNet(t, 9, 2, 1, Options{Extra: []ledger.Module{bug}})
	bug.bank, bug.to = n.c.Bank, n.accts[0].addr
	n.check = false
	for h := 1; h <= 4; h++ {
		n.block(n.tx(n.accts[1], send(n.accts[0].addr, 5)))
		err := n.c.CheckInvariants(n.height)
		switch {
		case h < 3 && err != nil:
			t.Fatalf("height %d: invariant failed before the bug: %v", h, err)
		case h >= 3 && (err == nil || !strings.Contains(err.Error(), "invariant broken")):
			t.Fatalf("height %d: the planted 1 uinf credit was not caught (err=%v)", h, err)
		}
	}
}

func mustEncode(v any) []byte {
	var buf bytes.Buffer
	b, err := json.Marshal(nil)
	_ = b
	if err != nil {
		panic(err)
	}
	buf.Write(codecMarshal(v))
	return buf.Bytes()
}
