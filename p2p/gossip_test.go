package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func acceptAll(context.Context, peer.ID, []byte) ValidationResult { return Accept }

// byPrefix rejects data starting with "bad", ignores "stale", accepts the rest.
func byPrefix(_ context.Context, _ peer.ID, data []byte) ValidationResult {
	switch {
	case bytes.HasPrefix(data, []byte("bad")):
		return Reject
	case bytes.HasPrefix(data, []byte("stale")):
		return Ignore
	}
	return Accept
}

func join(t *testing.T, h *Host, name string, max int, v Validator) *Topic {
	t.Helper()
	tp, err := h.JoinTopic(name, max, v)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// waitMesh waits until every topic sees its listed neighbours as subscribers.
func waitMesh(t *testing.T, pairs ...any) {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		tp, h := pairs[i].(*Topic), pairs[i+1].(*Host)
		waitFor(t, 5*time.Second, "topic peers", func() bool { return slices.Contains(tp.Peers(), h.ID()) })
	}
}

// next reads tp's next message other than warm-up ones.
func next(t *testing.T, tp *Topic, d time.Duration) (Message, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		m, err := tp.Next(ctx)
		if err != nil || !bytes.HasPrefix(m.Data, []byte("warm")) {
			return m, err
		}
	}
}

// warmUp publishes "warm <i>" on pub every 50 ms until every sub has
// received one: gossip relays along the mesh, which gossipsub builds on its
// first heartbeats, so a multi-hop test waits for it this way.
func warmUp(t *testing.T, pub *Topic, subs ...*Topic) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, len(subs))
	for _, s := range subs {
		go func() {
			for {
				m, err := s.Next(ctx)
				if err != nil || bytes.HasPrefix(m.Data, []byte("warm")) {
					done <- err
					return
				}
			}
		}()
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i, got := 0, 0; got < len(subs); {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("warm-up: %v", err)
			}
			got++
		case <-tick.C:
			if err := pub.Publish(ctx, fmt.Appendf(nil, "warm %d", i)); err != nil {
				t.Fatal(err)
			}
			i++
		}
	}
}

// line starts a - b - c: b bootstraps to a, c to b only.
func line(t *testing.T, mod func(*Config)) (a, b, c *Host) {
	a = newTestHost(t, mod)
	b = newTestHost(t, func(cfg *Config) {
		if mod != nil {
			mod(cfg)
		}
		bootstrapTo(t, a)(cfg)
	})
	c = newTestHost(t, func(cfg *Config) {
		if mod != nil {
			mod(cfg)
		}
		bootstrapTo(t, b)(cfg)
	})
	waitFor(t, 5*time.Second, "line to connect", func() bool { return a.connected(b.ID()) && b.connected(c.ID()) })
	return a, b, c
}

func TestTopicNames(t *testing.T) {
	if got := TopicID("inferd-1", TopicConsensus); got != "/inferd/inferd-1/consensus/1" {
		t.Fatal(got)
	}
	h := newTestHost(t, nil)
	if _, err := h.JoinTopic("Bad/Name", 10, acceptAll); !errors.Is(err, ErrBadTopicName) {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := h.JoinTopic(TopicTx, DefaultMaxMessageSize+1, acceptAll); err == nil {
		t.Fatal("max size above the host's accepted")
	}
	tp := join(t, h, TopicTx, 10, acceptAll)
	if _, err := h.JoinTopic(TopicTx, 10, acceptAll); !errors.Is(err, ErrTopicJoined) {
		t.Fatalf("second join: %v", err)
	}
	if err := tp.Close(); err != nil {
		t.Fatal(err)
	}
	join(t, h, TopicTx, 10, acceptAll) // joinable again after Close
}

func TestGossipReachesAll(t *testing.T) {
	a, b, c := line(t, nil)
	ta := join(t, a, TopicTx, 1024, acceptAll)
	tb := join(t, b, TopicTx, 1024, acceptAll)
	tc := join(t, c, TopicTx, 1024, acceptAll)
	waitMesh(t, ta, b, tb, a, tb, c, tc, b)
	warmUp(t, ta, tb, tc)
	ctx := context.Background()
	if err := ta.Publish(ctx, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	for _, tp := range []*Topic{tb, tc} {
		m, err := next(t, tp, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != "hello" || m.Topic != TopicID(testChain, TopicTx) {
			t.Fatalf("got %+v", m)
		}
	}
	// The publisher does not get its own message back.
	if m, err := next(t, ta, 200*time.Millisecond); err == nil {
		t.Fatalf("publisher received %q", m.Data)
	}
	if s := tc.Stats(); s.Accepted == 0 || s.Rejected != 0 {
		t.Fatalf("c stats %+v", s)
	}
}

func TestValidatorRejectAndIgnore(t *testing.T) {
	a, b, c := line(t, nil)
	ta := join(t, a, TopicConsensus, 1024, acceptAll) // a publishes anything
	tb := join(t, b, TopicConsensus, 1024, byPrefix)
	tc := join(t, c, TopicConsensus, 1024, acceptAll)
	waitMesh(t, ta, b, tb, a, tb, c, tc, b)
	warmUp(t, ta, tb, tc)
	before := tb.Stats()
	ctx := context.Background()
	for _, s := range []string{"bad 1", "stale 1", "good 1"} {
		if err := ta.Publish(ctx, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	// b delivers and relays only the good one; c, behind b, sees only it.
	for _, tp := range []*Topic{tb, tc} {
		m, err := next(t, tp, 5*time.Second)
		if err != nil || string(m.Data) != "good 1" {
			t.Fatalf("got %q, %v; want good 1", m.Data, err)
		}
	}
	if m, err := next(t, tc, 300*time.Millisecond); err == nil {
		t.Fatalf("c received %q", m.Data)
	}
	waitFor(t, 2*time.Second, "b's counters", func() bool {
		s := tb.Stats()
		return s.Rejected == 1 && s.Ignored == 1 && s.Accepted >= before.Accepted+1
	})
	// Publishing what one's own validator rejects fails locally.
	if err := tb.Publish(ctx, []byte("bad 2")); err == nil {
		t.Fatal("publish of a rejected message succeeded")
	}
}

func TestOversizedRejected(t *testing.T) {
	a := newTestHost(t, nil)
	b := newTestHost(t, bootstrapTo(t, a))
	ta := join(t, a, TopicBlocks, 4096, acceptAll)
	tb := join(t, b, TopicBlocks, 100, acceptAll)
	waitMesh(t, ta, b, tb, a)
	ctx := context.Background()
	if err := tb.Publish(ctx, make([]byte, 101)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("publish over the limit: %v", err)
	}
	if err := ta.Publish(ctx, bytes.Repeat([]byte{1}, 200)); err != nil {
		t.Fatal(err)
	}
	if err := ta.Publish(ctx, []byte("small")); err != nil {
		t.Fatal(err)
	}
	m, err := next(t, tb, 5*time.Second)
	if err != nil || string(m.Data) != "small" {
		t.Fatalf("got %q, %v", m.Data, err)
	}
	waitFor(t, 2*time.Second, "b to count the oversized message", func() bool {
		s := tb.Stats()
		return s.Oversized == 1 && s.Rejected == 1
	})
}

// TestSpammerGraylisted: a peer that keeps publishing malformed and
// oversized messages is scored below the graylist threshold, disconnected and kept out, while an
// honest peer's messages still arrive.
func TestSpammerGraylisted(t *testing.T) {
	fast := func(c *Config) { c.ScoreCheckInterval = 50 * time.Millisecond }
	a := newTestHost(t, fast)
	spammer := newTestHost(t, func(c *Config) { fast(c); bootstrapTo(t, a)(c) })
	honest := newTestHost(t, func(c *Config) { fast(c); bootstrapTo(t, a)(c) })
	ta := join(t, a, TopicTx, 1024, byPrefix)
	ts := join(t, spammer, TopicTx, 4096, acceptAll)
	th := join(t, honest, TopicTx, 1024, byPrefix)
	waitMesh(t, ta, spammer, ta, honest, ts, a, th, a)

	ctx := context.Background()
	for i := 0; i < 10; i++ {
		msg := []byte{'b', 'a', 'd', byte(i)} // malformed
		if i%2 == 1 {
			msg = bytes.Repeat([]byte{byte(i)}, 2000) // oversized for a
		}
		if err := ts.Publish(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "spammer to be disconnected", func() bool { return !a.connected(spammer.ID()) })
	if s, ok := a.PeerScore(spammer.ID()); !ok || s >= GraylistThreshold {
		t.Fatalf("spammer score %v (known %v), want < %v", s, ok, GraylistThreshold)
	}
	if s, _ := a.PeerScore(honest.ID()); s < 0 {
		t.Fatalf("honest peer score %v", s)
	}
	if s := ta.Stats(); s.Rejected < 5 || s.Oversized == 0 {
		t.Fatalf("a's stats %+v, want at least 5 rejected, some oversized", s)
	}
	if err := th.Publish(ctx, []byte("good")); err != nil {
		t.Fatal(err)
	}
	m, err := next(t, ta, 5*time.Second)
	if err != nil || string(m.Data) != "good" || m.From != honest.ID() {
		t.Fatalf("got %+v, %v", m, err)
	}
	// The spammer's bootstrap loop keeps trying; a's gater keeps it out.
	time.Sleep(700 * time.Millisecond)
	if a.connected(spammer.ID()) {
		t.Fatal("graylisted spammer reconnected")
	}
}

func TestSlowReaderDrops(t *testing.T) {
	a := newTestHost(t, nil)
	b := newTestHost(t, func(c *Config) { c.SubscriptionBuffer = 4; bootstrapTo(t, a)(c) })
	ta := join(t, a, TopicCompute, 1024, acceptAll)
	tb := join(t, b, TopicCompute, 1024, acceptAll)
	waitMesh(t, ta, b, tb, a)
	ctx := context.Background()
	const n = 40
	for i := 0; i < n; i++ {
		if err := ta.Publish(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "all messages accepted", func() bool { return tb.Stats().Accepted == n })
	waitFor(t, 2*time.Second, "drops counted", func() bool { return tb.Stats().Dropped > 0 })
	got := 0
	for {
		if _, err := next(t, tb, 100*time.Millisecond); err != nil {
			break
		}
		got++
	}
	if s := tb.Stats(); uint64(got)+s.Dropped != n {
		t.Fatalf("read %d + dropped %d != %d", got, s.Dropped, n)
	}
}
