package emission

import (
	"fmt"
	"strings"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// vote is a stored gauge vote: the voter's non-zero weights as sent.
type vote struct {
	_       struct{} `cbor:",toarray"`
	Weights []GaugeWeight
}

func voteKey(a keys.Address) []byte { return append([]byte(votePrefix), a[:]...) }

// checkWeights does the checks of a vote that need no state.
func checkWeights(ws []GaugeWeight) error {
	if len(ws) > MaxGaugeEntries {
		return fmt.Errorf("%w: %d entries, at most %d", ErrInvalidWeights, len(ws), MaxGaugeEntries)
	}
	seen := make(map[string]bool, len(ws))
	var sum uint64
	for _, w := range ws {
		if seen[w.Module] {
			return fmt.Errorf("%w: module %q listed twice", ErrInvalidWeights, w.Module)
		}
		seen[w.Module] = true
		sum += uint64(w.Weight) // at most 32 * (2^32-1): no overflow
	}
	if len(ws) > 0 && sum == 0 {
		return fmt.Errorf("%w: every weight is zero (send an empty list to withdraw the vote)", ErrInvalidWeights)
	}
	return nil
}

// setGauge handles emission/set_gauge.
func (m *Module) setGauge(ctx *ledger.Context, sender keys.Address, ws []GaugeWeight) error {
	if err := checkWeights(ws); err != nil {
		return err
	}
	if len(ws) == 0 {
		ctx.Delete(voteKey(sender))
		ctx.Emit("gauge_vote", "voter", sender.String(), "weights", "")
		return nil
	}
	for _, w := range ws {
		if !m.IsLive(ctx, w.Module) {
			return fmt.Errorf("%w: %q", ErrUnknownModule, w.Module)
		}
	}
	if m.staking.BondedStakeOf(ctx, sender) == 0 {
		return fmt.Errorf("%w: %s", ErrNoStake, sender)
	}
	var keep []GaugeWeight
	parts := make([]string, 0, len(ws))
	for _, w := range ws {
		if w.Weight > 0 {
			keep = append(keep, GaugeWeight{Module: w.Module, Weight: w.Weight})
			parts = append(parts, fmt.Sprintf("%s:%d", w.Module, w.Weight))
		}
	}
	ctx.SetObj(voteKey(sender), vote{Weights: keep})
	ctx.Emit("gauge_vote", "voter", sender.String(), "weights", strings.Join(parts, ","))
	return nil
}

// Vote returns voter's stored gauge vote (nil when none).
func (*Module) Vote(ctx *ledger.Context, voter keys.Address) []GaugeWeight {
	var v vote
	ctx.GetObj(voteKey(voter), &v)
	return v.Weights
}

// ModuleWeight is a module's gauge weight: the stake directed to it.
type ModuleWeight struct {
	Module string `json:"module"`
	Weight uint64 `json:"weight"`
	// SharePPM is Weight over the total weight (rounded down): the part
	// of the gauge emission the module would get now.
	SharePPM ledger.PPM `json:"share_ppm"`
}

// VoterSplit is one voter's vote and what it counts for now.
type VoterSplit struct {
	Voter   keys.Address   `json:"voter"`
	Stake   uint64         `json:"stake"`   // BondedStakeOf now
	Weights []GaugeWeight  `json:"weights"` // as voted
	Counted []ModuleWeight `json:"counted"` // weight given to each live module; SharePPM of the voter's stake
}

// GaugeReport is the gauge as it stands: what the next epoch would use.
type GaugeReport struct {
	TotalWeight uint64         `json:"total_weight"`
	Modules     []ModuleWeight `json:"modules"` // every live module, in name order
	Voters      []VoterSplit   `json:"voters"`  // in address order
}

// Gauge computes the current gauge weights of the live modules from the
// stored votes and the voters' bonded stake now. Read-only.
func (m *Module) Gauge(ctx *ledger.Context) GaugeReport {
	live := m.LiveModules(ctx)
	idx := make(map[string]int, len(live))
	rep := GaugeReport{Modules: make([]ModuleWeight, len(live))}
	for i, name := range live {
		idx[name] = i
		rep.Modules[i].Module = name
	}
	type stored struct {
		voter keys.Address
		v     vote
	}
	var votes []stored
	ctx.Iterate([]byte(votePrefix), func(k, raw []byte) bool {
		var s stored
		copy(s.voter[:], k[len(votePrefix):])
		if err := ledger.DecodeStored(raw, &s.v); err != nil {
			panic(fmt.Sprintf("emission: corrupt vote record: %v", err))
		}
		votes = append(votes, s)
		return true
	})
	for _, s := range votes {
		vs := VoterSplit{Voter: s.voter, Stake: m.staking.BondedStakeOf(ctx, s.voter), Weights: s.v.Weights}
		var sum uint64
		for _, w := range s.v.Weights {
			if _, ok := idx[w.Module]; ok {
				sum += uint64(w.Weight)
			}
		}
		for _, w := range s.v.Weights {
			i, ok := idx[w.Module]
			if !ok || sum == 0 {
				continue // retired module: ignored
			}
			c, err := ledger.MulDiv(vs.Stake, uint64(w.Weight), sum)
			if err != nil {
				panic(err) // w <= sum
			}
			share, _ := ledger.MulDiv(uint64(ledger.PPMOne), uint64(w.Weight), sum)
			vs.Counted = append(vs.Counted, ModuleWeight{Module: w.Module, Weight: c, SharePPM: ledger.PPM(share)})
			rep.Modules[i].Weight = ledger.MustAdd(rep.Modules[i].Weight, c) // bounded by bonded stake
			rep.TotalWeight = ledger.MustAdd(rep.TotalWeight, c)
		}
		rep.Voters = append(rep.Voters, vs)
	}
	if rep.TotalWeight > 0 {
		for i := range rep.Modules {
			s, _ := ledger.MulDiv(rep.Modules[i].Weight, uint64(ledger.PPMOne), rep.TotalWeight)
			rep.Modules[i].SharePPM = ledger.PPM(s)
		}
	}
	return rep
}
