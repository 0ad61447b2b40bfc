package gov

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
)

func change(module, key, value string) ParamChange {
	return ParamChange{Module: module, Key: key, Value: []byte(value)}
}

// passWith submits c with the full deposit, has every operator vote yes and
// ends the voting period; it returns the proposal.
func (h *harness) passWith(c Content) Proposal {
	h.t.Helper()
	id := h.submit(h.acc[0], c, 1000)
	for _, v := range h.val {
		h.vote(v, id, OptionYes)
	}
	h.endVoting(id)
	return h.proposal(id)
}

func TestParamChangePasses(t *testing.T) {
	h := newHarness(t, testParams())
	before := h.snapshot()
	id := h.submit(h.acc[0], NewParamChange(
		change(bank.Name, "min_fee", "250"),
		change(Name, "quorum_ppm", "400000"),
		change(staking.Name, "max_validators", "50"),
	), 1000)
	// The trial at submit time left every module's parameters as they were.
	after := h.snapshot()
	for _, k := range []string{"bank/params", "staking/params", "gov/params"} {
		if !bytes.Equal(before[k], after[k]) {
			t.Fatalf("%s changed by a submit", k)
		}
	}
	for _, v := range h.val {
		h.vote(v, id, OptionYes)
	}
	res := h.endVoting(id)
	if _, ok := findEvent(res.Events, "proposal_passed"); !ok {
		t.Fatalf("events %+v (%s)", res.Events, h.proposal(id).Result)
	}
	h.view(func(ctx *ledger.Context) {
		if got := h.bank.Params(ctx).MinFee; got != 250 {
			t.Fatalf("bank min_fee %d, want 250", got)
		}
		if got := h.gov.Params(ctx).Quorum; got != 400_000 {
			t.Fatalf("gov quorum %d", got)
		}
		if got := h.staking.Params(ctx).MaxValidators; got != 50 {
			t.Fatalf("staking max_validators %d", got)
		}
	})
	pc, err := DecodeParamChange(h.proposal(id).Content)
	if err != nil || len(pc.Changes) != 3 || string(pc.Changes[0].Value) != "250" {
		t.Fatalf("decoded %+v %v", pc, err)
	}
	if raw, _ := json.Marshal(pc); !strings.Contains(string(raw), `"key":"min_fee","value":250`) {
		t.Fatalf("json %s", raw)
	}
	// The harness pays 100 uinf, now below the minimum fee.
	r := h.do(h.acc[1], MsgTypeDeposit, MsgDeposit{ProposalID: id, Amount: 1})
	if !errors.Is(r.Err(), ledger.ErrInsufficientFee) {
		t.Fatalf("tx with the old fee: %v", r.Err())
	}
}

func TestInvalidParamChangeRefusedAtSubmit(t *testing.T) {
	h := newHarness(t, testParams())
	bad := map[string]Content{
		"unknown module":        NewParamChange(change("nope", "x", "1")),
		"unknown key":           NewParamChange(change(bank.Name, "max_fee", "1")),
		"wrong type":            NewParamChange(change(bank.Name, "min_fee", `"abc"`)),
		"negative":              NewParamChange(change(bank.Name, "min_fee", "-1")),
		"not JSON":              NewParamChange(change(bank.Name, "min_fee", "{")),
		"gov out of range":      NewParamChange(change(Name, "quorum_ppm", "2000000")),
		"staking out of range":  NewParamChange(change(staking.Name, "max_validators", "0")),
		"second change invalid": NewParamChange(change(bank.Name, "min_fee", "5"), change(Name, "voting_period_s", "0")),
		"no changes":            NewParamChange(),
		"not canonical":         {Kind: KindParamChange, Value: []byte{0xff}},
		"too many changes":      NewParamChange(make([]ParamChange, MaxParamChanges+1)...),
		"value nested too deep": NewParamChange(change(bank.Name, "min_fee", strings.Repeat("[", ledger.MaxParamValueDepth+1)+strings.Repeat("]", ledger.MaxParamValueDepth+1))),
		"value too long":        NewParamChange(change(bank.Name, "min_fee", "1"+strings.Repeat(" ", ledger.MaxParamValueBytes))),
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			h.t = t
			h.refuse(h.acc[2], MsgTypeSubmitProposal, MsgSubmitProposal{Title: name, Content: c, InitialDeposit: 1000}, ErrInvalidContent)
		})
	}
}

// flagContent is a content kind registered from outside: its value must be
// "ok" or "fail"; executing "ok" writes test/flag, "fail" fails.
type flagContent struct{}

func (flagContent) ValidateContent(_ *ledger.Context, raw []byte) error {
	if s := string(raw); s != "ok" && s != "fail" {
		return fmt.Errorf("flag must be ok or fail, not %q", s)
	}
	return nil
}

func (flagContent) ExecuteContent(ctx *ledger.Context, raw []byte) error {
	if string(raw) == "fail" {
		return errors.New("asked to fail")
	}
	ctx.Set([]byte("test/flag"), raw)
	return nil
}

func TestRegisteredContent(t *testing.T) {
	h := newHarness(t, testParams(), func(m *Module) { m.RegisterContent("test/flag", flagContent{}) })
	if got := strings.Join(h.gov.ContentKinds(), ","); got != "param_change,test/flag,text" {
		t.Fatalf("kinds %s", got)
	}
	h.refuse(h.acc[1], MsgTypeSubmitProposal, MsgSubmitProposal{Title: "x", Content: Content{Kind: "test/flag", Value: []byte("maybe")}, InitialDeposit: 1000}, ErrInvalidContent)

	start := h.balance(h.acc[0].addr)
	if p := h.passWith(Content{Kind: "test/flag", Value: []byte("ok")}); p.Status != StatusPassed {
		t.Fatalf("ok: %s (%s)", p.Status, p.Result)
	}
	h.view(func(ctx *ledger.Context) {
		if string(ctx.Get([]byte("test/flag"))) != "ok" {
			t.Fatal("content not executed")
		}
	})
	p := h.passWith(Content{Kind: "test/flag", Value: []byte("fail")})
	if p.Status != StatusFailed || !strings.Contains(p.Result, "asked to fail") {
		t.Fatalf("fail: %s (%s)", p.Status, p.Result)
	}
	if got := h.balance(h.acc[0].addr); got != start-2*testFee {
		t.Fatalf("deposits of the failed proposal not refunded: %d, want %d", got, start-2*testFee)
	}

	defer func() {
		if recover() == nil {
			t.Fatal("registering a kind twice did not panic")
		}
	}()
	h.gov.RegisterContent(KindText, flagContent{})
}

// TestTallyMatchesNaive checks the tally against a direct count over random
// delegations and votes: each delegation counts for its delegator's vote,
// else for its validator operator's vote. With no slashing a share is worth
// one token, so the two agree exactly.
func TestTallyMatchesNaive(t *testing.T) {
	h := newHarness(t, testParams())
	rng := rand.New(rand.NewSource(42))
	voters := append(append([]account{}, h.acc...), h.val...)
	for _, a := range h.acc {
		for _, v := range h.val {
			if rng.Intn(2) == 0 {
				h.ok(a, staking.MsgTypeDelegate, staking.MsgDelegate{Validator: v.addr, Amount: uint64(1+rng.Intn(100)) * inf})
			}
		}
	}
	for round := 0; round < 4; round++ {
		id := h.submit(h.acc[0], NewText(), 1000)
		chosen := map[keys.Address]VoteOption{}
		for _, a := range voters {
			if rng.Intn(3) > 0 {
				o := VoteOption(1 + rng.Intn(4))
				chosen[a.addr] = o
				h.vote(a, id, o)
			}
		}
		h.view(func(ctx *ledger.Context) {
			var want TallyResult
			for _, v := range h.staking.BondedValidators(ctx) {
				want.TotalBonded += v.Tokens
				for _, d := range h.staking.ValidatorDelegations(ctx, v.Operator) {
					if o, ok := chosen[d.Delegator]; ok {
						want.add(o, d.Tokens)
					} else if o, ok := chosen[v.Operator]; ok {
						want.add(o, d.Tokens)
					}
				}
			}
			if got, _ := h.gov.TallyNow(ctx, id); got != want {
				t.Fatalf("round %d: tally %+v, naive %+v", round, got, want)
			}
		})
		h.endVoting(id)
	}
}
