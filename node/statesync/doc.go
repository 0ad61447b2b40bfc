// Package statesync takes, stores, serves and restores snapshots of the
// ledger state, so that a new node can start from a recent height instead
// of replaying the chain from genesis (in the shape of CometBFT's state
// sync: ListSnapshots, LoadSnapshotChunk, OfferSnapshot, ApplySnapshotChunk,
// here in-process calls over a Peer interface).
//
// Format 1. The canonical stream of the state at height H is, for every
// key in ascending byte order (the ledger's metadata keys included),
// uvarint(len(key)) key uvarint(len(value)) value. The stream is cut into
// chunks of ChunkSize bytes (the last one shorter); Metadata lists the
// height, the format, the sha256 of every chunk, the stream's size and key
// count, and the app hash of the state. The same state gives the same
// bytes on every node, so snapshots of one height from different peers are
// interchangeable chunk by chunk.
//
// Restoring trusts nothing a peer says until it is checked: every chunk
// against its hash in the metadata (a peer that serves a bad chunk is
// dropped and the chunk is fetched from another), the restored state's
// recomputed app hash against the metadata and against the header of
// height H+1 (whose AppHash is the state after H), and that header against
// a commit signed by more than 2/3 of the validator set the node trusts
// (blocks.VerifyCommit, the check block sync uses).
//
// Crash safety: a snapshot is written into a temporary directory and
// renamed into place once complete; a restore writes into a fresh
// directory that the caller renames over the node's state only after the
// app hash checks out. A crash at any moment leaves either nothing or a
// whole snapshot or state; leftovers of temporary directories are removed
// on the next attempt.
//
// Threading: Store is safe for concurrent use (its files are immutable once
// renamed into place); Fetch runs its own worker goroutines and returns
// when they are done. Nothing here is part of the replicated state machine.
package statesync
