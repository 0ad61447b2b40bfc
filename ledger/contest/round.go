package contest

// Phases of a round, in order.
const (
	PhasePending      = "pending" // before round 1 starts
	PhaseCommit       = "commit"
	PhaseReveal       = "reveal"
	PhaseAttestCommit = "attest_commit"
	PhaseAttestReveal = "attest_reveal"
	PhaseSettle       = "settle" // after the attest reveal window, until the round's last block
	PhaseRetired      = "retired"
	PhaseClosed       = "closed" // a past round (queries only)
)

// Window is a range of block heights, both ends included.
type Window struct {
	Start uint64 `json:"start"`
	End   uint64 `json:"end"`
}

// Contains reports whether h is in the window.
func (w Window) Contains(h uint64) bool { return h >= w.Start && h <= w.End }

// RoundInfo is one round's timeline and where height stands in it.
type RoundInfo struct {
	Round        uint64 `json:"round"`
	Phase        string `json:"phase"`
	Height       uint64 `json:"height"`
	Start        uint64 `json:"start"`
	End          uint64 `json:"end"` // the round closes in this block's end-block
	Commit       Window `json:"commit"`
	Reveal       Window `json:"reveal"`
	AttestCommit Window `json:"attest_commit"`
	AttestReveal Window `json:"attest_reveal"`
}

// RoundAt is the timeline of round r (r >= 1) of a contest whose round 1
// starts at start. Round r covers [start + (r-1)*L, start + r*L - 1].
func RoundAt(start uint64, sc Schedule, r uint64) RoundInfo {
	s := start + (r-1)*sc.RoundLengthBlocks
	ri := RoundInfo{Round: r, Start: s, End: s + sc.RoundLengthBlocks - 1}
	next := s
	win := func(n uint64) Window {
		w := Window{Start: next, End: next + n - 1}
		next += n
		return w
	}
	ri.Commit = win(sc.CommitBlocks)
	ri.Reveal = win(sc.RevealBlocks)
	ri.AttestCommit = win(sc.AttestCommitBlocks)
	ri.AttestReveal = win(sc.AttestRevealBlocks)
	return ri
}

// RoundOf is the round containing height h with h's phase in it. Before
// start it is round 1 in phase "pending".
func RoundOf(start uint64, sc Schedule, h uint64) RoundInfo {
	if h < start {
		ri := RoundAt(start, sc, 1)
		ri.Phase, ri.Height = PhasePending, h
		return ri
	}
	ri := RoundAt(start, sc, (h-start)/sc.RoundLengthBlocks+1)
	ri.Height = h
	switch {
	case ri.Commit.Contains(h):
		ri.Phase = PhaseCommit
	case ri.Reveal.Contains(h):
		ri.Phase = PhaseReveal
	case ri.AttestCommit.Contains(h):
		ri.Phase = PhaseAttestCommit
	case ri.AttestReveal.Contains(h):
		ri.Phase = PhaseAttestReveal
	default:
		ri.Phase = PhaseSettle
	}
	return ri
}
