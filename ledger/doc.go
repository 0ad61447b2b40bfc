// Package ledger is the replicated state machine of inferd: transactions,
// blocks, accounts and nonces, the Module interface through which bank,
// staking, gov, emission (and later contest and compute) own their messages
// and state, the state commitment (app hash), and queries at any height.
//
// Determinism is the contract: the same genesis and the same blocks give
// the same app hash on every machine. Nothing here reads the wall clock
// (the block time is an input), uses unseeded randomness, floats, goroutines,
// or lets map iteration order reach the state. Amounts are uint64 uinf with
// checked arithmetic (see amount.go).
//
// Threading: a State is used by one goroutine at a time for ApplyBlock;
// queries (View) may run concurrently with it, since they read committed
// heights from the store.
package ledger
