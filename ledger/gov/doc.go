// Package gov is the governance module of the ledger: proposals with
// deposits, stake-weighted votes, and the execution of what passes
// (parameter changes of any ledger.ParamModule, and content kinds other
// modules register with RegisterContent).
//
// # Lifecycle
//
// gov/submit_proposal creates a proposal in its deposit period with the
// sender's initial deposit (at least 1 uinf) taken from their balance into
// escrow. Anyone may add to it with gov/deposit until the total reaches
// params.min_deposit; that moment starts the voting period
// (params.voting_period_s). If max_deposit_period_s passes first, the
// proposal expires and its deposits are burned (a spam deterrent).
// Deposits are taken only in the deposit period (ErrNotDepositPeriod) and
// votes only in the voting period (ErrNotVotingPeriod); periods are
// half-open, [start, end), in block time (unix ns), and fixed when they
// start: a later change of the period parameters does not move them. A
// voter may change their vote until the end; anyone may vote, but only
// bonded stake counts.
//
// At the first end-block with block time >= voting end the proposal is
// tallied with the stake and the gov parameters of that moment (not a
// snapshot from the start of voting), as Cosmos SDK does: see tally and
// decide. Wire gov after staking so that it sees staking's end-block.
// Outcomes:
//   - passed: the content is executed; deposits refunded. If execution
//     fails the proposal is "failed" (nothing changed) and deposits are
//     refunded too.
//   - rejected (no quorum, everyone abstained, threshold not reached):
//     deposits refunded. Refunding on a missed quorum is Cosmos's default
//     (burn_vote_quorum = false): a proposal nobody cared about is not spam.
//   - vetoed (veto / voted > veto_threshold): deposits burned.
//
// The votes are deleted once tallied; the proposal record stays with its
// status, final tally and a human-readable result.
//
// Ratios are compared exactly in 128-bit integers; no floats.
//
// # Param changes
//
// A "param_change" proposal lists (module, key, JSON value) changes, applied
// in order through the module's SetParam, all or nothing. At submit time
// the changes are tried on a throwaway branch of the state (Context.Branch),
// so a change the module would refuse is refused at submit with
// ErrInvalidContent. A change can still fail at execution if the
// parameters changed meanwhile; the proposal is then "failed".
//
// # Store layout
//
// Under "gov/", integers big-endian, times as unix ns with the sign bit
// flipped so that byte order is time order:
//
//	gov/params                         Params (canonical CBOR)
//	gov/next_id                        next proposal id (uint64; ids start at 1)
//	gov/prop/<id>                      Proposal (canonical CBOR)
//	gov/dq/<deposit end><id>           empty: proposals in their deposit period
//	gov/vq/<voting end><id>            empty: proposals in their voting period
//	gov/dep/<id><depositor>            escrowed amount (uint64) of an active proposal
//	gov/vote/<id><voter>               VoteOption (1 byte) of a proposal being voted on
//
// End-block reads only the due prefix of the two queues. Holdings reports
// the sum of gov/dep/ as "escrowed".
//
// # Events
//
// proposal_submitted, proposal_deposit, voting_period_start, vote, and one
// of proposal_passed, proposal_rejected, proposal_vetoed, proposal_failed,
// proposal_expired.
//
// Threading: like every module, called by the ledger on one goroutine;
// queries run on read-only contexts.
package gov
