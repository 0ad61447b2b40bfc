// Package forward is the lease forwarding protocol: a libp2p stream
// protocol that carries a user's TCP connection (plain HTTP, usually) to a
// service container on the provider's loopback.
//
// On each stream the provider (Server) first sends a fresh 32-byte nonce;
// the client answers with a Hello naming the lease, the purpose (forward
// or probe), its account public key and a signature over the nonce, the
// lease, the purpose and both peer IDs (so a captured Hello is worthless
// on any other stream or connection). The Server asks its Authorizer
// whether that account may use the lease for that purpose and, for a
// forward, dials the container before answering, so that a container that
// is gone is a clear error rather than a dead stream. Then the stream is
// piped to the container both ways. A probe is answered by the Server
// itself: it GETs the lease's health path and returns the status code.
//
// The package knows nothing of the ledger: the node's Authorizer decides.
package forward
