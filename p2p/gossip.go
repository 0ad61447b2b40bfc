package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Topic names, given to JoinTopic. The wire topic is TopicID(chain, name):
// "/inferd/<chain>/<name>/1".
const (
	TopicTx          = "tx"
	TopicTxBatch     = "txs"
	TopicConsensus   = "consensus"
	TopicEvidence    = "evidence"
	TopicSubmissions = "submissions"
	TopicCompute     = "compute"
	TopicBlocks      = "blocks"
)

// Topics lists the node's standard topic names.
var Topics = []string{TopicTx, TopicTxBatch, TopicConsensus, TopicEvidence, TopicSubmissions, TopicCompute, TopicBlocks}

// validatorTimeout is when a validator's ctx is cancelled; a validator that
// sees ctx done should return Ignore.
const validatorTimeout = 5 * time.Second

var topicNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// TopicID is the pubsub topic of name on chainID.
func TopicID(chainID, name string) string { return "/inferd/" + chainID + "/" + name + "/1" }

// ValidationResult is a validator's verdict on one gossip message.
type ValidationResult int

const (
	// Accept delivers the message to the local reader and relays it.
	Accept ValidationResult = iota
	// Reject drops the message and penalises the peer that sent it (its
	// gossip score falls; enough rejects disconnect it). For what is
	// malformed or wrongly signed: what an honest peer never sends.
	Reject
	// Ignore drops the message without penalty. For what is valid but
	// useless: stale, duplicate, or not checkable yet.
	Ignore
)

// String names the result.
func (r ValidationResult) String() string {
	switch r {
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	case Ignore:
		return "ignore"
	}
	return fmt.Sprintf("ValidationResult(%d)", int(r))
}

// Validator decides whether a gossip message is delivered and relayed. from
// is the peer that delivered the message to us (the one penalised on
// Reject), or this host's own ID for a message it publishes itself. data is
// at most the topic's maximum size. It runs on pubsub's validation
// goroutines, possibly many at once, and must be safe for concurrent use and
// cheap (stateless checks: decode, bounds, signature); it should return
// soon after ctx is done.
type Validator func(ctx context.Context, from peer.ID, data []byte) ValidationResult

// Message is a gossip message that passed validation.
type Message struct {
	// From is the peer that delivered it to us (not necessarily its author:
	// messages are unsigned at the pubsub layer; their content carries
	// its own signatures).
	From peer.ID
	// Topic is the wire topic ID.
	Topic string
	// Data is the payload; the reader owns it.
	Data []byte
}

// TopicStats counts what happened to a topic's inbound messages since it was
// joined. Each counter is monotonic.
type TopicStats struct {
	Accepted  uint64 // passed the validator (remote messages only)
	Rejected  uint64 // rejected by the validator or for their size
	Oversized uint64 // of Rejected: larger than the topic's maximum
	Ignored   uint64 // ignored by the validator
	Dropped   uint64 // accepted but dropped because the reader was slow
}

type topicCounters struct {
	accepted, rejected, oversized, ignored, dropped atomic.Uint64
}

// Topic is a joined gossip topic. Publish and Stats are safe for concurrent
// use; Next must be called from one goroutine at a time.
type Topic struct {
	h       *Host
	name    string
	id      string
	maxSize int
	topic   *pubsub.Topic
	sub     *pubsub.Subscription
	stats   *topicCounters
}

// Errors returned by topics.
var (
	ErrTooLarge     = errors.New("p2p: message too large")
	ErrTopicJoined  = errors.New("p2p: topic already joined")
	ErrBadTopicName = errors.New("p2p: bad topic name")
)

// JoinTopic joins the topic name (one of Topics, or any lower-case name)
// on this host's chain, validates every inbound message with v after
// rejecting those longer than maxMsgSize bytes, and subscribes to it. A
// topic can be joined once. maxMsgSize must be positive and at most
// Config.MaxMessageSize.
func (h *Host) JoinTopic(name string, maxMsgSize int, v Validator) (*Topic, error) {
	if !topicNameRE.MatchString(name) {
		return nil, fmt.Errorf("%w %q (want lower-case letters, digits and '-')", ErrBadTopicName, name)
	}
	if maxMsgSize <= 0 || maxMsgSize > h.cfg.MaxMessageSize {
		return nil, fmt.Errorf("p2p: topic %s: max message size %d not in 1..%d", name, maxMsgSize, h.cfg.MaxMessageSize)
	}
	if v == nil {
		return nil, fmt.Errorf("p2p: topic %s: nil validator", name)
	}
	id := TopicID(h.cfg.ChainID, name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.topics[id]; ok {
		return nil, fmt.Errorf("%w: %s", ErrTopicJoined, name)
	}
	t := &Topic{h: h, name: name, id: id, maxSize: maxMsgSize, stats: new(topicCounters)}
	self := h.host.ID()
	val := func(ctx context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		local := from == self
		if len(m.Data) > maxMsgSize {
			t.stats.rejected.Add(1)
			t.stats.oversized.Add(1)
			return pubsub.ValidationReject
		}
		switch v(ctx, from, m.Data) {
		case Accept:
			if !local {
				t.stats.accepted.Add(1)
			}
			return pubsub.ValidationAccept
		case Ignore:
			if !local {
				t.stats.ignored.Add(1)
			}
			return pubsub.ValidationIgnore
		default:
			if !local {
				t.stats.rejected.Add(1)
			}
			return pubsub.ValidationReject
		}
	}
	if err := h.ps.RegisterTopicValidator(id, val, pubsub.WithValidatorTimeout(validatorTimeout)); err != nil {
		return nil, fmt.Errorf("p2p: topic %s: %v", name, err)
	}
	pt, err := h.ps.Join(id)
	if err != nil {
		_ = h.ps.UnregisterTopicValidator(id)
		return nil, fmt.Errorf("p2p: join %s: %v", name, err)
	}
	if err := pt.SetScoreParams(topicScoreParams(name)); err != nil {
		_ = pt.Close()
		_ = h.ps.UnregisterTopicValidator(id)
		return nil, fmt.Errorf("p2p: topic %s score params: %v", name, err)
	}
	sub, err := pt.Subscribe(pubsub.WithBufferSize(h.cfg.SubscriptionBuffer))
	if err != nil {
		_ = pt.Close()
		_ = h.ps.UnregisterTopicValidator(id)
		return nil, fmt.Errorf("p2p: subscribe %s: %v", name, err)
	}
	t.topic, t.sub = pt, sub
	h.topics[id] = t
	h.tracer.topics.Store(id, t.stats)
	return t, nil
}

// Name is the topic's short name (e.g. "tx").
func (t *Topic) Name() string { return t.name }

// ID is the wire topic ("/inferd/<chain>/tx/1").
func (t *Topic) ID() string { return t.id }

// Publish validates data with the topic's validator (as if it came from
// this host) and gossips it. It fails with ErrTooLarge for data over the
// topic's maximum, and with an error when the validator rejects or ignores
// it. Identical bytes published again within pubsub's seen-message window
// (2 minutes) are dropped as duplicates: message IDs are content hashes.
// The host's own messages are not delivered back to it by Next.
func (t *Topic) Publish(ctx context.Context, data []byte) error {
	if len(data) > t.maxSize {
		return fmt.Errorf("%w: %d bytes on %s (max %d)", ErrTooLarge, len(data), t.name, t.maxSize)
	}
	if err := t.topic.Publish(ctx, data); err != nil {
		return fmt.Errorf("p2p: publish on %s: %w", t.name, err)
	}
	return nil
}

// Next returns the next message accepted from another peer, blocking until
// one arrives, ctx is done or the topic/host is closed. Messages published
// by this host are skipped. Up to Config.SubscriptionBuffer accepted
// messages wait for the reader; when the buffer is full, newer messages are
// dropped (counted in Stats().Dropped), never blocking gossip.
func (t *Topic) Next(ctx context.Context) (Message, error) {
	for {
		m, err := t.sub.Next(ctx)
		if err != nil {
			return Message{}, err
		}
		if m.ReceivedFrom == t.h.host.ID() {
			continue // published by this host
		}
		return Message{From: m.ReceivedFrom, Topic: t.id, Data: m.Data}, nil
	}
}

// Peers lists the connected peers subscribed to the topic.
func (t *Topic) Peers() []peer.ID { return t.topic.ListPeers() }

// Stats returns the topic's counters (for metrics).
func (t *Topic) Stats() TopicStats {
	return TopicStats{
		Accepted:  t.stats.accepted.Load(),
		Rejected:  t.stats.rejected.Load(),
		Oversized: t.stats.oversized.Load(),
		Ignored:   t.stats.ignored.Load(),
		Dropped:   t.stats.dropped.Load(),
	}
}

// Close unsubscribes and leaves the topic.
func (t *Topic) Close() error {
	t.h.mu.Lock()
	delete(t.h.topics, t.id)
	t.h.mu.Unlock()
	t.h.tracer.topics.Delete(t.id)
	t.sub.Cancel()
	_ = t.h.ps.UnregisterTopicValidator(t.id)
	return t.topic.Close()
}

// messageID is the pubsub message ID: a hash of topic and payload, so that
// the same bytes are deduplicated whichever peer relays them.
func messageID(m *pb.Message) string {
	h := sha256.New()
	h.Write([]byte(m.GetTopic()))
	h.Write([]byte{0})
	h.Write(m.Data)
	return string(h.Sum(nil))
}
