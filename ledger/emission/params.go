package emission

import (
	"fmt"
	"regexp"

	"github.com/inferd/inferd/ledger"
)

// ComputeModule is the compute contest, live from genesis and never
// retired; it always receives the compute floor.
const ComputeModule = "compute"

// MaxReductions bounds the schedule: with reduction_ppm below 100% the
// reward must reach zero within this many reductions, so that BlockReward
// is a short loop.
const MaxReductions = 100_000

// MaxEpochLength bounds epoch_length_blocks.
const MaxEpochLength = 10_000_000

// MaxScheduleIntervals bounds the n of Schedule.
const MaxScheduleIntervals = 1000

// Params of the emission module. LiveModules is the initial set of live
// modules at genesis; afterwards it reads back the current set.
type Params struct {
	InitialBlockReward      uint64     `json:"initial_block_reward"`
	ReductionIntervalBlocks uint64     `json:"reduction_interval_blocks"`
	ReductionPPM            ledger.PPM `json:"reduction_ppm"`
	MaxSupply               uint64     `json:"max_supply"` // 0: no cap
	EpochLengthBlocks       uint64     `json:"epoch_length_blocks"`
	ValidatorSharePPM       ledger.PPM `json:"validator_share_ppm"`
	ComputeFloorPPM         ledger.PPM `json:"compute_floor_ppm"`
	LiveModules             []string   `json:"live_modules"`
}

// DefaultParams are used when genesis has no emission section.
func DefaultParams() Params {
	return Params{
		InitialBlockReward:      10 * ledger.UinfPerINF,
		ReductionIntervalBlocks: 5_256_000, // about a year of 6 s blocks
		ReductionPPM:            750_000,
		MaxSupply:               0,
		EpochLengthBlocks:       100,
		ValidatorSharePPM:       200_000,
		ComputeFloorPPM:         200_000,
		LiveModules:             []string{ComputeModule},
	}
}

var moduleNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,47}$`)

// ValidModuleName reports whether name can be a live module (and a bank
// pool name): 1-48 lower-case letters, digits, '_', '.', '-'.
func ValidModuleName(name string) bool { return moduleNameRe.MatchString(name) }

// ParamError names the parameter that is wrong (its JSON name).
type ParamError = ledger.ParamError

var perr = ledger.ParamErr

// Validate checks a parameter set.
func (p Params) Validate() error {
	switch {
	case p.ReductionIntervalBlocks == 0:
		return perr("reduction_interval_blocks", "must be at least 1")
	case !p.ReductionPPM.Valid():
		return perr("reduction_ppm", "%d is above 1000000 (100%%)", p.ReductionPPM)
	case p.EpochLengthBlocks == 0 || p.EpochLengthBlocks > MaxEpochLength:
		return perr("epoch_length_blocks", "%d must be 1..%d", p.EpochLengthBlocks, MaxEpochLength)
	case !p.ValidatorSharePPM.Valid():
		return perr("validator_share_ppm", "%d is above 1000000 (100%%)", p.ValidatorSharePPM)
	case !p.ComputeFloorPPM.Valid():
		return perr("compute_floor_ppm", "%d is above 1000000 (100%%)", p.ComputeFloorPPM)
	}
	if p.ReductionPPM < ledger.PPMOne {
		r, n := p.InitialBlockReward, 0
		for r > 0 && n <= MaxReductions {
			r = p.ReductionPPM.Of(r)
			n++
		}
		if r > 0 {
			return perr("reduction_ppm", "%d with initial_block_reward %d needs more than %d reductions to reach zero; reduce faster or use 1000000 for a constant reward", p.ReductionPPM, p.InitialBlockReward, MaxReductions)
		}
	}
	seen := map[string]bool{}
	for i, m := range p.LiveModules {
		if !ValidModuleName(m) {
			return perr(fmt.Sprintf("live_modules[%d]", i), "%q must be 1-48 characters of a-z, 0-9, '_', '.', '-'", m)
		}
		if seen[m] {
			return perr(fmt.Sprintf("live_modules[%d]", i), "%q is listed twice", m)
		}
		seen[m] = true
	}
	if !seen[ComputeModule] {
		return perr("live_modules", "must include %q (the compute contest exists from genesis)", ComputeModule)
	}
	return nil
}

// intervalOf is the reduction interval of height (>= 1): blocks 1..I are
// interval 0.
func intervalOf(p Params, height uint64) uint64 { return (height - 1) / p.ReductionIntervalBlocks }

// rewardAt returns the per-block reward of interval k.
func rewardAt(p Params, k uint64) uint64 {
	r := p.InitialBlockReward
	if p.ReductionPPM == ledger.PPMOne {
		return r
	}
	for i := uint64(0); i < k && r > 0; i++ {
		r = p.ReductionPPM.Of(r)
	}
	return r
}

// BlockReward is the scheduled reward of the block at height, before the
// max_supply cap (which depends on what has been minted). Height 0 earns
// nothing. p must be valid (ReductionIntervalBlocks > 0).
func BlockReward(p Params, height uint64) uint64 {
	if height == 0 {
		return 0
	}
	return rewardAt(p, intervalOf(p, height))
}

// ScheduleEntry is one reduction interval of the schedule.
type ScheduleEntry struct {
	Interval       uint64 `json:"interval"`
	StartHeight    uint64 `json:"start_height"`
	EndHeight      uint64 `json:"end_height"`
	RewardPerBlock uint64 `json:"reward_per_block"`
	// Total is RewardPerBlock times the interval's blocks, saturating at
	// the largest uint64. It ignores max_supply.
	Total uint64 `json:"total"`
}

// Schedule lists n reduction intervals (at most MaxScheduleIntervals)
// starting with the one that contains fromHeight (height 0 counts as 1).
// It stops early after the first interval whose reward is zero.
func Schedule(p Params, fromHeight uint64, n int) []ScheduleEntry {
	if p.ReductionIntervalBlocks == 0 || n <= 0 {
		return nil
	}
	if fromHeight == 0 {
		fromHeight = 1
	}
	n = min(n, MaxScheduleIntervals)
	k := intervalOf(p, fromHeight)
	r := rewardAt(p, k)
	out := make([]ScheduleEntry, 0, n)
	for i := 0; i < n; i++ {
		e := ScheduleEntry{Interval: k, RewardPerBlock: r}
		e.StartHeight = satMul(k, p.ReductionIntervalBlocks)
		if e.StartHeight < ^uint64(0) {
			e.StartHeight++
		}
		e.EndHeight = satMul(k+1, p.ReductionIntervalBlocks)
		e.Total = satMul(r, p.ReductionIntervalBlocks)
		out = append(out, e)
		if r == 0 || e.EndHeight == ^uint64(0) {
			break
		}
		k++
		if p.ReductionPPM != ledger.PPMOne {
			r = p.ReductionPPM.Of(r)
		}
	}
	return out
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > ^uint64(0)/a {
		return ^uint64(0)
	}
	return a * b
}
