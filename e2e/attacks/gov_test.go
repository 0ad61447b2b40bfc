package attacks

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/node/api"
)

// spamProposals is how many proposals the spammer makes at each deposit.
const spamProposals = 4

// attackGovSpam: an attacker floods governance with proposals. With a
// zero deposit they are refused; below min_deposit they never reach a vote
// and their deposits are burned at max_deposit_period_s; at min_deposit
// they reach a vote and the validators veto them (deposits burned). An
// honest proposer's proposal at min_deposit, voted down, is refunded. The
// chain keeps producing blocks throughout.
func attackGovSpam(t *testing.T, d *devnet, voters []*sender) outcome {
	var gp gov.Params
	d.params(gov.Name, &gp)
	spammer, honest := d.sender("attacker"), d.sender("honest")
	a0, h0, hgt0 := d.balance(spammer.addr, 0), d.balance(honest.addr, 0), d.height()
	burned0 := d.supply().Burned

	text := func(title string, dep uint64) ledger.Msg {
		return ledger.NewMsg(gov.MsgTypeSubmitProposal, gov.MsgSubmitProposal{Title: title, Content: gov.NewText(), InitialDeposit: dep})
	}
	// A zero deposit is refused (in CheckTx or in its block; either way
	// no proposal is made).
	if tv, err := spammer.send(text("spam 0", 0)); err == nil {
		t.Fatalf("a proposal with no deposit was accepted in block %d", tv.Height)
	} else {
		t.Logf("zero deposit: %v", err)
	}
	var ids []uint64
	last := map[*sender]uint64{}
	propose := func(s *sender, title string, dep uint64) uint64 {
		tv := s.mustSend(text(title, dep))
		last[s] = proposalIn(t, d, tv, s, last[s])
		return last[s]
	}
	small := gp.MinDeposit / 100
	var smallIDs, fullIDs []uint64
	for i := 0; i < spamProposals; i++ {
		smallIDs = append(smallIDs, propose(spammer, fmt.Sprintf("spam small %d", i), small))
		fullIDs = append(fullIDs, propose(spammer, fmt.Sprintf("spam full %d", i), gp.MinDeposit))
	}
	honestID := propose(honest, "honest proposal", gp.MinDeposit)
	ids = append(append(append(ids, smallIDs...), fullIDs...), honestID)
	for _, v := range voters {
		var msgs []ledger.Msg
		for _, id := range fullIDs {
			msgs = append(msgs, ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: id, Option: gov.OptionVeto}))
		}
		msgs = append(msgs, ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: honestID, Option: gov.OptionNo}))
		v.mustSend(msgs...)
	}
	want := map[uint64]string{honestID: "rejected"}
	for _, id := range smallIDs {
		want[id] = "expired"
	}
	for _, id := range fullIDs {
		want[id] = "vetoed"
	}
	wait := time.Duration(max(gp.MaxDepositPeriodSeconds, gp.VotingPeriodSeconds)+60) * time.Second
	if err := poll(wait, func() (bool, error) {
		for _, id := range ids {
			p, err := d.cl.Proposal(context.Background(), id, api.Latest)
			if err != nil || p.Status != want[id] {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		for _, id := range ids {
			p, _ := d.cl.Proposal(context.Background(), id, api.Latest)
			t.Logf("proposal %d: %s (want %s) %s", id, p.Status, want[id], p.Result)
		}
		t.Fatalf("proposals did not end as the rules say: %v", err)
	}
	// Block production went on through the spam.
	h := d.height()
	if h < hgt0+10 {
		t.Fatalf("the chain made %d blocks during the spam", h-hgt0)
	}
	t.Logf("the chain made %d blocks (%d..%d) during the spam", h-hgt0, hgt0, h)
	o := outcome{attack: "governance spam",
		attacker:   int64(d.balance(spammer.addr, 0)) - int64(a0),
		honest:     int64(d.balance(honest.addr, 0)) - int64(h0),
		defendedBy: fmt.Sprintf("gov.min_deposit %d uinf, burned on veto (veto_threshold_ppm %d) and on expiry (max_deposit_period_s %d)", gp.MinDeposit, gp.VetoThreshold, gp.MaxDepositPeriodSeconds),
	}
	wantLoss := int64(spamProposals*(small+gp.MinDeposit) + spammer.fees)
	o.check = func(a int64) error {
		if a != -wantLoss {
			return fmt.Errorf("spammer moved %d, want -%d (every deposit burned, and its fees)", a, wantLoss)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	if o.honest != -int64(honest.fees) {
		t.Fatalf("honest moved %d, want -%d fees (deposit refunded)", o.honest, honest.fees)
	}
	if b := d.supply().Burned - burned0; b < uint64(wantLoss) {
		t.Fatalf("burned %d during the spam, want at least the spammer's %d", b, wantLoss)
	}
	o.exact = true
	o.planted = -int64(spammer.fees)
	o.attackerProfits = o.attacker > o.honest
	return o
}

// proposalIn finds the id of the proposal s made in tv's block: the
// highest id proposed by s, above prev (the sender makes one at a time).
func proposalIn(t *testing.T, d *devnet, tv api.TxView, s *sender, prev uint64) uint64 {
	t.Helper()
	var id uint64
	if err := poll(30*time.Second, func() (bool, error) {
		ps, err := d.cl.Proposals(context.Background(), api.Latest)
		if err != nil {
			return false, err
		}
		for _, p := range ps.Proposals {
			if p.Proposer == s.addr {
				id = max(id, p.ID)
			}
		}
		return id > prev, nil
	}); err != nil {
		t.Fatalf("the proposal of block %d: %v", tv.Height, err)
	}
	return id
}
