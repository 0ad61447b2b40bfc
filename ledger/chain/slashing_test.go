package chain

import (
	"errors"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/staking"
)

func (n *testNet) validator(op keys.Address) staking.Validator {
	var v staking.Validator
	n.c.Query(n.height, func(ctx *ledger.Context) error { v, _ = n.c.Staking.Validator(ctx, op); return nil })
	return v
}

// commitVotes marks every genesis validator as signing, except miss.
func (n *testNet) commitVotes(miss *acct) []ledger.VoteInfo {
	var out []ledger.VoteInfo
	for _, v := range n.vals {
		out = append(out, ledger.VoteInfo{Validator: keys.AddressOf(v.cons.Public().(keys.PubKey)), Signed: v != miss})
	}
	return out
}

func TestDowntimeJailsAndSlashes(t *testing.T) {
	n := newTestNet(t, 4, 1, 3, Options{})
	lazy := n.vals[2]
	p := staking.DefaultParams()
	before := n.validator(lazy.addr).Tokens
	burned := n.supply().Burned
	maxMissed := p.SignedBlocksWindow - p.MinSignedPerWindow.Of(p.SignedBlocksWindow)
	var jailedAt uint64
	for i := uint64(0); i < p.SignedBlocksWindow+maxMissed+2 && jailedAt == 0; i++ {
		b := n.nextBlock()
		b.LastCommit = n.commitVotes(lazy)
		n.apply(b)
		if n.validator(lazy.addr).Jailed {
			jailedAt = n.height
		}
	}
	if jailedAt != p.SignedBlocksWindow {
		t.Fatalf("jailed at height %d, want %d (window %d, max missed %d)", jailedAt, p.SignedBlocksWindow, p.SignedBlocksWindow, maxMissed)
	}
	v := n.validator(lazy.addr)
	cut := p.SlashFractionDowntime.Of(before)
	if v.Tokens != before-cut || n.supply().Burned != burned+cut {
		t.Fatalf("tokens %d burned %d, want %d and %d", v.Tokens, n.supply().Burned, before-cut, burned+cut)
	}
	var set []staking.ValidatorPower
	n.c.Query(n.height, func(ctx *ledger.Context) error { set = n.c.Staking.ConsensusSet(ctx); return nil })
	if len(set) != 2 {
		t.Fatalf("jailed validator still in the consensus set: %d members", len(set))
	}
	n.expectReject(lazy, n.tx(lazy, ledger.NewMsg(staking.MsgTypeUnjail, staking.MsgUnjail{})), staking.ErrStillJailed, true)
	n.now += int64(p.DowntimeJailSeconds) * 1e9
	if r := n.block(n.tx(lazy, ledger.NewMsg(staking.MsgTypeUnjail, staking.MsgUnjail{}))); !r.Txs[0].OK {
		t.Fatalf("unjail after the jail period: %s", r.Txs[0].Error)
	}
	if n.validator(lazy.addr).Jailed {
		t.Fatal("still jailed after unjail")
	}
}

func TestDoubleSignTombstonesAndSlashesUnbonding(t *testing.T) {
	n := newTestNet(t, 5, 2, 3, Options{Evidence: fakeEvidence{}})
	bad, d := n.vals[0], n.accts[0]
	p := staking.DefaultParams()
	n.block(n.tx(d, ledger.NewMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: bad.addr, Amount: 100 * ledger.UinfPerINF})))
	infraction := n.height + 1
	n.block()
	// Unbonding after the infraction: still at stake when it happened.
	n.block(n.tx(d, ledger.NewMsg(staking.MsgTypeUndelegate, staking.MsgUndelegate{Validator: bad.addr, Amount: 40 * ledger.UinfPerINF})))
	tokens := n.validator(bad.addr).Tokens
	burned := n.supply().Burned
	cons := keys.AddressOf(bad.cons.Public().(keys.PubKey))
	forged := n.nextBlock()
	forged.Evidence = []ledger.Evidence{{Kind: "duplicate_vote", Validator: cons, Height: infraction, Raw: []byte("forged")}}
	n.apply(forged)
	if n.validator(bad.addr).Jailed {
		t.Fatal("forged evidence jailed a validator")
	}
	b := n.nextBlock()
	b.Evidence = []ledger.Evidence{{Kind: "duplicate_vote", Validator: cons, Height: infraction, Raw: []byte("valid")}}
	n.apply(b)
	v := n.validator(bad.addr)
	if !v.Jailed || !v.Tombstoned {
		t.Fatalf("double signer not tombstoned: %+v", v)
	}
	wantCut := p.SlashFractionDoubleSig.Of(tokens) + p.SlashFractionDoubleSig.Of(40*ledger.UinfPerINF)
	if got := n.supply().Burned - burned; got != wantCut {
		t.Fatalf("burned %d, want %d (stake and unbonding entry)", got, wantCut)
	}
	var ubd []staking.Unbonding
	n.c.Query(n.height, func(ctx *ledger.Context) error { ubd = n.c.Staking.Unbondings(ctx, d.addr); return nil })
	if len(ubd) != 1 || ubd[0].Amount != 40*ledger.UinfPerINF-p.SlashFractionDoubleSig.Of(40*ledger.UinfPerINF) {
		t.Fatalf("unbonding entries after slash: %+v", ubd)
	}
	// The same evidence again changes nothing; unjail is refused forever.
	b2 := n.nextBlock()
	b2.Evidence = b.Evidence
	burned = n.supply().Burned
	n.apply(b2)
	if n.supply().Burned != burned {
		t.Fatal("evidence punished twice")
	}
	n.now += 1e18
	r := n.block(n.tx(bad, ledger.NewMsg(staking.MsgTypeUnjail, staking.MsgUnjail{})))
	if !errors.Is(r.Txs[0].Err(), staking.ErrTombstoned) {
		t.Fatalf("unjail of a tombstoned validator: %v", r.Txs[0].Err())
	}
}
