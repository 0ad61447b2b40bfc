package sim

import (
	"flag"
	"testing"

	"github.com/inferd/inferd/consensus"
)

var (
	flagDebug      = flag.Uint64("debug", 0, "TestDebugSeed: trace the run of this seed")
	flagDebugLimit = flag.Int("debug-limit", 2000, "TestDebugSeed: at most this many trace lines")
)

// TestDebugSeed traces one run (every delivered message, relayed vote and
// fired timeout) to help read a failing seed:
//
//	go test -run TestDebugSeed ./consensus/sim/ -debug 4242 -v
func TestDebugSeed(t *testing.T) {
	if *flagDebug == 0 {
		t.Skip("no -debug seed given")
	}
	p := DefaultParams()
	p.Heights = *flagHeights
	lines := 0
	logf := func(format string, args ...any) {
		if lines < *flagDebugLimit {
			lines++
			t.Logf(format, args...)
		}
	}
	debugHook = func(s *sim, e event) {
		switch {
		case e.kind == evDeliver && e.pkt.msg != nil:
			logf("%v %d->%d %s", s.now, e.from, e.node, consensus.MessageString(e.pkt.msg))
		case e.kind == evDeliver && e.pkt.status > 0:
		case e.kind == evDeliver:
			for _, v := range e.pkt.cert {
				logf("%v %d->%d relayed %s", s.now, e.from, e.node, consensus.MessageString(v))
			}
		case e.kind == evTimeout:
			logf("%v timeout at %d: %d/%d/%s", s.now, e.node, e.timeout.Height, e.timeout.Round, e.timeout.Step)
		case e.kind == evCrash:
			logf("%v crash %d", s.now, e.node)
		case e.kind == evRestart:
			logf("%v restart %d", s.now, e.node)
		}
	}
	defer func() { debugHook = nil }()
	r := Run(*flagDebug, p)
	t.Logf("%s\nviolations: %v", r.Note, r.Violations)
}
