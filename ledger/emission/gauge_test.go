package emission

import (
	"fmt"
	"testing"

	"github.com/inferd/inferd/ledger"
)

// TestSetGaugeRejections: each rejection has its sentinel and changes
// nothing but the fee and the nonce.
func TestSetGaugeRejections(t *testing.T) {
	n := newNet(t, fmt.Sprintf(epochParams, `,"live_modules":["compute","x"]`), threeVals, 1)
	op, nobody := n.vals[0], n.accts[0]
	n.block()
	n.expectReject(op, setGauge(gw("nope", 1)), ErrUnknownModule)
	n.expectReject(op, setGauge(gw("x", 1), gw("w", 1)), ErrUnknownModule) // w not live yet
	n.expectReject(nobody, setGauge(gw("compute", 1)), ErrNoStake)
	n.expectReject(op, setGauge(gw("x", 1), gw("x", 2)), ErrInvalidWeights)
	n.expectReject(op, setGauge(gw("x", 0), gw("compute", 0)), ErrInvalidWeights)
	many := make([]GaugeWeight, MaxGaugeEntries+1)
	for i := range many {
		many[i] = gw(fmt.Sprintf("m%d", i), 1)
	}
	n.expectReject(op, setGauge(many...), ErrInvalidWeights)
	n.expectReject(op, ledger.NewMsg(MsgTypeSetGauge, 7), ledger.ErrInvalidMsg)

	// Withdrawing needs no stake; a valid vote then a withdrawal.
	mustOK(t, n.block(n.tx(nobody, setGauge())))
	mustOK(t, n.block(n.tx(op, setGauge(gw("x", 2)))))
	n.query(func(ctx *ledger.Context) {
		if g := n.em.Gauge(ctx); g.TotalWeight != 5_000_000 || g.Modules[1].Weight != 5_000_000 {
			t.Fatalf("gauge after vote %+v", g)
		}
	})
	mustOK(t, n.block(n.tx(op, setGauge())))
	n.query(func(ctx *ledger.Context) {
		if g := n.em.Gauge(ctx); g.TotalWeight != 0 || len(g.Voters) != 0 {
			t.Fatalf("gauge after withdrawal %+v", g)
		}
	})

	// A module added by the contest module can be voted for at once.
	n.hook.at[n.height+1] = func(ctx *ledger.Context) error { return n.em.AddLiveModule(ctx, "w") }
	mustOK(t, n.block(n.tx(op, setGauge(gw("x", 1), gw("w", 1)))))
	n.hook.at[n.height+1] = func(ctx *ledger.Context) error {
		if err := n.em.AddLiveModule(ctx, "Bad/Name"); err == nil {
			t.Error("AddLiveModule accepted a bad name")
		}
		return n.em.AddLiveModule(ctx, "w") // again: no-op
	}
	n.block()
	n.query(func(ctx *ledger.Context) {
		if got := n.em.LiveModules(ctx); fmt.Sprint(got) != "[compute w x]" {
			t.Fatalf("live modules %v", got)
		}
	})
}

// TestGaugeVotesFollowStake: a delegator's vote carries their current
// bonded stake, and votes of several voters add up.
func TestGaugeVotesFollowStake(t *testing.T) {
	n := newNet(t, fmt.Sprintf(epochParams, `,"live_modules":["compute","x","y"]`), threeVals, 1)
	d := n.accts[0]
	mustOK(t, n.block(n.tx(d, delegate(n.vals[2].addr, 1_000_000))))
	mustOK(t, n.block(n.tx(d, setGauge(gw("y", 7))), n.tx(n.vals[2], setGauge(gw("x", 1), gw("y", 1)))))
	n.query(func(ctx *ledger.Context) {
		g := n.em.Gauge(ctx)
		// d: 1_000_000 to y; C's operator: 500_000 to x and to y.
		if g.TotalWeight != 2_000_000 || g.Modules[1].Weight != 500_000 || g.Modules[2].Weight != 1_500_000 {
			t.Fatalf("gauge %+v", g)
		}
	})
	mustOK(t, n.block(n.tx(d, delegate(n.vals[2].addr, 2_000_000))))
	n.blocksTo(10)
	// d now 3_000_000 to y, C's operator 500_000 + 500_000: weights
	// x 500_000, y 3_500_000 of 4_000_000. P = 10_000_000, modules
	// 8_000_000, floor 1_600_000, gauge 6_400_000: x 800_000,
	// y 5_600_000.
	if got := n.pool("x"); got != 800_000 {
		t.Errorf("x pool %d", got)
	}
	if got := n.pool("y"); got != 5_600_000 {
		t.Errorf("y pool %d", got)
	}
}

// TestComputeFloor: the compute pool gets its floor whatever the gauge
// says, and all of the module part with a 100% floor.
func TestComputeFloor(t *testing.T) {
	for _, c := range []struct {
		floor            ledger.PPM
		compute, x, left uint64
	}{
		// modules 8_000_000; the votes all go to x.
		{1_000_000, 8_000_000, 0, 0},
		{500_000, 4_000_000, 4_000_000, 0},
		{0, 0, 8_000_000, 0},
	} {
		params := fmt.Sprintf(epochParams, fmt.Sprintf(`,"compute_floor_ppm":%d,"live_modules":["compute","x"]`, c.floor))
		n := newNet(t, params, []valSpec{{1_000_000, 0}}, 0)
		mustOK(t, n.block(n.tx(n.vals[0], setGauge(gw("x", 1)))))
		n.blocksTo(10)
		if n.pool(ComputeModule) != c.compute || n.pool("x") != c.x || n.pending() != c.left {
			t.Errorf("floor %d: compute %d, x %d, pending %d; want %d, %d, %d", c.floor, n.pool(ComputeModule), n.pool("x"), n.pending(), c.compute, c.x, c.left)
		}
	}
}

// TestNoWeightCarriesOver: with no vote the gauge part stays pending (not
// minted) and is paid at the first epoch that has weight.
func TestNoWeightCarriesOver(t *testing.T) {
	n := newNet(t, fmt.Sprintf(epochParams, `,"live_modules":["compute","x"]`), []valSpec{{1_000_000, 0}}, 0)
	n.blocksTo(10)
	if n.pool("x") != 0 || n.pending() != 6_400_000 {
		t.Fatalf("epoch 1: x %d pending %d", n.pool("x"), n.pending())
	}
	mustOK(t, n.block(n.tx(n.vals[0], setGauge(gw("x", 1)))))
	n.blocksTo(20)
	// P = 16_400_000: validators 3_280_000, modules 13_120_000, floor
	// 2_624_000, x 10_496_000.
	if n.pool("x") != 10_496_000 || n.pool(ComputeModule) != 1_600_000+2_624_000 || n.pending() != 0 {
		t.Fatalf("epoch 2: x %d compute %d pending %d", n.pool("x"), n.pool(ComputeModule), n.pending())
	}
}

// TestMaxSupply: emission stops when minted plus pending reaches the cap;
// burned fees do not make room.
func TestMaxSupply(t *testing.T) {
	// Genesis mints 100 INF (the operator's balance) + 1 INF self-bond.
	const genesis = acctBalance + 1_000_000
	const cap = genesis + 25_500_000
	n := newNet(t, fmt.Sprintf(epochParams, fmt.Sprintf(`,"max_supply":%d`, cap)), []valSpec{{1_000_000, 0}}, 0)
	mustOK(t, n.block(n.tx(n.vals[0], setGauge(gw("compute", 1)))))
	for n.height < 40 {
		n.block()
		s := n.supply()
		want := min(uint64(cap), genesis+n.height*1_000_000)
		if got := s.Minted + n.pending(); got != want {
			t.Fatalf("height %d: minted %d + pending %d = %d, want %d", n.height, s.Minted, n.pending(), got, want)
		}
	}
	if s := n.supply(); s.Minted != cap || n.pending() != 0 || s.Burned != testFee {
		t.Fatalf("at 40: %+v, pending %d", s, n.pending())
	}
}
