package sim

import (
	"testing"
)

func TestDebugSeed(t *testing.T) {
	if *flagDebug == 0 {
		t.Skip()
	}
	p := DefaultParams()
	p.Heights = *flagHeights
	debugHook = func(s *sim, e event) {
		if e.kind == evDeliver && e.pkt.msg != nil && s.now < 3e9 {
			t.Logf("%v deliver %d->%d %s", s.now, e.from, e.node, e.pkt.msg)
		}
	}
	r := Run(*flagDebug, p)
	t.Log(r.Violations)
}
