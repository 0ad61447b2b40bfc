// Package p2p is inferd's transport: a go-libp2p host (TCP and QUIC, Noise,
// yamux, a resource manager with explicit limits, a connection manager and
// a connection gater), gossipsub topics with peer scoring, discovery
// (bootstrap peers, Kademlia DHT, mDNS) and block sync over two stream
// protocols. It moves bytes: it knows nothing of transactions, votes or
// blocks, and asks the node's Validator callbacks whether a gossip message
// is worth relaying. It imports neither ledger, consensus nor node.
//
// Everything a Host does is namespaced by the chain ID: topics are
// "/inferd/<chain>/<name>/1", protocols "/inferd/<chain>/{status,blocks}/1",
// the DHT speaks "/inferd/<chain>/kad/1.0.0" and advertises under
// "inferd/<chain>". docs/p2p.md describes the protocols, limits and score
// parameters.
//
// # Threading model
//
// A Host owns these goroutines, all stopped and waited for by Close:
//   - go-libp2p's own (transports, identify, the resource and connection
//     managers, the DHT, mDNS);
//   - gossipsub's event loop, which owns all pubsub state; Topic methods
//     send it requests;
//   - one bootstrap goroutine (when there are bootstrap peers) that dials
//     them with backoff and re-dials one as soon as it disconnects;
//   - one discovery goroutine (when the DHT is on) that advertises and
//     looks for peers in rounds.
//
// Validators run on gossipsub's validation workers, several at once, and
// must be safe for concurrent use. pubsub's score inspector runs every
// Config.ScoreCheckInterval on its own goroutine; it records the scores and
// disconnects and bans peers below the graylist threshold. Stream handlers
// (ServeBlocks) run one goroutine per inbound stream, so a BlockProvider is
// called concurrently. Client calls (PeerHeight, FetchBlocks) run on the
// caller's goroutine and are bounded by the caller's ctx and by
// Config.RequestTimeout.
//
// Each Topic buffers Config.SubscriptionBuffer accepted messages for its
// reader; when the reader falls behind, newer messages are dropped (counted
// in Topic.Stats) rather than slowing gossip. Messages the host publishes
// itself are never returned by Topic.Next.
//
// All methods of Host and Topic are safe for concurrent use, except that a
// Topic's Next should have one caller at a time.
package p2p
