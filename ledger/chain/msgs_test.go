package chain

import (
	"bytes"
	"math"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/staking"
)

func send(to keys.Address, amt uint64) ledger.Msg {
	return ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: amt})
}

func TestTxRejections(t *testing.T) {
	n := newTestNet(t, 1, 3, 1, Options{})
	a, b := n.accts[0], n.accts[1]

	t.Run("malformed", func(t *testing.T) {
		n.t = t
		a.nonce++ // expectReject rolls back one nonce
		n.expectReject(a, []byte{0x83, 0x01}, ledger.ErrMalformedTx, false)
	})
	t.Run("non-canonical", func(t *testing.T) {
		n.t = t
		tx, _ := ledger.SignTx(n.chainID, a.priv, a.nonce, testFee, "", send(b.addr, 1))
		raw := codec.MustMarshal(tx)
		// The fee (100) written in a longer integer form: the same value and
		// a valid signature, but other bytes and so another tx hash.
		bad := bytes.Replace(raw, []byte{0x18, testFee}, []byte{0x19, 0x00, testFee}, 1)
		if bytes.Equal(bad, raw) {
			t.Fatal("test setup: fee bytes not found")
		}
		a.nonce++
		n.expectReject(a, bad, ledger.ErrMalformedTx, false)
		n.expectReject(a, append(raw, 0x00), ledger.ErrMalformedTx, false)
		a.nonce++
	})
	t.Run("bad signature", func(t *testing.T) {
		n.t = t
		tx, _ := ledger.SignTx(n.chainID, a.priv, a.nonce, testFee, "", send(b.addr, 1))
		tx.Signature[0] ^= 1
		a.nonce++
		n.expectReject(a, codec.MustMarshal(tx), ledger.ErrBadSignature, false)
	})
	t.Run("signed by another key", func(t *testing.T) {
		n.t = t
		tx, _ := ledger.SignTx(n.chainID, a.priv, a.nonce, testFee, "", send(b.addr, 1))
		tx.Signature = keys.Sign(b.priv, n.chainID, keys.DomainTx, codec.MustMarshal(tx.Body))
		a.nonce++
		n.expectReject(a, codec.MustMarshal(tx), ledger.ErrBadSignature, false)
	})
	t.Run("wrong chain id", func(t *testing.T) {
		n.t = t
		_, raw := ledger.SignTx("other-chain", a.priv, a.nonce, testFee, "", send(b.addr, 1))
		a.nonce++
		n.expectReject(a, raw, ledger.ErrWrongChainID, false)
	})
	t.Run("wrong nonce", func(t *testing.T) {
		n.t = t
		_, raw := ledger.SignTx(n.chainID, a.priv, a.nonce+5, testFee, "", send(b.addr, 1))
		a.nonce++
		n.expectReject(a, raw, ledger.ErrWrongNonce, false)
	})
	t.Run("fee below minimum", func(t *testing.T) {
		n.t = t
		_, raw := ledger.SignTx(n.chainID, a.priv, a.nonce, testFee-1, "", send(b.addr, 1))
		a.nonce++
		n.expectReject(a, raw, ledger.ErrInsufficientFee, false)
	})
	t.Run("cannot pay fee", func(t *testing.T) {
		n.t = t
		poor := newAcct(n.r)
		_, raw := ledger.SignTx(n.chainID, poor.priv, 0, testFee, "", send(b.addr, 1))
		poor.nonce++
		n.expectReject(poor, raw, ledger.ErrInsufficientFunds, false)
	})
	t.Run("unknown message", func(t *testing.T) {
		n.t = t
		n.expectReject(a, n.tx(a, ledger.Msg{Type: "nope/thing", Value: codec.MustMarshal(1)}), ledger.ErrUnknownMsg, false)
	})
	t.Run("memo too large", func(t *testing.T) {
		n.t = t
		_, raw := ledger.SignTx(n.chainID, a.priv, a.nonce, testFee, string(make([]byte, ledger.MaxMemoBytes+1)), send(b.addr, 1))
		a.nonce++
		n.expectReject(a, raw, ledger.ErrTooLarge, false)
	})
	t.Run("message value malformed", func(t *testing.T) {
		n.t = t
		n.expectReject(a, n.tx(a, ledger.Msg{Type: bank.MsgTypeSend, Value: codec.MustMarshal("x")}), ledger.ErrInvalidMsg, true)
	})
	t.Run("failure in second message undoes the first", func(t *testing.T) {
		n.t = t
		n.expectReject(a, n.tx(a, send(b.addr, 5), send(b.addr, math.MaxUint64)), ledger.ErrInsufficientFunds, true)
	})
}

func TestBankMessages(t *testing.T) {
	n := newTestNet(t, 2, 3, 1, Options{})
	a, b := n.accts[0], n.accts[1]
	s0 := n.supply()
	res := n.block(n.tx(a, send(b.addr, 7)))
	if !res.Txs[0].OK {
		t.Fatal(res.Txs[0].Error)
	}
	if n.balance(a.addr) != testBalance-7-testFee || n.balance(b.addr) != testBalance+7 {
		t.Fatalf("balances %d %d", n.balance(a.addr), n.balance(b.addr))
	}
	if s := n.supply(); s.Burned != s0.Burned+testFee || s.Minted != s0.Minted {
		t.Fatalf("supply %+v, want fee burned", s)
	}
	ms := bank.MsgMultiSend{Outputs: []bank.Output{{To: b.addr, Amount: 3}, {To: n.accts[2].addr, Amount: 4}}}
	if res := n.block(n.tx(a, ledger.NewMsg(bank.MsgTypeMultiSend, ms))); !res.Txs[0].OK {
		t.Fatal(res.Txs[0].Error)
	}
	if n.balance(n.accts[2].addr) != testBalance+4 {
		t.Fatal("multi-send output missing")
	}

	n.t = t
	n.expectReject(a, n.tx(a, send(b.addr, testBalance*10)), ledger.ErrInsufficientFunds, true)
	n.expectReject(a, n.tx(a, send(b.addr, 0)), ledger.ErrInvalidMsg, true)
	n.expectReject(a, n.tx(a, send(keys.Address{}, 1)), ledger.ErrInvalidMsg, true)
	over := bank.MsgMultiSend{Outputs: []bank.Output{{To: b.addr, Amount: math.MaxUint64}, {To: b.addr, Amount: 2}}}
	n.expectReject(a, n.tx(a, ledger.NewMsg(bank.MsgTypeMultiSend, over)), ledger.ErrOverflow, true)
	n.expectReject(a, n.tx(a, ledger.NewMsg(bank.MsgTypeMultiSend, bank.MsgMultiSend{})), ledger.ErrInvalidMsg, true)
}

func stakingMsg(typ string, v any) ledger.Msg { return ledger.NewMsg(typ, v) }

func TestStakingMessages(t *testing.T) {
	n := newTestNet(t, 3, 4, 2, Options{})
	a, b := n.accts[0], n.accts[1]
	v0, v1 := n.vals[0], n.vals[1]
	ok := func(raw []byte) {
		t.Helper()
		if r := n.block(raw).Txs[0]; !r.OK {
			t.Fatal(r.Error)
		}
	}
	val := func(op keys.Address) staking.Validator {
		var v staking.Validator
		n.c.Query(n.height, func(ctx *ledger.Context) error { v, _ = n.c.Staking.Validator(ctx, op); return nil })
		return v
	}

	// create_validator
	consA := newAcct(n.r).priv.Public().(keys.PubKey)
	create := staking.MsgCreateValidator{ConsPubKey: consA, Moniker: "alice", Commission: 50_000, MaxCommission: 200_000, SelfBond: 10 * ledger.UinfPerINF}
	ok(n.tx(a, stakingMsg(staking.MsgTypeCreateValidator, create)))
	if v := val(a.addr); v.Tokens != create.SelfBond || v.Moniker != "alice" {
		t.Fatalf("created validator %+v", v)
	}
	n.expectReject(a, n.tx(a, stakingMsg(staking.MsgTypeCreateValidator, create)), staking.ErrValidatorExists, true)
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeCreateValidator, create)), staking.ErrConsKeyInUse, true)
	c2 := create
	c2.ConsPubKey = newAcct(n.r).priv.Public().(keys.PubKey)
	c2.SelfBond = 1
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeCreateValidator, c2)), staking.ErrSelfBondTooLow, true)
	c2.SelfBond, c2.Commission = 10*ledger.UinfPerINF, 300_000
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeCreateValidator, c2)), staking.ErrInvalidCommission, true)
	c2.Commission, c2.SelfBond = 0, testBalance*5
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeCreateValidator, c2)), ledger.ErrInsufficientFunds, true)
	c2.SelfBond, c2.Moniker = 10*ledger.UinfPerINF, ""
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeCreateValidator, c2)), ledger.ErrInvalidMsg, true)

	// edit_validator
	ok(n.tx(a, stakingMsg(staking.MsgTypeEditValidator, staking.MsgEditValidator{Moniker: "alice2", SetCommission: true, Commission: 150_000})))
	if v := val(a.addr); v.Moniker != "alice2" || v.Commission != 150_000 {
		t.Fatalf("edit: %+v", v)
	}
	n.expectReject(a, n.tx(a, stakingMsg(staking.MsgTypeEditValidator, staking.MsgEditValidator{SetCommission: true, Commission: 250_000})), staking.ErrInvalidCommission, true)
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeEditValidator, staking.MsgEditValidator{Moniker: "x"})), staking.ErrUnknownValidator, true)

	// delegate
	ok(n.tx(b, stakingMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: v0.addr, Amount: 40 * ledger.UinfPerINF})))
	if v := val(v0.addr); v.Tokens != testSelfBond+40*ledger.UinfPerINF {
		t.Fatalf("delegate: tokens %d", v.Tokens)
	}
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: b.addr, Amount: 1})), staking.ErrUnknownValidator, true)
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: v0.addr, Amount: testBalance * 10})), ledger.ErrInsufficientFunds, true)
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: v0.addr})), ledger.ErrInvalidMsg, true)

	// redelegate
	ok(n.tx(b, stakingMsg(staking.MsgTypeRedelegate, staking.MsgRedelegate{From: v0.addr, To: v1.addr, Amount: 10 * ledger.UinfPerINF})))
	if v := val(v1.addr); v.Tokens != testSelfBond+ledger.UinfPerINF+10*ledger.UinfPerINF {
		t.Fatalf("redelegate: tokens %d", v.Tokens)
	}
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeRedelegate, staking.MsgRedelegate{From: v0.addr, To: v0.addr, Amount: 1})), staking.ErrSameValidator, true)
	n.expectReject(n.accts[2], n.tx(n.accts[2], stakingMsg(staking.MsgTypeRedelegate, staking.MsgRedelegate{From: v0.addr, To: v1.addr, Amount: 1})), staking.ErrNoDelegation, true)

	// undelegate: unbonding holds the tokens until the period ends.
	balB := n.balance(b.addr)
	ok(n.tx(b, stakingMsg(staking.MsgTypeUndelegate, staking.MsgUndelegate{Validator: v0.addr, Amount: 5 * ledger.UinfPerINF})))
	if n.balance(b.addr) != balB-testFee {
		t.Fatal("undelegated tokens paid before the unbonding period")
	}
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeUndelegate, staking.MsgUndelegate{Validator: v0.addr, Amount: 1000 * ledger.UinfPerINF})), staking.ErrInsufficientStake, true)
	n.expectReject(n.accts[2], n.tx(n.accts[2], stakingMsg(staking.MsgTypeUndelegate, staking.MsgUndelegate{Validator: v0.addr, Amount: 1})), staking.ErrNoDelegation, true)

	// unjail a validator that is not jailed, then jail one by self-unbonding.
	n.expectReject(a, n.tx(a, stakingMsg(staking.MsgTypeUnjail, staking.MsgUnjail{})), staking.ErrNotJailed, true)
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeUnjail, staking.MsgUnjail{})), staking.ErrUnknownValidator, true)
	ok(n.tx(a, stakingMsg(staking.MsgTypeUndelegate, staking.MsgUndelegate{Validator: a.addr, Amount: 9*ledger.UinfPerINF + 1})))
	if !val(a.addr).Jailed {
		t.Fatal("validator below min self-bond not jailed")
	}
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: a.addr, Amount: 1})), staking.ErrValidatorJailed, true)
	n.expectReject(b, n.tx(b, stakingMsg(staking.MsgTypeRedelegate, staking.MsgRedelegate{From: v0.addr, To: a.addr, Amount: 1})), staking.ErrValidatorJailed, true)
	n.expectReject(a, n.tx(a, stakingMsg(staking.MsgTypeUnjail, staking.MsgUnjail{})), staking.ErrSelfBondTooLow, true)

	// Unbonding completes after the period: advance time past it.
	n.now += int64(staking.DefaultParams().UnbondingTimeSeconds) * 1e9
	balB = n.balance(b.addr)
	n.block()
	if got := n.balance(b.addr); got != balB+5*ledger.UinfPerINF {
		t.Fatalf("after unbonding period balance %d, want %d", got, balB+5*ledger.UinfPerINF)
	}
}
