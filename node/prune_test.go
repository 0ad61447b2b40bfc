package node

import (
	"strings"
	"testing"
)

func TestPruningConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  PruningConfig
		want Policy
		err  string
	}{
		{cfg: PruningConfig{Strategy: "default"}, want: Policy{KeepRecent: 100_000, Interval: 100}},
		{cfg: PruningConfig{Strategy: "nothing"}, want: Policy{}},
		{cfg: PruningConfig{Strategy: "everything"}, want: Policy{KeepRecent: 2, Interval: 10}},
		{cfg: PruningConfig{Strategy: "custom", KeepRecent: 100, KeepEvery: 500, Interval: 10}, want: Policy{100, 500, 10}},
		{cfg: PruningConfig{Strategy: "custom", KeepRecent: 1, Interval: 10}, err: "keep_recent is 1"},
		{cfg: PruningConfig{Strategy: "custom", KeepRecent: 10}, err: "interval must be at least 1"},
		{cfg: PruningConfig{Strategy: "default", KeepRecent: 10}, err: "only with strategy = \"custom\""},
		{cfg: PruningConfig{Strategy: "some"}, err: "want default, nothing, everything or custom"},
	} {
		err := tc.cfg.Validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.err)
			}
			continue
		}
		got, err := tc.cfg.Resolve()
		if err != nil || got != tc.want {
			t.Errorf("%+v: %+v %v, want %+v", tc.cfg, got, err, tc.want)
		}
	}
}

func TestPruneTo(t *testing.T) {
	p := Policy{KeepRecent: 100, Interval: 10}
	if _, due := p.pruneTo(95, 0); due {
		t.Error("pruned before keep_recent heights exist")
	}
	if _, due := p.pruneTo(205, 0); due {
		t.Error("pruned off the interval")
	}
	if o, due := p.pruneTo(200, 0); !due || o != 101 {
		t.Errorf("pruneTo(200) = %d %v, want 101", o, due)
	}
	if o, _ := p.pruneTo(200, 50); o != 50 {
		t.Errorf("a snapshot reading height 50 was not kept: %d", o)
	}
	if _, due := (Policy{}).pruneTo(200, 0); due {
		t.Error("strategy nothing pruned")
	}
}

func TestStateSyncConfig(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		cfg StateSyncConfig
		err string
	}{
		{cfg: StateSyncConfig{Enable: true}},
		{cfg: StateSyncConfig{Enable: true, TrustHeight: 101, TrustHash: hash}},
		{cfg: StateSyncConfig{SnapshotInterval: 50, SnapshotKeepRecent: 2}},
		{cfg: StateSyncConfig{TrustHeight: 101}, err: "go together"},
		{cfg: StateSyncConfig{TrustHeight: 101, TrustHash: "xyz"}, err: "64 hex digits"},
		{cfg: StateSyncConfig{TrustHeight: 1, TrustHash: hash}, err: "at least 2"},
		{cfg: StateSyncConfig{SnapshotInterval: 50}, err: "snapshot_keep_recent"},
	} {
		err := tc.cfg.Validate()
		if (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.err)
		}
	}
}
