package emission

import (
	"errors"
	"fmt"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Three validators: A 5 INF at 10% commission, B 3 INF at 5%, C 1 INF at 3%.
var threeVals = []valSpec{{5_000_000, 100_000}, {3_000_000, 50_000}, {1_000_000, 30_000}}

const epochParams = `{"initial_block_reward":1000000,"epoch_length_blocks":10%s}`

// TestEpochSplitValidators checks an epoch's division to the uinf, with a
// delegator D holding 2/3 of C's shares.
func TestEpochSplitValidators(t *testing.T) {
	n := newNet(t, fmt.Sprintf(epochParams, ""), threeVals, 1)
	opA, opB, opC, d := n.vals[0].addr, n.vals[1].addr, n.vals[2].addr, n.accts[0]
	mustOK(t, n.block(n.tx(d, delegate(opC, 2_000_000))))
	n.blocksTo(9)
	if got := n.pending(); got != 9_000_000 {
		t.Fatalf("pending at 9: %d", got)
	}
	before := map[keys.Address]uint64{}
	for _, a := range []keys.Address{opA, opB, opC, d.addr} {
		before[a] = n.balance(a)
	}
	minted := n.supply().Minted
	res := n.block() // height 10: the epoch

	// P = 10_000_000; validators 2_000_000 by tokens 5:3:3 (of 11 INF):
	// A 909_090, B 545_454, C 545_454, remainder 2 carried.
	// A: commission 90_909, rest 818_181 to its only delegator, itself.
	// B: commission 27_272, rest 518_182 to itself.
	// C: commission 16_363, rest 529_091: opC 176_363, D 352_727,
	//    remainder 1 to opC, so opC gets 16_363+176_363+1 = 192_727.
	// Modules 8_000_000: compute floor 1_600_000; 6_400_000 to the gauge,
	// which has no votes, so carried: pending = 6_400_002.
	want := map[keys.Address]uint64{opA: 909_090, opB: 545_454, opC: 192_727, d.addr: 352_727}
	for a, w := range want {
		if got := n.balance(a) - before[a]; got != w {
			t.Errorf("%s received %d, want %d", a, got, w)
		}
	}
	if got := n.pool(ComputeModule); got != 1_600_000 {
		t.Errorf("compute pool %d, want 1_600_000", got)
	}
	if got := n.pending(); got != 6_400_002 {
		t.Errorf("pending %d, want 6_400_002", got)
	}
	if got := n.supply().Minted - minted; got != 1_999_998+1_600_000 {
		t.Errorf("minted grew by %d, want %d", got, 1_999_998+1_600_000)
	}
	r := n.lastEpoch()
	if r.Height != 10 || r.Pending != 10_000_000 || r.ToValidators != 1_999_998 || r.ComputeFloor != 1_600_000 ||
		r.ToPools != 1_600_000 || r.Carried != 6_400_002 || len(r.Pools) != 0 || len(r.Validators) != 3 {
		t.Fatalf("report %+v", r)
	}
	for _, v := range r.Validators {
		if v.Operator == opC && (v.Amount != 545_454 || v.Commission != 16_363 || v.Delegators != 529_090 || v.Remainder != 1) {
			t.Errorf("C payout %+v", v)
		}
		if v.Operator == opA && (v.Amount != 909_090 || v.Commission != 90_909 || v.Delegators != 818_181 || v.Remainder != 0) {
			t.Errorf("A payout %+v", v)
		}
	}
	var ev *ledger.Event
	for i := range res.Events {
		if res.Events[i].Type == "emission_epoch" {
			ev = &res.Events[i]
		}
	}
	if ev == nil || ev.Attrs["pending"] != "10000000" || ev.Attrs["validators"] != "1999998" || ev.Attrs["carried"] != "6400002" {
		t.Fatalf("event %+v", ev)
	}

	// Second epoch: P = 6_400_002 + 10_000_000 = 16_400_002. Validators
	// 3_280_000 -> 1_490_909 + 894_545 + 894_545, remainder 1. Modules
	// 13_120_002: floor 2_624_000, gauge 10_496_002 carried.
	n.blocksTo(20)
	if got := n.pending(); got != 10_496_003 {
		t.Errorf("pending after epoch 2: %d, want 10_496_003", got)
	}
	if got := n.pool(ComputeModule); got != 1_600_000+2_624_000 {
		t.Errorf("compute pool %d", got)
	}
}

// TestGaugeSplitsPools: votes split the gauge part in proportion to the
// voters' stake; a module without weight gets nothing; a retired module's
// votes are ignored and the voter's stake goes to their other choices.
func TestGaugeSplitsPools(t *testing.T) {
	n := newNet(t, fmt.Sprintf(epochParams, `,"live_modules":["compute","x","y","z"]`), threeVals, 0)
	a, b := n.vals[0], n.vals[1]
	mustOK(t, n.block(
		n.tx(a, setGauge(gw("compute", 1), gw("x", 3))),
		n.tx(b, setGauge(gw("x", 1), gw("y", 1), gw("z", 0))),
	))
	// A's 5_000_000: compute 1_250_000, x 3_750_000. B's 3_000_000:
	// x 1_500_000, y 1_500_000.
	n.query(func(ctx *ledger.Context) {
		g := n.em.Gauge(ctx)
		want := []ModuleWeight{{"compute", 1_250_000, 156_250}, {"x", 5_250_000, 656_250}, {"y", 1_500_000, 187_500}, {"z", 0, 0}}
		if g.TotalWeight != 8_000_000 || len(g.Modules) != 4 || len(g.Voters) != 2 {
			t.Fatalf("gauge %+v", g)
		}
		for i, w := range want {
			if g.Modules[i] != w {
				t.Errorf("module %d: %+v, want %+v", i, g.Modules[i], w)
			}
		}
		for _, v := range g.Voters {
			if v.Voter == b.addr && (v.Stake != 3_000_000 || len(v.Weights) != 2 || len(v.Counted) != 2 || v.Counted[0].Weight != 1_500_000 || v.Counted[0].SharePPM != 500_000) {
				t.Errorf("B's split %+v", v)
			}
		}
	})
	n.blocksTo(10)
	// Modules 8_000_000: floor 1_600_000 to compute; 6_400_000 by weight
	// 1.25 : 5.25 : 1.5 : 0 of 8 -> compute 1_000_000, x 4_200_000,
	// y 1_200_000, z nothing. Validators: 2_000_000 by 5:3:1, remainder 1.
	for m, w := range map[string]uint64{"compute": 2_600_000, "x": 4_200_000, "y": 1_200_000, "z": 0} {
		if got := n.pool(m); got != w {
			t.Errorf("pool %s = %d, want %d", m, got, w)
		}
	}
	if got := n.pending(); got != 1 {
		t.Errorf("pending %d, want 1", got)
	}
	if r := n.lastEpoch(); len(r.Pools) != 3 || r.GaugeWeight != 8_000_000 || r.ToPools != 8_000_000 || r.Carried != 1 {
		t.Errorf("report %+v", r)
	}

	// Retire y at 11: B's stake goes all to x.
	n.hook.at[11] = func(ctx *ledger.Context) error { return n.em.RemoveLiveModule(ctx, "y") }
	n.hook.at[12] = func(ctx *ledger.Context) error {
		if err := n.em.RemoveLiveModule(ctx, "y"); !errors.Is(err, ErrUnknownModule) {
			t.Errorf("removing y twice: %v", err)
		}
		if err := n.em.RemoveLiveModule(ctx, ComputeModule); !errors.Is(err, ErrComputeForever) {
			t.Errorf("removing compute: %v", err)
		}
		return nil
	}
	n.blocksTo(20)
	// P = 10_000_001: validators 2_000_000 (remainder 1); modules
	// 8_000_001: floor 1_600_000; 6_400_001 by 1.25 : 6.75 of 8 ->
	// compute 1_000_000, x 5_400_000, remainder 1. Pending 2.
	for m, w := range map[string]uint64{"compute": 5_200_000, "x": 9_600_000, "y": 1_200_000} {
		if got := n.pool(m); got != w {
			t.Errorf("after retiring y: pool %s = %d, want %d", m, got, w)
		}
	}
	if got := n.pending(); got != 2 {
		t.Errorf("pending %d, want 2", got)
	}
	n.query(func(ctx *ledger.Context) {
		if got := n.em.Vote(ctx, b.addr); len(got) != 2 {
			t.Errorf("B's stored vote %v", got)
		}
		if n.em.IsLive(ctx, "y") || !n.em.IsLive(ctx, "x") {
			t.Error("live set wrong after retiring y")
		}
	})
}
