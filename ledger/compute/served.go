package compute

import (
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

type servedEntry struct {
	addr keys.Address
	fees uint64
}

// takeServed reads and deletes this epoch's served-work tally, by address.
func takeServed(ctx *ledger.Context) []servedEntry {
	var out []servedEntry
	var ks [][]byte
	ctx.Iterate([]byte(srvPrefix), func(k, v []byte) bool {
		ks = append(ks, append([]byte(nil), k...))
		if len(k) == len(srvPrefix)+keys.AddressLen && len(v) == 8 {
			out = append(out, servedEntry{keys.Address(k[len(srvPrefix):]), binary.BigEndian.Uint64(v)})
		}
		return true
	})
	for _, k := range ks {
		ctx.Delete(k)
	}
	return out
}

// payServed pays served_share_ppm of the providers' part of the pool in
// proportion to the fees burned for each provider's served work this
// epoch, each payment capped at served_cap_ppm of that provider's fees so
// that paying yourself for your own jobs never returns what it burned.
// What the cap (or a provider gone since) leaves unpaid goes back to the
// caller's verified-ops split. results are the epoch's round results,
// saved by the caller; other providers are saved here.
func (m *Module) payServed(ctx *ledger.Context, p Params, provPart uint64, served []servedEntry, results []roundResult) (uint64, error) {
	inResults := map[keys.Address]int{}
	for i, r := range results {
		inResults[r.pr.Address] = i
	}
	weights := make([]uint64, len(served))
	for i, s := range served {
		weights[i] = s.fees
	}
	shares, _ := ledger.SplitProRata(p.ServedSharePPM.Of(provPart), weights)
	var paid uint64
	for i, s := range served {
		var pr *Provider
		if k, ok := inResults[s.addr]; ok {
			pr = &results[k].pr
		} else if x, ok := m.provider(ctx, s.addr); ok {
			pr = &x
		} else {
			continue // gone: its share stays with the ops split
		}
		pay := min(shares[i], p.ServedCapPPM.Of(s.fees))
		if pay > 0 {
			if err := m.bank.PoolToAccount(ctx, Name, s.addr, pay); err != nil {
				return paid, err
			}
			paid += pay
		}
		pr.ServedFees = satAdd(pr.ServedFees, s.fees)
		pr.ServedEarned = satAdd(pr.ServedEarned, pay)
		pr.Earned = satAdd(pr.Earned, pay)
		if _, ok := inResults[s.addr]; !ok {
			m.putProvider(ctx, *pr)
		}
		ctx.Emit("compute_served_paid", "provider", s.addr.String(), "served_fees", fmt.Sprint(s.fees), "paid", fmt.Sprint(pay))
	}
	return paid, nil
}
