package compute

import (
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/compute/challenge"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

func checkOffer(p Params, price uint64, tier uint8, capacity uint32) error {
	if _, err := challenge.TierN(int(tier)); err != nil {
		return fmt.Errorf("%w: tier %d; use 0..%d (n = 256 .. 8192)", ErrBadTier, tier, challenge.NumTiers-1)
	}
	if capacity == 0 || uint64(capacity) > p.MaxProviderCapacity {
		return fmt.Errorf("%w: %d; use 1..%d concurrent jobs", ErrBadCapacity, capacity, p.MaxProviderCapacity)
	}
	if price == 0 || price > p.MaxJobPrice {
		return fmt.Errorf("%w: price %d; use 1..%d uinf per job", ErrBadPrice, price, p.MaxJobPrice)
	}
	return nil
}

func (m *Module) register(ctx *ledger.Context, sender keys.Address, x MsgRegister) error {
	p := m.Params(ctx)
	if old, ok := m.provider(ctx, sender); ok {
		if old.Unbonding() {
			return fmt.Errorf("%w: %s is unbonding until height %d; register again after that", ErrProviderExists, sender, old.UnbondAt)
		}
		return fmt.Errorf("%w: %s; use compute/update to change price, tier, capacity or bond", ErrProviderExists, sender)
	}
	if err := checkOffer(p, x.Price, x.Tier, x.Capacity); err != nil {
		return err
	}
	if x.Bond < p.MinBond {
		return fmt.Errorf("%w: bond %d uinf, min_bond is %d", ErrBondTooLow, x.Bond, p.MinBond)
	}
	if err := m.bank.SubBalance(ctx, sender, x.Bond); err != nil {
		return err
	}
	if err := addTotal(ctx, keyBonded, x.Bond); err != nil {
		return err
	}
	// A round left by an earlier registration is not this one's (a
	// registration mid-epoch starts at the next epoch).
	if e, ok := m.epoch(ctx); ok && ctx.Has(roundKey(e.Number, sender)) {
		ctx.Delete(roundKey(e.Number, sender))
	}
	m.putProvider(ctx, Provider{Address: sender, Price: x.Price, Tier: x.Tier, Capacity: x.Capacity,
		Bond: x.Bond, Registered: ctx.Height})
	ctx.Emit("compute_register", "provider", sender.String(), "price", fmt.Sprint(x.Price),
		"tier", fmt.Sprint(x.Tier), "capacity", fmt.Sprint(x.Capacity), "bond", fmt.Sprint(x.Bond))
	return nil
}

// liveProvider returns the sender's provider record unless it is unbonding.
func (m *Module) ownProvider(ctx *ledger.Context, sender keys.Address) (Provider, error) {
	pr, ok := m.provider(ctx, sender)
	if !ok {
		return pr, fmt.Errorf("%w: %s; register first with compute/register", ErrUnknownProvider, sender)
	}
	if pr.Unbonding() {
		return pr, fmt.Errorf("%w: %s until height %d", ErrUnbonding, sender, pr.UnbondAt)
	}
	return pr, nil
}

func (m *Module) update(ctx *ledger.Context, sender keys.Address, x MsgUpdate) error {
	p := m.Params(ctx)
	pr, err := m.ownProvider(ctx, sender)
	if err != nil {
		return err
	}
	if err := checkOffer(p, x.Price, x.Tier, x.Capacity); err != nil {
		return err
	}
	if x.AddBond > 0 {
		if err := m.bank.SubBalance(ctx, sender, x.AddBond); err != nil {
			return err
		}
		if pr.Bond, err = ledger.Add(pr.Bond, x.AddBond); err != nil {
			return err
		}
		if err := addTotal(ctx, keyBonded, x.AddBond); err != nil {
			return err
		}
	}
	// Capacity may drop below the jobs already running: no new ones then.
	pr.Price, pr.Tier, pr.Capacity = x.Price, x.Tier, x.Capacity
	m.putProvider(ctx, pr)
	ctx.Emit("compute_update", "provider", sender.String(), "price", fmt.Sprint(x.Price),
		"tier", fmt.Sprint(x.Tier), "capacity", fmt.Sprint(x.Capacity), "bond", fmt.Sprint(pr.Bond))
	return nil
}

// unregister moves the whole bond to unbonding. It stays slashable (a
// re-execution may still find a bad result) until it returns.
func (m *Module) unregister(ctx *ledger.Context, sender keys.Address) error {
	p := m.Params(ctx)
	pr, err := m.ownProvider(ctx, sender)
	if err != nil {
		return err
	}
	// Running batch jobs must be reported first; leases end here, with
	// the rest refunded (the provider is going away: counted down).
	leases, others := m.providerLeases(ctx, sender)
	if others > 0 {
		return fmt.Errorf("%w: %d jobs running; report them (job/result, job/container_result) or wait for their deadlines, then unregister", ErrBusy, others)
	}
	if err := m.endProviderLeases(ctx, p, &pr, leases); err != nil {
		return err
	}
	at, err := ledger.Add(ctx.Height, max(p.UnbondingBlocks, 1))
	if err != nil {
		return err
	}
	// Its round this epoch is decided at the close (unbondings mature
	// after it): the record stays until then even if unbonding_blocks was
	// shortened mid-epoch, so the round can neither be escaped nor
	// inherited by a registration under the same address.
	if e, ok := m.epoch(ctx); ok && at < e.End && ctx.Has(roundKey(e.Number, sender)) {
		at = e.End
	}
	subTotal(ctx, keyBonded, pr.Bond)
	if err := addTotal(ctx, keyUnbonding, pr.Bond); err != nil {
		return err
	}
	pr.UnbondAt = at
	m.putProvider(ctx, pr)
	ctx.Set(cat(ubdPrefix, u64(at), sender[:]), []byte{1})
	ctx.Emit("compute_unregister", "provider", sender.String(), "bond", fmt.Sprint(pr.Bond), "returns_at", fmt.Sprint(at))
	return nil
}

func (m *Module) unjail(ctx *ledger.Context, sender keys.Address) error {
	p := m.Params(ctx)
	pr, err := m.ownProvider(ctx, sender)
	if err != nil {
		return err
	}
	if !pr.Jailed {
		return fmt.Errorf("%w: %s", ErrNotJailed, sender)
	}
	if ctx.Height < pr.JailedUntil {
		return fmt.Errorf("%w: unjail from height %d (now %d)", ErrStillJailed, pr.JailedUntil, ctx.Height)
	}
	if pr.Bond < p.MinBond {
		return fmt.Errorf("%w: bond %d uinf after slashing, min_bond is %d; add bond with compute/update first", ErrBondTooLow, pr.Bond, p.MinBond)
	}
	pr.Jailed, pr.JailedUntil, pr.Missed = false, 0, 0
	m.putProvider(ctx, pr)
	ctx.Emit("compute_unjail", "provider", sender.String())
	return nil
}

// matureUnbondings returns the bonds whose unbonding ends at this height.
func (m *Module) matureUnbondings(ctx *ledger.Context) error {
	pfx := cat(ubdPrefix, u64(ctx.Height))
	var due []keys.Address
	ctx.Iterate(pfx, func(k, _ []byte) bool {
		if len(k) == len(pfx)+keys.AddressLen {
			due = append(due, keys.Address(k[len(pfx):]))
		}
		return true
	})
	for _, a := range due {
		ctx.Delete(cat(ubdPrefix, u64(ctx.Height), a[:]))
		pr, ok := m.provider(ctx, a)
		if !ok || pr.UnbondAt != ctx.Height {
			continue
		}
		subTotal(ctx, keyUnbonding, pr.Bond)
		if err := m.bank.AddBalance(ctx, a, pr.Bond); err != nil {
			return err
		}
		m.deleteProvider(ctx, a)
		ctx.Emit("compute_unbonded", "provider", a.String(), "amount", fmt.Sprint(pr.Bond))
	}
	return nil
}

// slash burns fraction of pr's bond (bonded or unbonding) and jails the
// provider when what is left is below min_bond. The caller saves pr.
func (m *Module) slash(ctx *ledger.Context, p Params, pr *Provider, fraction ledger.PPM, reason string) uint64 {
	amt := fraction.Of(pr.Bond)
	if amt == 0 {
		return 0
	}
	pr.Bond -= amt
	if pr.Unbonding() {
		subTotal(ctx, keyUnbonding, amt)
	} else {
		subTotal(ctx, keyBonded, amt)
	}
	m.bank.NoteBurned(ctx, amt)
	ctx.Emit("compute_slash", "provider", pr.Address.String(), "amount", fmt.Sprint(amt), "reason", reason)
	if pr.Bond < p.MinBond && !pr.Unbonding() && !pr.Jailed {
		m.jail(ctx, p, pr, "bond below min_bond")
	}
	return amt
}

func (*Module) jail(ctx *ledger.Context, p Params, pr *Provider, reason string) {
	pr.Jailed = true
	pr.JailedUntil = ledger.MustAdd(ctx.Height, p.JailBlocks)
	pr.Missed = 0
	ctx.Set(cat(lgonePrefix, pr.Address[:]), []byte{1}) // its leases end in the next end-block (goneLeases)
	ctx.Emit("compute_jail", "provider", pr.Address.String(), "until", fmt.Sprint(pr.JailedUntil), "reason", reason)
}

// downtime counts a missed epoch or job; at downtime_jail_threshold
// consecutive misses the provider is jailed. The caller saves pr.
func (m *Module) downtime(ctx *ledger.Context, p Params, pr *Provider, reason string) {
	pr.Downtime++
	pr.Missed++
	ctx.Emit("compute_downtime", "provider", pr.Address.String(), "missed", fmt.Sprint(pr.Missed), "reason", reason)
	if pr.Missed >= p.DowntimeJailEpochs && !pr.Jailed && !pr.Unbonding() {
		m.jail(ctx, p, pr, "downtime")
	}
}

// unbondingHeights is used by tests to recount: every queued unbonding.
func unbondingQueue(ctx *ledger.Context) map[keys.Address]uint64 {
	out := map[keys.Address]uint64{}
	ctx.Iterate([]byte(ubdPrefix), func(k, _ []byte) bool {
		rest := k[len(ubdPrefix):]
		if len(rest) == 8+keys.AddressLen {
			out[keys.Address(rest[8:])] = binary.BigEndian.Uint64(rest[:8])
		}
		return true
	})
	return out
}
