package compute

import (
	"fmt"

	"github.com/inferd/inferd/compute/challenge"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/staking"
)

// startEpoch opens epoch number at this height: the schedule is fixed from
// the current parameters and every live provider gets a round (its
// challenge is ProviderSeed(seed, address) at its tier's n). With no live
// provider nothing is written and the next block tries again.
func (m *Module) startEpoch(ctx *ledger.Context, number uint64, seed [32]byte) error {
	p := m.Params(ctx)
	h := ctx.Height
	e := Epoch{Number: number, Start: h, CommitDeadline: h + p.CommitDeadlineBlocks,
		AttestDeadline: h + p.AttestDeadlineBlocks, End: h + p.EpochBlocks - 1, K: p.RowsChecked, Seed: seed[:]}
	var live []Provider
	ctx.Iterate([]byte(provPrefix), func(_, raw []byte) bool {
		var pr Provider
		if err := ledger.DecodeStored(raw, &pr); err != nil {
			panic(err) // written by this module
		}
		if pr.Live() {
			live = append(live, pr)
		}
		return true
	})
	if len(live) == 0 {
		return nil // idle: no epoch starts until a provider is live
	}
	for _, pr := range live {
		n, err := challenge.TierN(int(pr.Tier))
		if err != nil {
			continue // tiers are checked on register and update
		}
		ctx.SetObj(roundKey(number, pr.Address), Round{Tier: pr.Tier, N: uint32(n)})
	}
	e.Providers = uint64(len(live))
	ctx.SetObj(keyEpoch, e)
	ctx.Emit("compute_epoch_start", "epoch", fmt.Sprint(number), "providers", fmt.Sprint(len(live)),
		"commit_deadline", fmt.Sprint(e.CommitDeadline), "attest_deadline", fmt.Sprint(e.AttestDeadline))
	return nil
}

func (m *Module) commitRoot(ctx *ledger.Context, sender keys.Address, x MsgCommitRoot) error {
	e, ok := m.epoch(ctx)
	if !ok || x.Epoch != e.Number {
		return fmt.Errorf("%w: root for epoch %d, the current epoch is %d", ErrWrongEpoch, x.Epoch, e.Number)
	}
	if ctx.Height >= e.CommitDeadline {
		return fmt.Errorf("%w: commits for epoch %d were due before height %d (now %d)", ErrDeadlinePassed, e.Number, e.CommitDeadline, ctx.Height)
	}
	if len(x.Root) != 32 {
		return fmt.Errorf("%w: root is %d bytes, want 32", ledger.ErrInvalidMsg, len(x.Root))
	}
	var r Round
	if !ctx.GetObj(roundKey(e.Number, sender), &r) {
		return fmt.Errorf("%w: %s in epoch %d (a provider registered or unjailed mid-epoch starts at the next one)", ErrNoChallenge, sender, e.Number)
	}
	if r.Root != nil {
		return fmt.Errorf("%w: %s in epoch %d at height %d", ErrAlreadyCommitted, sender, e.Number, r.CommitHeight)
	}
	r.Root, r.CommitHeight = x.Root, ctx.Height
	ctx.SetObj(roundKey(e.Number, sender), r)
	ctx.Emit("compute_commit", "provider", sender.String(), "epoch", fmt.Sprint(e.Number))
	return nil
}

func validVerdict(v string) bool {
	return v == VerdictPass || v == VerdictWrongRow || v == VerdictMissing
}

func (m *Module) attest(ctx *ledger.Context, sender keys.Address, x MsgAttest) error {
	if !validVerdict(x.Verdict) {
		return fmt.Errorf("%w: %q; use %q, %q or %q", ErrBadVerdict, x.Verdict, VerdictPass, VerdictWrongRow, VerdictMissing)
	}
	e, ok := m.epoch(ctx)
	if !ok || x.Epoch != e.Number {
		return fmt.Errorf("%w: attestation for epoch %d, the current epoch is %d", ErrWrongEpoch, x.Epoch, e.Number)
	}
	if ctx.Height < e.CommitDeadline {
		return fmt.Errorf("%w: attestations for epoch %d open at height %d (now %d)", ErrTooEarly, e.Number, e.CommitDeadline, ctx.Height)
	}
	if ctx.Height >= e.AttestDeadline {
		return fmt.Errorf("%w: attestations for epoch %d were due before height %d (now %d)", ErrDeadlinePassed, e.Number, e.AttestDeadline, ctx.Height)
	}
	if !m.staking.IsBonded(ctx, sender) {
		return fmt.Errorf("%w: %s", ErrNotValidator, sender)
	}
	if sender == x.Provider {
		// A validator that is also a provider would otherwise vouch for
		// its own work with its own stake.
		return fmt.Errorf("%w: %s", ErrSelfAttest, sender)
	}
	var r Round
	if !ctx.GetObj(roundKey(e.Number, x.Provider), &r) {
		return fmt.Errorf("%w: %s in epoch %d", ErrNoChallenge, x.Provider, e.Number)
	}
	if r.Root == nil {
		return fmt.Errorf("%w: %s in epoch %d (it is counted as downtime; no attestation needed)", ErrNotCommitted, x.Provider, e.Number)
	}
	k := attKey(e.Number, x.Provider, sender)
	if ctx.Has(k) {
		return fmt.Errorf("%w: %s on %s in epoch %d", ErrAlreadyAttested, sender, x.Provider, e.Number)
	}
	ctx.Set(k, []byte(x.Verdict))
	ctx.Emit("compute_attest", "validator", sender.String(), "provider", x.Provider.String(),
		"epoch", fmt.Sprint(e.Number), "verdict", x.Verdict)
	return nil
}

// Outcome decides a round from attested stake (all in the same unit; total
// is the bonded stake of the active set at the close, less the provider's
// own validator stake if it has one, which may not attest), in this order:
//
//   - wrong_row when 3*wrong > total: more than 1/3 of stake cannot all be
//     faulty (BFT assumption), so at least one honest validator saw a row
//     whose Merkle proof opens the provider's own root and whose value is
//     wrong. That is a fact about the provider's commitment (validators
//     ignore rows with bad proofs, which anyone could forge), so a minority
//     is enough; requiring 2/3 would let a cheater escape whenever a third
//     of validators is offline.
//   - pass when 3*pass > 2*total: credit needs the same supermajority as a
//     block, so faulty validators alone (< 1/3) can never mint credit.
//   - missing when 2*missing > total: a majority did not get the rows in
//     time; counted as downtime like a missing commit.
//   - inconclusive otherwise (too few validators attested): nothing.
func Outcome(pass, wrong, missing, total uint64) string {
	switch {
	case total == 0:
		return OutcomeInconclusive
	case ledger.CompareProducts(3, wrong, 1, total) > 0:
		return OutcomeWrongRow
	case ledger.CompareProducts(3, pass, 2, total) > 0:
		return OutcomePass
	case ledger.CompareProducts(2, missing, 1, total) > 0:
		return OutcomeMissing
	}
	return OutcomeInconclusive
}

type roundResult struct {
	pr  Provider
	ops uint64
}

// closeEpoch decides every round of e, applies credit, slashes and
// downtime, deletes the rounds and pays the compute pool.
func (m *Module) closeEpoch(ctx *ledger.Context, p Params, e Epoch) error {
	power := map[keys.Address]uint64{}
	var total uint64
	for _, v := range m.staking.BondedValidators(ctx) {
		power[v.Operator] = v.Tokens
		total = ledger.MustAdd(total, v.Tokens)
	}
	type round struct {
		addr keys.Address
		r    Round
	}
	var rounds []round
	pfx := cat(roundPrefix, u64(e.Number))
	ctx.Iterate(pfx, func(k, raw []byte) bool {
		var r Round
		if err := ledger.DecodeStored(raw, &r); err != nil {
			panic(err)
		}
		rounds = append(rounds, round{keys.Address(k[len(pfx):]), r})
		return true
	})
	allVotes := m.takeAttestations(ctx, e.Number)
	matched := map[keys.Address]uint64{} // validator -> attestations matching the outcome
	var results []roundResult
	for _, rd := range rounds {
		ctx.Delete(roundKey(e.Number, rd.addr))
		votes := allVotes[rd.addr]
		pr, ok := m.provider(ctx, rd.addr)
		if !ok {
			continue
		}
		outcome := OutcomeNoCommit
		if rd.r.Root != nil {
			var pass, wrong, missing uint64
			for _, v := range votes {
				w := power[v.val]
				switch v.verdict {
				case VerdictPass:
					pass += w
				case VerdictWrongRow:
					wrong += w
				case VerdictMissing:
					missing += w
				}
			}
			// The provider's own stake (if it operates a validator) cannot
			// attest on it, so it counts on neither side.
			outcome = Outcome(pass, wrong, missing, total-power[rd.addr])
			for _, v := range votes {
				if v.verdict == outcome && power[v.val] > 0 {
					matched[v.val]++
				}
			}
		}
		res := roundResult{pr: pr}
		switch outcome {
		case OutcomePass:
			res.ops = challenge.Ops(int(rd.r.N))
			res.pr.VerifiedOps = satAdd(res.pr.VerifiedOps, res.ops)
			res.pr.Uptime++
			res.pr.Missed = 0
		case OutcomeWrongRow:
			m.slash(ctx, p, &res.pr, p.SlashWrongRowPPM, fmt.Sprintf("wrong row in epoch %d", e.Number))
		case OutcomeNoCommit, OutcomeMissing:
			if res.pr.Live() {
				m.downtime(ctx, p, &res.pr, fmt.Sprintf("%s in epoch %d", outcome, e.Number))
			}
		}
		res.pr.LastEpoch, res.pr.LastOutcome, res.pr.EpochOps = e.Number, outcome, res.ops
		ctx.Emit("compute_outcome", "provider", rd.addr.String(), "epoch", fmt.Sprint(e.Number),
			"outcome", outcome, "ops", fmt.Sprint(res.ops))
		results = append(results, res)
	}
	if err := m.payEpoch(ctx, p, e, power, matched, results); err != nil {
		return err
	}
	for _, r := range results {
		m.putProvider(ctx, r.pr)
	}
	return nil
}

type vote struct {
	val     keys.Address
	verdict string
}

// takeAttestations reads and deletes every attestation of the epoch, by
// provider, in one pass (one Iterate, not one per round: the cache scans
// all its pending writes on each Iterate).
func (*Module) takeAttestations(ctx *ledger.Context, epoch uint64) map[keys.Address][]vote {
	pfx := cat(attPrefix, u64(epoch))
	out := map[keys.Address][]vote{}
	var keysSeen [][]byte
	ctx.Iterate(pfx, func(k, v []byte) bool {
		if len(k) == len(pfx)+2*keys.AddressLen {
			prov := keys.Address(k[len(pfx) : len(pfx)+keys.AddressLen])
			out[prov] = append(out[prov], vote{keys.Address(k[len(pfx)+keys.AddressLen:]), string(v)})
		}
		keysSeen = append(keysSeen, append([]byte(nil), k...))
		return true
	})
	for _, k := range keysSeen {
		ctx.Delete(k)
	}
	return out
}

// payEpoch pays the compute pool: validator_share_ppm of it to the
// validators whose attestations matched outcomes, in proportion to power
// times matches; the rest to providers in proportion to this epoch's
// verified operations, after served_share_ppm of it by served work
// (payServed). Rounding remainders, and a side with nobody to pay,
// stay in the pool for the next epoch.
func (m *Module) payEpoch(ctx *ledger.Context, p Params, e Epoch, power, matched map[keys.Address]uint64, results []roundResult) error {
	served := takeServed(ctx)
	pool := m.bank.Pool(ctx, Name)
	valPart := p.ValidatorSharePPM.Of(pool)
	provPart := pool - valPart
	// Served work first (served.go); the rest of the providers' part goes
	// by verified operations.
	servedPaid, err := m.payServed(ctx, p, provPart, served, results)
	if err != nil {
		return err
	}
	provPart -= servedPaid
	if pool == 0 {
		return nil
	}
	vals := make([]keys.Address, 0, len(matched))
	for a := range matched {
		vals = append(vals, a)
	}
	sortAddrs(vals)
	weights := make([]uint64, len(vals))
	for i, a := range vals {
		w, err := ledger.MulDiv(power[a]/staking.PowerReduction, matched[a], 1)
		if err != nil {
			w = ^uint64(0) / uint64(len(vals)+1)
		}
		weights[i] = w
	}
	paid := servedPaid
	if shares, _ := ledger.SplitProRata(valPart, weights); len(shares) > 0 {
		for i, s := range shares {
			if s == 0 {
				continue
			}
			if err := m.bank.PoolToAccount(ctx, Name, vals[i], s); err != nil {
				return err
			}
			paid += s
		}
	}
	weights = make([]uint64, len(results))
	for i, r := range results {
		weights[i] = r.ops
	}
	shares, _ := ledger.SplitProRata(provPart, weights)
	for i, s := range shares {
		if s == 0 {
			continue
		}
		if err := m.bank.PoolToAccount(ctx, Name, results[i].pr.Address, s); err != nil {
			return err
		}
		results[i].pr.Earned = satAdd(results[i].pr.Earned, s)
		paid += s
	}
	ctx.Emit("compute_epoch_paid", "epoch", fmt.Sprint(e.Number), "pool", fmt.Sprint(pool), "paid", fmt.Sprint(paid))
	return nil
}

func satAdd(a, b uint64) uint64 {
	if s, err := ledger.Add(a, b); err == nil {
		return s
	}
	return ^uint64(0)
}
