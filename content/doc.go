// Package content stores and moves models and datasets addressed by CID.
//
// Files are chunked and linked as UnixFS exactly as `ipfs add
// --cid-version=1` does (256 KiB chunks, raw leaves, balanced layout, at
// most 174 links per node, CIDv1, sha2-256), so a file has the same CID in
// inferd and in IPFS. Blocks live in a Store: boxo's blockstore over a small
// Badger datastore adapter in its own directory (<home>/data/content), with
// a pin set beside the blocks; blocks of 64 KiB or more live in files
// beside Badger, indexed in it (filestore.go). Exchange moves blocks
// between peers on a libp2p host: between inferd peers by the DAG stream
// protocol (stream.go: a DAG in DAG order over one stream, split across
// the peers that hold it), with boxo bitswap for IPFS peers and as the
// fallback; Gateway serves them read-only over HTTP.
//
// # Threading model
//
// Store methods are safe for concurrent use. Add, Pin and Fetch hold the
// store's GC lock for reading while they write blocks and pin; GC holds it
// for writing, so a collection never removes the blocks of an add or a
// fetch that is still in progress. Exchange owns bitswap's goroutines
// (stopped by Close) and serves DAG streams one goroutine pair per stream
// (a reader ahead, the handler writing); Fetch runs on the caller's
// goroutine, with one goroutine per peer streamed from and one batch
// writer each, all ended before it returns, bounded by its ctx. Gateway
// handlers run one per request.
package content
