package chain

import (
	"errors"
	"testing"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/ledger/store"
)

func TestQueriesAtAnyHeight(t *testing.T) {
	n := newTestNet(t, 21, 2, 2, Options{})
	a, b := n.accts[0], n.accts[1]
	n.block(n.tx(a, send(b.addr, 10)))                                                                                  // 1
	n.block(n.tx(a, ledger.NewMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: n.vals[0].addr, Amount: 5}))) // 2
	n.block(n.tx(a, ledger.NewMsg(staking.MsgTypeUndelegate, staking.MsgUndelegate{Validator: n.vals[0].addr, Amount: 2})),
		n.tx(b, ledger.NewMsg(emission.MsgTypeSetGauge, emission.MsgSetGauge{Weights: []emission.GaugeWeight{{Module: "compute", Weight: 1}}})),
		n.tx(n.vals[1], ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: "t", Description: "d", Content: gov.NewText(), InitialDeposit: 7}))) // 3

	acc0, err := n.c.Account(0, a.addr)
	if err != nil || acc0.Balance != testBalance || acc0.Nonce != 0 {
		t.Fatalf("account at genesis: %+v %v", acc0, err)
	}
	acc1, _ := n.c.Account(1, a.addr)
	if acc1.Balance != testBalance-10-testFee || acc1.Nonce != 1 {
		t.Fatalf("account at 1: %+v", acc1)
	}
	acc3, _ := n.c.Account(3, a.addr)
	if len(acc3.Delegations) != 1 || acc3.Delegations[0].Tokens != 3 || len(acc3.Unbondings) != 1 || acc3.Unbondings[0].Amount != 2 {
		t.Fatalf("account at 3: %+v", acc3)
	}
	if d, _ := n.c.Delegations(1, a.addr); len(d) != 0 {
		t.Fatalf("delegations at 1: %+v", d)
	}
	vals, err := n.c.Validators(3)
	if err != nil || len(vals) != 2 || !vals[0].Bonded || vals[0].Power < vals[1].Power {
		t.Fatalf("validators: %+v %v", vals, err)
	}
	if p, _ := n.c.Proposals(2); len(p) != 0 {
		t.Fatal("proposal visible before it was made")
	}
	if p, err := n.c.Proposals(3); err != nil || len(p) != 1 {
		t.Fatalf("proposals at 3: %v %v", p, err)
	}
	if d, err := n.c.Proposal(3, 1); err != nil || d.TotalDeposit != 7 || len(d.Deposits) != 1 {
		t.Fatalf("proposal 1: %+v %v", d, err)
	}
	if _, err := n.c.Proposal(3, 99); !errors.Is(err, gov.ErrUnknownProposal) {
		t.Fatalf("unknown proposal: %v", err)
	}
	g, err := n.c.Gauge(3)
	if err != nil || len(g.Modules) == 0 {
		t.Fatalf("gauge: %+v %v", g, err)
	}
	s, err := n.c.Supply(3)
	if err != nil || s.Held["escrowed"] != 7 || s.Held["unbonding"] != 2 || s.Minted-s.Burned != s.Circulating {
		t.Fatalf("supply: %+v %v", s, err)
	}
	s0, _ := n.c.Supply(0)
	if s0.Burned != 0 || s.Burned != 5*testFee {
		t.Fatalf("burned at 0: %d, at 3: %d", s0.Burned, s.Burned)
	}
	if _, err := n.c.Account(4, a.addr); !errors.Is(err, store.ErrUnknownHeight) {
		t.Fatalf("query of a future height: %v", err)
	}
}
