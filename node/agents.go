package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/node/mempool"
)

// Gossip kinds the agents use (topic names; see agent.Topic*).
const (
	KindSubmissions = agent.TopicSubmissions
	KindCompute     = agent.TopicCompute
)

// agentLimits bound what an agent fetches by CID (a model, a dataset, a
// workload, named by a stranger): 256 MiB, read into memory, and as many
// blocks as 256 MiB makes in 4 KiB chunks. Larger or more expanding DAGs
// are refused rather than risking the node's memory and time.
var agentLimits = content.Limits{MaxBytes: maxAgentFetch, MaxBlocks: maxAgentFetch / (4 << 10)}

const maxAgentFetch = 256 << 20

// AgentFunc is a background agent: it runs until ctx ends. An error other
// than ctx's is logged; it does not stop the node.
type AgentFunc func(ctx context.Context, h agent.Host) error

// agentHost is the node side of agent.Host for one signing key.
type agentHost struct {
	r    *Running
	tr   *p2pTransport
	priv keys.PrivKey
	addr keys.Address
	log  *slog.Logger

	mu        sync.Mutex // guards the nonce fields; Submit is called from several agents
	nextNonce uint64
	pending   map[uint64]ledger.TxHash // our accepted txs by nonce, not yet committed

	subsMu sync.Mutex
	subs   map[string][]chan []byte

	leasePeers sync.Map // lease id -> peer.ID of its provider's node (ProbeLease)
}

func newAgentHost(r *Running, tr *p2pTransport, priv keys.PrivKey) *agentHost {
	pub := priv.Public().(keys.PubKey)
	return &agentHost{r: r, tr: tr, priv: priv, addr: keys.AddressOf(pub),
		log: r.Log.With("component", "agent"), subs: map[string][]chan []byte{}, pending: map[uint64]ledger.TxHash{}}
}

var _ agent.Host = (*agentHost)(nil)

func (h *agentHost) ChainID() string       { return h.r.Genesis.ChainID }
func (h *agentHost) Chain() *chain.Chain   { return h.r.Chain }
func (h *agentHost) LatestHeight() uint64  { return h.r.Engine.Status().Height }
func (h *agentHost) Account() keys.Address { return h.addr }
func (h *agentHost) Logger() *slog.Logger  { return h.log }

func (h *agentHost) Committed() (<-chan uint64, func()) { return h.r.Engine.SubscribeCommits() }

// Submit signs with the next nonce: the larger of the ledger's and the
// one after our last accepted submission, so that several transactions
// can wait in the mempool at once. If a transaction of ours left the
// mempool without being committed (evicted, or refused by a block), the
// nonces after it would wait forever: the counter falls back to the
// ledger's nonce (dropCommitted).
func (h *agentHost) Submit(ctx context.Context, msgs ...ledger.Msg) (ledger.TxHash, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	chainNonce, fee, err := h.accountState()
	if err != nil {
		return ledger.TxHash{}, err
	}
	h.dropCommitted(chainNonce)
	nonce := max(chainNonce, h.nextNonce)
	var hash ledger.TxHash
	// The key may also sign elsewhere (its owner's CLI, a script): a nonce
	// slot taken by another pending tx of the account moves us to the next.
	for tries := 0; tries < 8; tries++ {
		if err = ctx.Err(); err != nil {
			return hash, err
		}
		_, raw := ledger.SignTx(h.ChainID(), h.priv, nonce, fee, "agent", msgs...)
		hash, err = h.r.SubmitTx(raw)
		switch {
		case err == nil:
			h.nextNonce = nonce + 1
			h.pending[nonce] = hash
			if berr := h.tr.Broadcast(txKind(msgs), raw); berr != nil {
				h.log.Debug("gossip agent tx", "err", berr)
			}
			return hash, nil
		case errors.Is(err, mempool.ErrFeeTooLowToReplace):
			nonce++
		case errors.Is(err, ledger.ErrWrongNonce), errors.Is(err, mempool.ErrNonceTooLow), errors.Is(err, mempool.ErrTooManyPending):
			if chainNonce, fee, err = h.accountState(); err != nil {
				return hash, err
			}
			clear(h.pending)
			nonce = chainNonce
		default:
			return hash, err
		}
	}
	return hash, err
}

// accountState reads the agent account's nonce and the minimum fee at the
// latest committed height.
func (h *agentHost) accountState() (nonce, fee uint64, err error) {
	err = h.r.Chain.Query(h.r.Engine.Status().Height, func(c *ledger.Context) error {
		nonce = ledger.AccountNonce(c, h.addr)
		fee = h.r.Chain.Bank.MinFee(c)
		return nil
	})
	return nonce, fee, err
}

// dropCommitted forgets our transactions below the ledger's nonce and
// resets the counter when one at or above it is no longer pending.
func (h *agentHost) dropCommitted(chainNonce uint64) {
	for n := range h.pending {
		if n < chainNonce {
			delete(h.pending, n)
		}
	}
	for n := chainNonce; n < h.nextNonce; n++ {
		if hash, ok := h.pending[n]; !ok || !h.r.Mempool.Has(hash) {
			h.nextNonce = chainNonce
			clear(h.pending)
			return
		}
	}
}

// txKind picks the gossip topic of a transaction: contest commits, reveals
// and attestations travel on the submissions topic (DESIGN section 6),
// everything else on the tx topic. Both feed the same mempool.
func txKind(msgs []ledger.Msg) string {
	for _, m := range msgs {
		if strings.HasPrefix(m.Type, "contest/") {
			return KindSubmissions
		}
	}
	return KindTx
}

func (h *agentHost) Publish(topic string, data []byte) error {
	if topic != KindSubmissions && topic != KindCompute {
		return fmt.Errorf("agent: no gossip topic %q (use %q or %q)", topic, KindSubmissions, KindCompute)
	}
	// Gossip does not echo our own messages; the node's other agents
	// (a provider's rows for its own validator's verifier) see them here.
	h.deliver(topic, data)
	return h.tr.Broadcast(topic, data)
}

func (h *agentHost) Subscribe(topic string) (<-chan []byte, func()) {
	ch := make(chan []byte, 256)
	h.subsMu.Lock()
	h.subs[topic] = append(h.subs[topic], ch)
	h.subsMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.subsMu.Lock()
			defer h.subsMu.Unlock()
			list := h.subs[topic]
			for i, c := range list {
				if c == ch {
					h.subs[topic] = append(list[:i:i], list[i+1:]...)
					break
				}
			}
		})
	}
}

// deliver hands a gossip payload to the topic's subscribers; a slow
// subscriber loses the message rather than blocking gossip.
func (h *agentHost) deliver(topic string, data []byte) {
	h.subsMu.Lock()
	defer h.subsMu.Unlock()
	for _, ch := range h.subs[topic] {
		select {
		case ch <- data:
		default:
		}
	}
}

func (h *agentHost) Fetch(ctx context.Context, c cid.Cid) ([]byte, error) {
	svc := h.r.Content
	return agentFetch(ctx, svc.Exchange, svc.Store, c)
}

// agentFetch fetches c within agentLimits, unpinned (it was fetched for
// someone else), and reads it into memory. The fetch stops as soon as the
// root's size, the blocks or their bytes pass the limits, and the file's
// logical size is checked before it is read.
func agentFetch(ctx context.Context, ex *content.Exchange, st *content.Store, c cid.Cid) ([]byte, error) {
	opts := content.FetchOptions{Timeout: 2 * time.Minute, NoPin: true, Limits: agentLimits}
	if err := ex.Fetch(ctx, c, "", opts); err != nil {
		if errors.Is(err, content.ErrTooLarge) {
			return nil, fmt.Errorf("%w (the most an agent reads into memory is %d MiB)", err, maxAgentFetch>>20)
		}
		return nil, err
	}
	rd, err := st.Cat(ctx, c)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	// Cat's Stat used the store's limits; this holds the read to the
	// agent's.
	data, err := io.ReadAll(io.LimitReader(rd, maxAgentFetch+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxAgentFetch {
		return nil, fmt.Errorf("%s is larger than %d MiB, the most an agent reads into memory", c, maxAgentFetch>>20)
	}
	return data, nil
}

func (h *agentHost) Add(ctx context.Context, data []byte) (cid.Cid, error) {
	return h.r.Content.Store.AddReader(ctx, bytes.NewReader(data), content.AddOptions{})
}

// startAgents runs each agent on its own goroutine with the host of the
// node's agent key.
func (r *Running) startAgents(ctx context.Context, h *agentHost, agents []AgentFunc) {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	for _, run := range agents {
		wg.Go(func() {
			if err := run(ctx, h); err != nil && ctx.Err() == nil {
				h.log.Error("agent stopped", "err", err)
			}
		})
	}
	// On close (newest closer first: before the content store and the
	// host), give the agents a moment to finish their own cleanup (the
	// cloud agent removes its containers and releases podman's storage).
	r.closers = append(r.closers, func() error {
		cancel()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(agentStopGrace):
			h.log.Warn("agents still running at shutdown", "waited", agentStopGrace)
		}
		return nil
	})
}

// agentStopGrace bounds how long a stopping node waits for its agents.
const agentStopGrace = 20 * time.Second
