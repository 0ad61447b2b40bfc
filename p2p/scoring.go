package p2p

import (
	"net"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Gossip score thresholds (see docs/p2p.md). A peer's score is the sum of
// its per-topic scores (capped at topicScoreCap when positive) and the
// global terms. Below GossipThreshold we stop gossiping with it, below
// PublishThreshold we stop publishing to it, below GraylistThreshold we
// ignore everything it sends and the host disconnects and bans it for
// Config.PenaltyDuration.
var scoreThresholds = pubsub.PeerScoreThresholds{
	GossipThreshold:             -500,
	PublishThreshold:            -1000,
	GraylistThreshold:           GraylistThreshold,
	AcceptPXThreshold:           10,
	OpportunisticGraftThreshold: 2,
}

const (
	// invalidMessageWeight is the weight of the squared count of invalid
	// messages (P4): 5 rejected messages take a peer to -2500.
	invalidMessageWeight = -100
	// penaltyScore is the application-specific score (P5) of a peer that
	// Penalize was called on, while its penalty lasts.
	penaltyScore  = -10000
	topicScoreCap = 50
)

// GraylistThreshold is the gossip score below which a peer is graylisted,
// disconnected and banned.
const GraylistThreshold = -2500

// topicWeights weighs the topics: consensus and blocks matter most.
var topicWeights = map[string]float64{
	TopicConsensus:   1,
	TopicBlocks:      1,
	TopicEvidence:    0.5,
	TopicTx:          0.5,
	TopicTxBatch:     0.5,
	TopicSubmissions: 0.5,
	TopicCompute:     0.5,
}

// topicScoreParams are the per-topic score parameters of name. Mesh
// delivery deficits (P3, P3b) are off: a quiet topic (no txs for a while)
// would otherwise penalise honest peers. Invalid deliveries (P4) are
// punished hard and forgotten slowly (decay to 1% in an hour).
func topicScoreParams(name string) *pubsub.TopicScoreParams {
	w, ok := topicWeights[name]
	if !ok {
		w = 0.5
	}
	return &pubsub.TopicScoreParams{
		TopicWeight: w,
		// P1: time in mesh, +1 per 30 s up to +10.
		TimeInMeshWeight:  1.0 / 30,
		TimeInMeshQuantum: time.Second,
		TimeInMeshCap:     300,
		// P2: first deliveries, +1 each, up to +50, decaying over 10 minutes.
		FirstMessageDeliveriesWeight: 1,
		FirstMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(10 * time.Minute),
		FirstMessageDeliveriesCap:    50,
		// P4: invalid messages, -100 x count².
		InvalidMessageDeliveriesWeight: invalidMessageWeight,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}

// loopback addresses are exempt from the IP-colocation penalty: devnets and
// tests run every node on 127.0.0.1.
var loopbackNets = []*net.IPNet{
	{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)},
	{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
}

// peerScoreParams are the global score parameters. appScore is P5.
func peerScoreParams(appScore func(peer.ID) float64) *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:        map[string]*pubsub.TopicScoreParams{}, // set per topic on join
		TopicScoreCap: topicScoreCap,
		// P5: application score, from Penalize.
		AppSpecificScore:  appScore,
		AppSpecificWeight: 1,
		// P6: more than 8 peers behind one IP cost -50 x (n-8)².
		IPColocationFactorWeight:    -50,
		IPColocationFactorThreshold: 8,
		IPColocationFactorWhitelist: loopbackNets,
		// P7: protocol misbehaviour (GRAFT during backoff, broken IWANT
		// promises) beyond 6, -10 x excess², decaying over 10 minutes.
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             pubsub.DefaultDecayInterval,
		DecayToZero:               pubsub.DefaultDecayToZero,
		RetainScore:               30 * time.Minute,
	}
}

// scoreBook keeps the latest gossip scores, refreshed every
// Config.ScoreCheckInterval by pubsub's inspector.
type scoreBook struct {
	mu     sync.Mutex
	scores map[peer.ID]float64
}

func (b *scoreBook) set(m map[peer.ID]float64) {
	b.mu.Lock()
	b.scores = m
	b.mu.Unlock()
}

func (b *scoreBook) get(p peer.ID) (float64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.scores[p]
	return s, ok
}

// PeerScore returns p's latest gossip score, as last read (at most
// Config.ScoreCheckInterval ago), and whether p has one.
func (h *Host) PeerScore(p peer.ID) (float64, bool) { return h.scores.get(p) }

// inspectScores is pubsub's score inspector; pubsub calls it on a goroutine
// of its own with a fresh map. Peers below the graylist threshold that are
// still connected are disconnected and banned.
func (h *Host) inspectScores(m map[peer.ID]float64) {
	h.scores.set(m)
	for p, s := range m {
		if s < GraylistThreshold && h.host.Network().Connectedness(p) == network.Connected {
			h.punish(p, "gossip score below graylist threshold", "score", s)
		}
	}
}

// appScore is the application-specific gossip score (P5): penaltyScore
// while p is banned by Penalize, 0 otherwise.
func (h *Host) appScore(p peer.ID) float64 {
	if h.gater.isBanned(p) {
		return penaltyScore
	}
	return 0
}

// Penalize disconnects p, refuses connections to and from it for
// Config.PenaltyDuration, and lowers its gossip score below the graylist
// threshold for that time. The node calls it on a peer that served invalid
// blocks or otherwise broke the protocol; reason is logged.
func (h *Host) Penalize(p peer.ID, reason string) {
	if p == h.host.ID() {
		return
	}
	h.punish(p, reason)
}

func (h *Host) punish(p peer.ID, reason string, args ...any) {
	h.gater.ban(p, h.cfg.PenaltyDuration)
	h.log.Warn("p2p: peer penalised", append([]any{"peer", p, "reason", reason, "for", h.cfg.PenaltyDuration}, args...)...)
	_ = h.host.Network().ClosePeer(p)
}

// tracer is pubsub's raw tracer; it counts messages dropped because a
// topic's reader was slow. All other events are ignored.
type tracer struct {
	topics sync.Map // topic ID -> *topicCounters
}

func (t *tracer) UndeliverableMessage(msg *pubsub.Message) {
	if c, ok := t.topics.Load(msg.GetTopic()); ok {
		c.(*topicCounters).dropped.Add(1)
	}
}

func (t *tracer) AddPeer(peer.ID, protocol.ID)                         {}
func (t *tracer) RemovePeer(peer.ID)                                   {}
func (t *tracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t *tracer) OnClosedOutboundStream(peer.ID)                       {}
func (t *tracer) Join(string)                                          {}
func (t *tracer) Leave(string)                                         {}
func (t *tracer) Graft(peer.ID, string)                                {}
func (t *tracer) Prune(peer.ID, string)                                {}
func (t *tracer) ValidateMessage(*pubsub.Message)                      {}
func (t *tracer) DeliverMessage(*pubsub.Message)                       {}
func (t *tracer) RejectMessage(*pubsub.Message, string)                {}
func (t *tracer) DuplicateMessage(*pubsub.Message)                     {}
func (t *tracer) ThrottlePeer(peer.ID)                                 {}
func (t *tracer) RecvRPC(*pubsub.RPC)                                  {}
func (t *tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (t *tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (t *tracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
