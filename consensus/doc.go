// Package consensus is inferd's BFT engine: Tendermint's algorithm
// (Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus", 2018,
// Algorithm 1) over a stake-weighted validator set, written as a pure,
// deterministic state machine in the style of etcd-io/raft.
//
// The engine agrees on opaque 32-byte block IDs. A Machine consumes Inputs
// (verified Proposals and Votes, Timeouts, the application's ProposalBlock
// and BlockValidated answers, and NewHeight with the next height's
// validator set) and returns Actions (SignAndSend, ScheduleTimeout,
// RequestProposal, ValidateBlock, Commit, ReportEvidence). It does no I/O,
// reads no clock, draws no randomness, signs nothing and starts no
// goroutines; the same inputs always give the same actions.
//
// Threading model: a Machine is not safe for concurrent use. One goroutine
// (the node's consensus loop, or the simulator) owns it, steps inputs in
// one at a time and carries out the returned actions in order. Stateless
// checks (DecodeMessage, Verify, DuplicateVoteEvidence.Verify) and
// ValidatorSet (immutable) may be used from any goroutine, so signature
// verification can run in parallel before messages reach the loop.
//
// Persistence contract (see SignAndSend and package wal): the State that
// records a message this validator signs is fsynced before the message
// leaves the process; a restarted validator resumes from it and never signs
// a conflicting message. Thresholds are exact integer arithmetic (package
// quorum): a quorum is 3*power > 2*total, a round skip needs
// 3*power > total; total power is bounded by MaxTotalPower.
//
// Sub-packages: quorum (thresholds), wal (write-ahead log and signing
// guard), sim (deterministic simulator with faults and Byzantine
// validators). See docs/consensus.md.
package consensus
