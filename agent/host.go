// Package agent is the contract between the node and the background agents
// that act on a validator's or provider's behalf: the contest evaluator
// (contest/agent), the compute provider and the compute verifier
// (compute/agent). An agent watches committed blocks, reads the ledger,
// fetches and adds content by CID, exchanges gossip on its topic and sends
// transactions signed by the node's agent account.
//
// The node implements Host (node/agents.go); tests may implement it with a
// fake. Agents must never panic on anything they read from the network or
// the ledger, and must stop when their context is cancelled.
package agent

import (
	"context"
	"log/slog"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
)

// Gossip topics an agent may use.
const (
	TopicSubmissions = "submissions" // contest commits, reveals and score attestations
	TopicCompute     = "compute"     // challenge rows with Merkle proofs
)

// Host is what the node gives an agent.
type Host interface {
	// ChainID is the chain the agent signs for.
	ChainID() string
	// Chain is the ledger, for queries at a committed height.
	Chain() *chain.Chain
	// LatestHeight is the last height the node committed.
	LatestHeight() uint64
	// Committed delivers each committed height (a slow reader may miss
	// some: read the latest height again rather than counting on every
	// value). The returned func unsubscribes.
	Committed() (<-chan uint64, func())
	// Account is the address of the agent's signing key (for a
	// validator: its operator account).
	Account() keys.Address
	// Submit signs msgs as one transaction from Account with the next
	// nonce and the minimum fee, and hands it to the node's mempool and
	// gossip. It returns once the node accepted it (not once committed).
	Submit(ctx context.Context, msgs ...ledger.Msg) (ledger.TxHash, error)
	// Publish sends data on a gossip topic (TopicSubmissions or
	// TopicCompute).
	Publish(topic string, data []byte) error
	// Subscribe delivers messages other peers published on topic. The
	// returned func unsubscribes.
	Subscribe(topic string) (<-chan []byte, func())
	// Fetch returns the whole content of a file by CID (from the local
	// store, else from peers), checked block by block against the CID.
	Fetch(ctx context.Context, c cid.Cid) ([]byte, error)
	// Add stores data as a UnixFS file, pins it and returns its CID.
	Add(ctx context.Context, data []byte) (cid.Cid, error)
	// Logger is the agent's structured logger.
	Logger() *slog.Logger
}
