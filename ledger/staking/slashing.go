package staking

import (
	"fmt"

	"github.com/inferd/inferd/ledger"
)

// BeginBlock handles double-sign evidence and records which validators
// signed the previous block, jailing those down too long.
func (m *Module) BeginBlock(ctx *ledger.Context, b *ledger.BlockInfo) error {
	p := m.Params(ctx)
	for _, ev := range b.Evidence {
		m.handleEvidence(ctx, p, ev)
	}
	bonded := map[[20]byte]bool{}
	for _, v := range m.BondedValidators(ctx) {
		bonded[v.ConsAddress()] = true
	}
	for _, vi := range b.LastCommit {
		if bonded[vi.Validator] {
			m.recordSignature(ctx, p, vi)
		}
	}
	return nil
}

func (m *Module) handleEvidence(ctx *ledger.Context, p Params, ev ledger.Evidence) {
	reject := func(why string) {
		ctx.Emit("evidence_rejected", "validator", ev.Validator.String(), "height", fmt.Sprint(ev.Height), "reason", why)
	}
	if ev.Kind != "duplicate_vote" {
		reject("unknown evidence kind " + ev.Kind)
		return
	}
	if ev.Height >= ctx.Height || ctx.Height-ev.Height > p.MaxEvidenceAgeBlocks {
		reject("evidence height outside the accepted age")
		return
	}
	v, ok := m.ValidatorByConsAddr(ctx, ev.Validator)
	if !ok {
		reject("unknown validator")
		return
	}
	if v.Tombstoned {
		reject("validator already tombstoned")
		return
	}
	if m.evidence == nil {
		reject("this node has no evidence verifier")
		return
	}
	if err := m.evidence.VerifyEvidence(ctx.ChainID, ev, v.ConsPubKey); err != nil {
		reject(err.Error())
		return
	}
	burned := m.slash(ctx, &v, ev.Height, p.SlashFractionDoubleSig)
	v.Jailed, v.Tombstoned = true, true
	v.JailedUntil = 1<<63 - 1
	m.setValidator(ctx, v)
	ctx.Emit("slash", "operator", v.Operator.String(), "reason", "double_sign", "height", fmt.Sprint(ev.Height), "burned", fmt.Sprint(burned))
}

// slash burns fraction of v's tokens and of the unbonding entries that left
// v at or after infractionHeight (they were at stake when it misbehaved).
// It updates *v but the caller stores it.
func (m *Module) slash(ctx *ledger.Context, v *Validator, infractionHeight uint64, fraction ledger.PPM) uint64 {
	cut := fraction.Of(v.Tokens)
	v.Tokens -= cut
	total := cut
	var hit []Unbonding
	ctx.Iterate(cat(ubdvPrefix, v.Operator[:]), func(_, qk []byte) bool {
		var u Unbonding
		if ctx.GetObj(qk, &u) && u.CreationHeight >= infractionHeight {
			hit = append(hit, u)
		}
		return true
	})
	for _, u := range hit {
		c := fraction.Of(u.Amount)
		if c == 0 {
			continue
		}
		u.Amount -= c
		ctx.SetObj(ubdKey(&u), u)
		total = ledger.MustAdd(total, c)
	}
	m.bank.NoteBurned(ctx, total)
	return total
}

func (m *Module) recordSignature(ctx *ledger.Context, p Params, vi ledger.VoteInfo) {
	key := cat(signPrefix, vi.Validator[:])
	var si SigningInfo
	ctx.GetObj(key, &si)
	w := p.SignedBlocksWindow
	if uint64(len(si.Bitmap)) != (w+7)/8 {
		si.Bitmap, si.Missed, si.Index = make([]byte, (w+7)/8), 0, 0
	}
	i := si.Index % w
	was := si.Bitmap[i/8]&(1<<(i%8)) != 0
	switch {
	case !vi.Signed && !was:
		si.Bitmap[i/8] |= 1 << (i % 8)
		si.Missed++
	case vi.Signed && was:
		si.Bitmap[i/8] &^= 1 << (i % 8)
		si.Missed--
	}
	si.Index++
	maxMissed := w - p.MinSignedPerWindow.Of(w)
	if si.Index >= w && si.Missed > maxMissed {
		v, ok := m.ValidatorByConsAddr(ctx, vi.Validator)
		if ok && !v.Jailed {
			burned := m.slash(ctx, &v, ctx.Height, p.SlashFractionDowntime)
			v.Jailed = true
			v.JailedUntil = ctx.Time + int64(p.DowntimeJailSeconds)*1e9
			m.setValidator(ctx, v)
			ctx.Emit("slash", "operator", v.Operator.String(), "reason", "downtime", "missed", fmt.Sprint(si.Missed), "burned", fmt.Sprint(burned))
			ctx.Emit("jail", "operator", v.Operator.String(), "reason", "downtime", "until", fmt.Sprint(v.JailedUntil))
		}
		si = SigningInfo{StartHeight: ctx.Height}
	}
	ctx.SetObj(key, si)
}

// EndBlock pays out matured unbonding entries.
func (m *Module) EndBlock(ctx *ledger.Context) error {
	var due []Unbonding
	ctx.Iterate([]byte(ubdPrefix), func(_, raw []byte) bool {
		var u Unbonding
		mustDecode(raw, &u)
		if u.CompletionTime > ctx.Time {
			return false
		}
		due = append(due, u)
		return true
	})
	for i := range due {
		u := &due[i]
		m.removeUnbonding(ctx, u)
		if u.Amount > 0 {
			if err := m.bank.AddBalance(ctx, u.Delegator, u.Amount); err != nil {
				return err
			}
		}
		ctx.Emit("unbonding_complete", "delegator", u.Delegator.String(), "validator", u.Validator.String(), "amount", fmt.Sprint(u.Amount))
	}
	return nil
}
