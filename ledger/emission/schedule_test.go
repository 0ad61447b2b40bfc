package emission

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/inferd/inferd/ledger"
)

func TestBlockRewardSchedule(t *testing.T) {
	p := DefaultParams()
	const I = 5_256_000
	cases := []struct {
		height uint64
		want   uint64
	}{
		{0, 0},
		{1, 10_000_000},
		{I, 10_000_000},
		{I + 1, 7_500_000},
		{2 * I, 7_500_000},
		{2*I + 1, 5_625_000},
		{3*I + 1, 4_218_750},
		{4*I + 1, 3_164_062}, // 3_164_062.5 rounded down
		{5*I + 1, 2_373_046}, // 3_164_062 * 0.75 = 2_373_046.5
		{^uint64(0), 0},      // long after the reward reached zero
	}
	for _, c := range cases {
		if got := BlockReward(p, c.height); got != c.want {
			t.Errorf("BlockReward(%d) = %d, want %d", c.height, got, c.want)
		}
	}
	// The reward reaches zero and stays there.
	var k uint64
	for rewardAt(p, k) > 0 {
		k++
	}
	if k == 0 || rewardAt(p, k+1) != 0 || BlockReward(p, k*I+1) != 0 || BlockReward(p, k*I) == 0 {
		t.Fatalf("reward reaches zero at interval %d: inconsistent", k)
	}

	constant := p
	constant.ReductionPPM = ledger.PPMOne
	if got := BlockReward(constant, ^uint64(0)); got != 10_000_000 {
		t.Fatalf("constant schedule: %d", got)
	}
	halving := Params{InitialBlockReward: 50, ReductionIntervalBlocks: 10, ReductionPPM: 500_000}
	for h, want := range map[uint64]uint64{1: 50, 10: 50, 11: 25, 21: 12, 31: 6, 41: 3, 51: 1, 61: 0} {
		if got := BlockReward(halving, h); got != want {
			t.Errorf("halving BlockReward(%d) = %d, want %d", h, got, want)
		}
	}
}

func TestSchedule(t *testing.T) {
	p := DefaultParams()
	const I = 5_256_000
	got := Schedule(p, I+5, 3)
	want := []ScheduleEntry{
		{Interval: 1, StartHeight: I + 1, EndHeight: 2 * I, RewardPerBlock: 7_500_000, Total: 7_500_000 * I},
		{Interval: 2, StartHeight: 2*I + 1, EndHeight: 3 * I, RewardPerBlock: 5_625_000, Total: 5_625_000 * I},
		{Interval: 3, StartHeight: 3*I + 1, EndHeight: 4 * I, RewardPerBlock: 4_218_750, Total: 4_218_750 * I},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries", len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// Stops after the first zero interval; the totals add up to all
	// emission ever scheduled.
	all := Schedule(p, 0, MaxScheduleIntervals)
	if last := all[len(all)-1]; last.RewardPerBlock != 0 || len(all) >= MaxScheduleIntervals {
		t.Fatalf("schedule does not end at zero: %d entries, last %+v", len(all), last)
	}
	for _, e := range all {
		if BlockReward(p, e.StartHeight) != e.RewardPerBlock || BlockReward(p, e.EndHeight) != e.RewardPerBlock {
			t.Fatalf("entry %+v disagrees with BlockReward", e)
		}
	}
	if Schedule(p, 1, 0) != nil {
		t.Fatal("n=0 gives entries")
	}
}

func TestParamsValidation(t *testing.T) {
	cases := []struct {
		params string
		field  string
	}{
		{`{"validator_share_ppm":1000001}`, "params.emission.validator_share_ppm"},
		{`{"compute_floor_ppm":2000000}`, "params.emission.compute_floor_ppm"},
		{`{"reduction_ppm":1000001}`, "params.emission.reduction_ppm"},
		{`{"reduction_ppm":999999}`, "params.emission.reduction_ppm"}, // too slow to reach zero
		{`{"reduction_interval_blocks":0}`, "params.emission.reduction_interval_blocks"},
		{`{"epoch_length_blocks":0}`, "params.emission.epoch_length_blocks"},
		{`{"live_modules":["x"]}`, "params.emission.live_modules"},
		{`{"live_modules":["compute","compute"]}`, "params.emission.live_modules[1]"},
		{`{"live_modules":["compute","Bad/Name"]}`, "params.emission.live_modules[1]"},
		{`{"no_such_field":1}`, "params.emission"},
	}
	for _, c := range cases {
		n, g := buildNet(t, c.params, []valSpec{{1_000_000, 0}}, 0)
		var ge *ledger.GenesisError
		if _, err := n.st.InitGenesis(g); !errors.As(err, &ge) || ge.Field != c.field {
			t.Errorf("%s: got %v, want a genesis error on %s", c.params, err, c.field)
		}
	}
	// A constant reward and a fast decay are fine.
	for _, ok := range []string{`{"reduction_ppm":1000000}`, `{"reduction_ppm":0}`, `{"max_supply":1}`} {
		n, g := buildNet(t, ok, []valSpec{{1_000_000, 0}}, 0)
		if _, err := n.st.InitGenesis(g); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestParamsJSONAndSetParam(t *testing.T) {
	n := newNet(t, `{"initial_block_reward":1000000,"epoch_length_blocks":10}`, []valSpec{{1_000_000, 0}}, 0)
	n.hook.at[1] = func(ctx *ledger.Context) error {
		if err := n.em.SetParam(ctx, "validator_share_ppm", json.RawMessage(`1000001`)); !errors.Is(err, ledger.ErrInvalidMsg) {
			t.Errorf("validator_share_ppm 1000001: %v", err)
		}
		if err := n.em.SetParam(ctx, "live_modules", json.RawMessage(`["x"]`)); !errors.Is(err, ledger.ErrInvalidMsg) {
			t.Errorf("live_modules without compute: %v", err)
		}
		if err := n.em.SetParam(ctx, "epoch_length_blocks", json.RawMessage(`5`)); err != nil {
			t.Error(err)
		}
		if err := n.em.SetParam(ctx, "live_modules", json.RawMessage(`["x","compute"]`)); err != nil {
			t.Error(err)
		}
		return nil
	}
	n.block()
	n.query(func(ctx *ledger.Context) {
		var p Params
		if err := json.Unmarshal(n.em.ParamsJSON(ctx), &p); err != nil {
			t.Fatal(err)
		}
		if p.EpochLengthBlocks != 5 || p.ValidatorSharePPM != 200_000 || len(p.LiveModules) != 2 || p.LiveModules[0] != "compute" || p.LiveModules[1] != "x" {
			t.Fatalf("params after SetParam: %+v", p)
		}
	})
	n.blocksTo(5)
	if r := n.lastEpoch(); r.Height != 5 || r.Pending != 5_000_000 {
		t.Fatalf("epoch with the new length: %+v", r)
	}
}
