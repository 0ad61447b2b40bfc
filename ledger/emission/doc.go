// Package emission is the ledger module that creates new INF on a published
// schedule and divides it, every epoch, between the validators (and their
// delegators) and the module pools chosen by the stakers' gauge.
//
// # Schedule
//
// Block 1 to block reduction_interval_blocks (interval 0) each earn
// initial_block_reward uinf; every later interval k (blocks
// k*interval+1 .. (k+1)*interval) earns the previous interval's reward
// times reduction_ppm / 10^6, rounded down:
//
//	r(0) = initial_block_reward
//	r(k) = floor(r(k-1) * reduction_ppm / 1_000_000)
//
// so the reward reaches zero after finitely many reductions unless
// reduction_ppm is 1_000_000 (a constant reward). Parameter validation
// refuses schedules that need more than MaxReductions intervals to reach
// zero, so BlockReward is a short integer loop. Height 0 (genesis) earns
// nothing. With max_supply > 0 a block's reward is cut so that the bank's
// minted total plus the pending emission never exceeds max_supply (burned
// tokens do not make room again); after that nothing more is emitted.
//
// # Pending and epochs
//
// BeginBlock adds the block's reward to a pending counter. Pending tokens
// are not minted and appear in no holding, so the supply invariant
// (minted - burned = sum of holdings) is untouched until they are paid.
// At every height that is a multiple of epoch_length_blocks, EndBlock
// divides the pending amount P, minting every part it pays with bank.Mint
// (accounts) or bank.MintToPool (module pools). Minted grows by exactly the
// sum of what is credited; whatever is not paid stays pending for the next
// epoch (it was never minted, so nothing is lost or created):
//
//  1. V = floor(P * validator_share_ppm / 10^6) for validators; M = P - V
//     (the rounding remainder of this split goes to the module side).
//  2. V is split among the active set (staking.BondedValidators) in
//     proportion to their tokens, rounding down. The remainder (fewer uinf
//     than there are validators) stays pending. With no active validator
//     all of V stays pending.
//  3. Each validator's part X: commission floor(X * commission_ppm / 10^6)
//     to the operator; the rest to its delegators in proportion to their
//     shares (staking.ValidatorDelegations), rounding down, and the
//     rounding remainder to the operator. The operator's self-bond is a
//     delegation like any other. Rewards are credited to balances.
//  4. floor(M * compute_floor_ppm / 10^6) goes to the "compute" pool (the
//     compute module exists from genesis and can never be retired).
//  5. The rest G of M is split among the live modules by gauge weight,
//     rounding down; the remainder stays pending. A module with zero
//     weight gets nothing; when no live module has weight, all of G stays
//     pending and is offered again at the next epoch.
//
// # Gauge
//
// A staker sends emission/set_gauge with a list of (module, weight)
// pairs, splitting the weight of their bonded stake across live modules
// (weights are relative; an empty list withdraws the vote). The vote is
// kept, not its stake: at each epoch the weight of module m is
//
//	sum over voters, in address order, of
//	    floor(BondedStakeOf(voter) * w_m / sum of the voter's weights on live modules)
//
// so a vote follows its author's stake as it changes. Entries for a module
// that has since been retired (RemoveLiveModule) are ignored and the
// voter's stake is split among their remaining live choices.
//
// # Live modules
//
// The set of modules that can receive emission starts from the
// live_modules parameter (default ["compute"]); the contest module adds
// and retires contests with AddLiveModule and RemoveLiveModule when
// governance approves or retires them.
//
// Store layout (under "emission/"): params (canonical CBOR, without the
// live set), pending (8-byte big-endian), live/<module>, vote/<address>
// (the voter's weights), last_epoch (the last EpochReport).
//
// Threading: like every module, it runs on the ledger's goroutine inside
// ApplyBlock; queries take a read-only context.
package emission
