package sim

import (
	"testing"

	"github.com/inferd/inferd/consensus"
)

func TestDebugSeed(t *testing.T) {
	if *flagDebug == 0 {
		t.Skip()
	}
	p := DefaultParams()
	p.Heights = *flagHeights
	n := 0
	debugHook = func(s *sim, e event) {
		if e.kind == evDeliver && e.node == 1 && s.now > 20e9 && n < 60 {
			if e.pkt.msg != nil {
				n++
				t.Logf("%v deliver %d->%d %s", s.now, e.from, e.node, consensus.MessageString(e.pkt.msg))
			}
			for _, v := range e.pkt.cert {
				n++
				t.Logf("%v deliver(relay) %d->%d %s", s.now, e.from, e.node, consensus.MessageString(v))
			}
		}
	}
	r := Run(*flagDebug, p)
	t.Log(r.Violations)
}
