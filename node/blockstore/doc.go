// Package blockstore keeps the committed chain on disk, in its own Badger
// database (the node puts it in <home>/data/blocks): every block by height
// and by hash, the commit that finalized each height (the "seen commit",
// which the next block's LastCommit only repeats once that block exists),
// an index from transaction hash to (height, index), and the ledger's
// result of every transaction.
//
// SaveBlock writes one height in a single Badger transaction with
// synchronous writes: after it returns the height is durable, and a crash
// at any moment leaves the store at the previous height or at this one,
// never in between (see docs/blocks.md). Every stored value carries a
// CRC-32C; a value that fails it, or does not decode, is reported as
// ErrCorrupt with its key, never returned.
//
// Prune removes old heights (base marker first, then batched deletions
// with a progress marker: a crash mid-prune leaves only heights that are
// already refused); reads below the base return a PrunedError. Bootstrap
// starts an empty store at a state-synced height.
//
// Threading model: a Store is safe for concurrent use. Writes (SaveBlock,
// SaveValidators) are serialised by a mutex and are meant to come from one
// goroutine, the node's engine; reads may come from any goroutine (the HTTP
// API, block-sync serving) and see whole heights only.
package blockstore
