package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/blocks"
	"github.com/inferd/inferd/node/blockstore"
	"github.com/inferd/inferd/node/statesync"
	"github.com/inferd/inferd/p2p"
)

// p2pTransport carries the engine's gossip over libp2p topics. Each payload
// gets an 8-byte sequence prefix: gossipsub deduplicates by content, and a
// validator repeating its vote for a peer that missed it must not be
// swallowed as a duplicate by its own router.
type p2pTransport struct {
	topics map[string]*p2p.Topic
	seq    atomic.Uint64
}

func (t *p2pTransport) Broadcast(kind string, data []byte) error {
	tp, ok := t.topics[kind]
	if !ok {
		return fmt.Errorf("no topic %q", kind)
	}
	buf := make([]byte, 8+len(data))
	binary.BigEndian.PutUint64(buf, t.seq.Add(1))
	copy(buf[8:], data)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return tp.Publish(ctx, buf)
}

func unwrap(data []byte) ([]byte, bool) {
	if len(data) < 8 {
		return nil, false
	}
	return data[8:], true
}

// Running is a started node.
type Running struct {
	*Node
	Host    *p2p.Host
	Content *content.Service
	Metrics *api.Metrics
	APIAddr string
	syncing atomic.Bool
	done    chan error
	topics  map[string]*p2p.Topic
	agents  *agentHost // nil without an agent key
	batcher *txBatcher // gossips the API's transactions in batches
	// snapHold is the height a snapshot in progress reads (0: none);
	// pruning keeps it.
	snapHold atomic.Uint64
}

// Start brings the node up: p2p host, topics, consensus engine, block sync,
// HTTP API. It returns once everything listens; Wait blocks until ctx ends
// or a component fails.
func (n *Node) Start(ctx context.Context) (*Running, error) {
	pc := p2p.Config{
		ChainID: n.Genesis.ChainID, PrivKey: n.nodeKey, ListenAddrs: n.Config.P2P.ListenAddresses,
		BootstrapPeers: n.Config.P2P.BootstrapPeers, MDNS: n.Config.P2P.MDNS, DHT: true,
		MaxPeers: n.Config.P2P.MaxPeers, MaxBlockSize: 4 << 20, Logger: n.Log,
	}
	host, err := p2p.New(ctx, pc)
	if err != nil {
		return nil, err
	}
	r := &Running{Node: n, Host: host, Metrics: api.NewMetrics(), done: make(chan error, 4)}
	n.closers = append(n.closers, host.Close)
	// State sync runs before the engine is made and the topics joined:
	// the engine starts from the restored state.
	var snaps *statesync.Store
	if n.Config.StateSync.SnapshotInterval > 0 {
		if snaps, err = statesync.OpenStore(filepath.Join(n.Home, SnapshotsDir)); err != nil {
			return nil, err
		}
		host.ServeSnapshots(snapshotSource{snaps})
	}
	if n.Config.StateSync.Enable {
		if err := r.stateSync(ctx); err != nil {
			return nil, fmt.Errorf("state sync: %w", err)
		}
	}
	// The engine exists before the first topic is joined: a topic's
	// validator runs as soon as it is joined, on whatever peers already
	// gossip, and reads the engine's status (a nil engine there was a
	// panic on network input, seen after state sync). The engine only
	// keeps tr until Run, so the topics can be added to it after.
	tr := &p2pTransport{topics: map[string]*p2p.Topic{}}
	if err := n.NewEngine(tr, engineMetrics{r.Metrics}); err != nil {
		return nil, err
	}
	sizes := map[string]int{KindConsensus: 4 << 10, KindBlock: 4 << 20, KindTx: ledger.MaxTxBytes + 64, KindTxBatch: txBatchTopicSize, KindEvidence: 8 << 10,
		KindSubmissions: ledger.MaxTxBytes + 64, KindCompute: 4<<20 - 64}
	for kind, size := range sizes {
		t, err := host.JoinTopic(kind, size, r.validator(kind))
		if err != nil {
			return nil, err
		}
		tr.topics[kind] = t
	}
	host.ServeBlocks(syncProvider{n})
	// Models and datasets by CID: bitswap on the same host, the gateway on
	// the API address. Closed before the host (closers run newest first).
	svc, err := content.Start(ctx, n.Home, host.LibP2P(), content.ExchangeOptions{
		Routing: host.Routing(),
		OnUnwantedBlock: func(p peer.ID, _ cid.Cid) {
			host.Penalize(p, "sent a block that matches no CID asked for")
		},
		OnBadPeer: func(p peer.ID, reason string) { host.Penalize(p, reason) },
	})
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, svc.Close)
	svc.Store.SetLimits(content.Limits{MaxBytes: n.Config.Content.MaxDAGBytes, MaxBlocks: n.Config.Content.MaxDAGBlocks})
	r.Content = svc
	ln, err := net.Listen("tcp", n.Config.API.Address)
	if err != nil {
		return nil, fmt.Errorf("api: listen on %s: %v (set api.address in config.toml)", n.Config.API.Address, err)
	}
	r.APIAddr = ln.Addr().String()
	go func() {
		o := n.Config.API.apiOptions(n.apiToken)
		o.Extra = map[string]http.Handler{"/ipfs/": svc.Gateway}
		err := api.ServeOptions(ctx, ln, backend{r, tr}, r.Metrics, o)
		if err != nil && !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
			r.done <- fmt.Errorf("api: %w", err)
		}
	}()
	r.topics = tr.topics
	r.batcher = newTxBatcher(func(b []byte) error { return tr.Broadcast(KindTxBatch, b) }, n.Log)
	go r.batcher.run(ctx)
	if n.AgentKey != nil {
		r.agents = newAgentHost(r, tr, n.AgentKey)
	}
	for kind, t := range tr.topics {
		go r.consume(ctx, kind, t)
	}
	go r.syncLoop(ctx)
	if snaps != nil {
		go r.snapshotLoop(ctx, snaps, n.Config.StateSync)
	}
	if pol, _ := n.Config.Pruning.Resolve(); pol.KeepRecent > 0 { // validated by LoadConfig
		go r.pruneLoop(ctx, pol)
	}
	go r.gaugeLoop(ctx)
	go func() { r.done <- n.Engine.Run(ctx) }()
	if r.agents != nil {
		r.startAgents(ctx, r.agents, n.Agents)
		n.Log.Info("agents started", "account", r.agents.Account(), "agents", len(n.Agents))
	}
	n.Log.Info("node started", "chain", n.Genesis.ChainID, "peer_id", host.ID().String(), "api", r.APIAddr, "validator", n.ValidatorAddress())
	return r, nil
}

// Wait blocks until ctx ends (nil) or a component fails (its error).
func (r *Running) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-r.done:
		return err
	}
}

// validator is the topic validator: cheap, stateless checks only. What
// does not decode is rejected (the sender is penalised); what cannot be
// judged yet is accepted and left to the engine.
func (r *Running) validator(kind string) p2p.Validator {
	var self peer.ID // unset in tests that run the validator without a host
	if r.Host != nil {
		self = r.Host.ID()
	}
	return func(_ context.Context, from peer.ID, data []byte) p2p.ValidationResult {
		body, ok := unwrap(data)
		if !ok {
			return p2p.Reject
		}
		v, err := decodeGossip(kind, body)
		if err != nil {
			return p2p.Reject
		}
		switch x := v.(type) {
		case consensus.Message:
			h, _, _ := x.HRS()
			cur := r.Engine.Status().Height + 1
			if h+1 < cur || h > cur+1 {
				return p2p.Ignore // stale or far ahead: not useful to relay
			}
			if h == cur && (from != self || self == "") { // our own come from our engine, just signed
				vals := r.Engine.Validators()
				err := consensus.Verify(r.Genesis.ChainID, vals, x)
				if err != nil && !errors.Is(err, consensus.ErrOldHeight) {
					return p2p.Reject
				}
				if err == nil {
					r.Engine.verified.add(x, vals)
				}
			}
		case *blocks.Block:
			if cur := r.Engine.Status().Height + 1; x.Header.Height+1 < cur || x.Header.Height > cur+1 {
				return p2p.Ignore
			}
		case *ledger.Tx:
			// Our own submissions are in the mempool, already verified.
			if h := ledger.HashTx(body); !r.Mempool.Has(h) && !r.txSigs.has(h) {
				if ledger.VerifyTx(r.Genesis.ChainID, x) != nil {
					return p2p.Reject
				}
				r.txSigs.add(h)
			}
		case [][]byte:
			return r.admitTxBatch(x)
		case *consensus.DuplicateVoteEvidence:
			// Forged evidence (bad signature, votes that do not conflict) is
			// the sender's fault; late or not punishable evidence may not be.
			if _, err := r.checkEvidence(body); err != nil {
				if errors.Is(err, consensus.ErrBadEvidence) {
					r.Log.Debug("gossip: rejected evidence", "err", err)
					return p2p.Reject
				}
				return p2p.Ignore
			}
		}
		return p2p.Accept
	}
}

func (r *Running) consume(ctx context.Context, kind string, t *p2p.Topic) {
	self := r.Host.ID()
	for {
		m, err := t.Next(ctx)
		if err != nil {
			return
		}
		if m.From == self {
			continue
		}
		body, ok := unwrap(m.Data)
		if !ok {
			continue
		}
		switch kind {
		case KindConsensus:
			if msg, err := consensus.DecodeMessage(body); err == nil {
				r.Engine.Deliver(msg)
			}
		case KindBlock:
			if b, err := blocks.Decode(body); err == nil {
				r.preverifyTxs(b)
				r.Engine.DeliverBlock(b)
			}
		case KindTxBatch:
			// Admitted by the validator (admitTxBatch), which has to look
			// at every transaction anyway.
		case KindTx, KindSubmissions:
			if _, err := r.submitTx(body, true); err != nil {
				continue // already known, stale nonce...: not relayed further by us
			}
		case KindCompute:
			// Opaque to the node: the compute agents decode and bound it.
			if r.agents != nil {
				r.agents.deliver(kind, body)
			}
		case KindEvidence:
			if ev, err := r.checkEvidence(body); err == nil {
				r.Engine.DeliverEvidence(ev)
			}
		}
	}
}

// gaugeLoop refreshes the peer and mempool gauges.
func (r *Running) gaugeLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := map[string]p2p.TopicStats{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for kind, tp := range r.topics {
				st := tp.Stats()
				prev := last[kind]
				r.Metrics.GossipRejects.WithLabelValues(kind, "reject").Add(float64(st.Rejected - prev.Rejected))
				r.Metrics.GossipRejects.WithLabelValues(kind, "ignore").Add(float64(st.Ignored - prev.Ignored))
				last[kind] = st
			}
			r.Metrics.Peers.Set(float64(len(r.Host.Peers())))
			r.Metrics.MempoolTxs.Set(float64(r.Mempool.Size()))
			r.Metrics.MempoolBytes.Set(float64(r.Mempool.Bytes()))
		}
	}
}

type syncProvider struct{ n *Node }

func (p syncProvider) Height() uint64 { return p.n.Blocks.Height() }

func (p syncProvider) BlockBytes(h uint64) ([]byte, error) {
	b, err := p.n.Blocks.BlockBytes(h)
	var pe *blockstore.PrunedError
	if errors.As(err, &pe) {
		return nil, &p2p.PrunedError{Height: h, Base: pe.Base} // the peer hears why
	}
	if err != nil {
		return nil, err
	}
	c, err := p.n.Blocks.SeenCommit(h)
	if err != nil {
		return nil, err
	}
	return codec.MustMarshal(syncEnvelope{Block: b, Commit: blocks.EncodeCommit(c)}), nil
}

// syncLoop asks peers for their height every second and, when one is ahead
// by more than one block (consensus gossip covers the last one), fetches
// and applies the missing blocks through the engine.
func (r *Running) syncLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, p := range r.Host.Peers() {
			if ctx.Err() != nil {
				return
			}
			r.syncFrom(ctx, p)
		}
	}
}

func (r *Running) syncFrom(ctx context.Context, p peer.ID) {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ph, err := r.Host.PeerHeight(qctx, p)
	if err != nil {
		return
	}
	for {
		ours := r.Blocks.Height()
		if ph <= ours {
			r.syncing.Store(false)
			return
		}
		r.syncing.Store(true)
		fctx, fcancel := context.WithTimeout(ctx, 15*time.Second)
		raws, err := r.Host.FetchBlocks(fctx, p, ours+1, min(ph-ours, 64))
		fcancel()
		var pe *p2p.PrunedError
		if errors.As(err, &pe) {
			r.Log.Debug("block sync: peer pruned the blocks we need; trying others", "err", err)
			return
		}
		if err != nil || len(raws) == 0 {
			return
		}
		for _, raw := range raws {
			b, c, reason, err := decodeSyncEnvelope(raw)
			if err != nil {
				r.Host.Penalize(p, reason)
				return
			}
			if b.Header.Height <= r.Blocks.Height() {
				continue // consensus got there first
			}
			r.preverifyTxs(b)
			if err := r.Engine.ApplySynced(ctx, b, c); err != nil {
				if b.Header.Height <= r.Blocks.Height() || ctx.Err() != nil {
					return // consensus committed it meanwhile: not the peer's fault
				}
				r.Log.Warn("block sync: refused a block", "peer", p.String(), "height", b.Header.Height, "err", err)
				r.Host.Penalize(p, "served an invalid block: "+err.Error())
				return
			}
		}
	}
}
