// Package mempool holds the transactions a node has verified but not yet
// seen committed, and chooses which of them the node proposes.
//
// Policy (docs/blocks.md has the full text):
//   - Per-sender nonce order. A sender's txs are kept by nonce; the ones
//     whose nonces continue the account's nonce without a gap are "ready".
//     A tx after a gap waits (up to MaxPerSender nonces ahead) for the gap
//     to be filled.
//   - Fee priority. Priority is the fee per byte, compared exactly
//     (fee_a*size_b vs fee_b*size_a in 128 bits); ties go to the earlier
//     arrival. Reap takes, at each step, the best ready tx among the senders'
//     next ones, so a sender's txs always leave in nonce order.
//   - Limits on count and bytes. When full, a new tx may evict txs only if
//     it ranks strictly above each of them. Only a sender's last tx is ever
//     evicted (evicting an earlier one would strand the later ones), and a
//     sender ranks by its weakest tx: non-ready txs rank below ready ones,
//     then by the lowest priority up to that tx. A new tx never evicts its
//     own sender's txs.
//   - A tx with the same sender and nonce as a pooled one replaces it only
//     with a strictly higher fee. Duplicates are refused by hash.
//   - Update, after each block, removes the committed txs and every pooled
//     tx whose nonce the block made stale, and, with Config.Recheck, the txs
//     that no longer pass the caller's check (and the same sender's later
//     ones).
//
// Threading model: a Mempool is safe for concurrent use; every method takes
// one mutex for its whole run and starts no goroutines. Signature checks are
// the caller's job and should run before Add, outside the lock, so that the
// critical sections stay short (Add and Reap are microseconds at 10,000
// txs; see docs/blocks.md). Everything is deterministic given the order of
// calls.
package mempool
