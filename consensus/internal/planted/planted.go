// Package planted holds the test-only switches that plant known bugs in the
// consensus engine, so that the simulator's tests (names containing
// "Planted") can prove it catches them. Production code never sets them; they
// are read at the few places where the bug would live. Being internal, only
// packages under consensus/ can reach them, and only _test.go files do.
//
// Not safe for concurrent modification: a test sets a switch before it starts
// any simulation and resets it afterwards.
package planted

var (
	// NoLock makes the prevote rules ignore the locked value (the locking
	// rule of Tendermint's Algorithm 1, lines 22-33, is disabled).
	NoLock bool
	// QuorumAtLeastTwoThirds counts a quorum as 3*power >= 2*total instead of
	// the correct 3*power > 2*total.
	QuorumAtLeastTwoThirds bool
)
