package p2p

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/inferd/inferd/keys"
)

const testChain = "test-chain"

func testKey(t *testing.T) keys.PrivKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestHost starts a host on 127.0.0.1 (TCP, random port) and closes it
// when the test ends. mod may change the config.
func newTestHost(t *testing.T, mod func(*Config)) *Host {
	t.Helper()
	cfg := Config{
		ChainID:     testChain,
		PrivKey:     testKey(t),
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		MaxPeers:    16,
		Logger:      quietLogger(),
	}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// addrOf is h's first full multiaddr on the given transport ("tcp" or "quic-v1").
func addrOf(t *testing.T, h *Host, transport string) string {
	t.Helper()
	for _, a := range h.Addrs() {
		if strings.Contains(a.String(), "/"+transport+"/") {
			return a.String()
		}
	}
	t.Fatalf("host has no %s address in %v", transport, h.Addrs())
	return ""
}

func bootstrapTo(t *testing.T, hs ...*Host) func(*Config) {
	var addrs []string
	for _, h := range hs {
		addrs = append(addrs, addrOf(t, h, "tcp"))
	}
	return func(c *Config) { c.BootstrapPeers = addrs }
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func connectedTo(h *Host, p peer.ID) func() bool { return func() bool { return h.connected(p) } }

func TestConfigErrors(t *testing.T) {
	key := testKey(t)
	good := Config{ChainID: testChain, PrivKey: key}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"bad listen", func(c *Config) { c.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/300.1.1.1/tcp/1"} }, `listen address "/ip4/300.1.1.1/tcp/1"`},
		{"listen not multiaddr", func(c *Config) { c.ListenAddrs = []string{"127.0.0.1:26656"} }, `listen address "127.0.0.1:26656"`},
		{"bootstrap without id", func(c *Config) { c.BootstrapPeers = []string{"/ip4/127.0.0.1/tcp/26656"} }, `bootstrap peer "/ip4/127.0.0.1/tcp/26656"`},
		{"bootstrap garbage", func(c *Config) { c.BootstrapPeers = []string{"node1:26656"} }, `bootstrap peer "node1:26656"`},
		{"no chain", func(c *Config) { c.ChainID = "" }, "chain id is empty"},
		{"slash in chain", func(c *Config) { c.ChainID = "a/b" }, `chain id "a/b"`},
		{"no key", func(c *Config) { c.PrivKey = nil }, "no private key"},
		{"short key", func(c *Config) { c.PrivKey = key[:10] }, "private key"},
		{"negative max peers", func(c *Config) { c.MaxPeers = -1 }, "max peers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			h, err := New(context.Background(), c)
			if err == nil {
				h.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	h := newTestHost(t, nil)
	if h.mdns != nil {
		t.Error("mDNS is on by default")
	}
	if h.dht != nil {
		t.Error("DHT is on with DHT false")
	}
	if d := DefaultConfig(testChain, testKey(t)); d.MDNS || !d.DHT || d.MaxPeers != DefaultMaxPeers {
		t.Errorf("DefaultConfig = %+v", d)
	}
	if h.cfg.MaxMessageSize != DefaultMaxMessageSize || h.cfg.RequestTimeout != DefaultRequestTimeout {
		t.Errorf("defaults not applied: %+v", h.cfg.Config)
	}
	for _, a := range h.Addrs() {
		if _, err := a.ValueForProtocol(ma.P_P2P); err != nil {
			t.Errorf("address %s has no /p2p/", a)
		}
	}
	l := resourceLimits(testChain).ToPartialLimitConfig()
	if l.System.Conns != 512 || l.PeerDefault.Conns != 8 || l.ProtocolPeer[blocksProtocol(testChain)].StreamsInbound != 4 {
		t.Errorf("resource limits not applied: system %+v peer %+v", l.System, l.PeerDefault)
	}
}

func TestBootstrapAndRedial(t *testing.T) {
	a := newTestHost(t, nil)
	b := newTestHost(t, bootstrapTo(t, a))
	c := newTestHost(t, bootstrapTo(t, a))
	waitFor(t, 5*time.Second, "b and c to reach a", func() bool { return len(a.Peers()) == 2 })
	if !b.connected(a.ID()) || !c.connected(a.ID()) {
		t.Fatal("b or c not connected to a")
	}
	// a drops b: b re-dials at once.
	if err := a.host.Network().ClosePeer(b.ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "b to re-dial a", connectedTo(a, b.ID()))
}

// TestBootstrapRetriesUntilUp: a bootstrap peer that is not up yet is dialed
// again, with backoff, until it is.
func TestBootstrapRetriesUntilUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	aKey := testKey(t)
	aID, err := peer.IDFromPublicKey(mustPub(t, aKey))
	if err != nil {
		t.Fatal(err)
	}
	aAddr := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)
	b := newTestHost(t, func(c *Config) { c.BootstrapPeers = []string{aAddr + "/p2p/" + aID.String()} })
	time.Sleep(700 * time.Millisecond) // b fails at least twice
	a := newTestHost(t, func(c *Config) { c.PrivKey = aKey; c.ListenAddrs = []string{aAddr} })
	waitFor(t, 5*time.Second, "b to reach a once it is up", connectedTo(b, a.ID()))
}

func mustPub(t *testing.T, k keys.PrivKey) crypto.PubKey {
	t.Helper()
	priv, err := crypto.UnmarshalEd25519PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return priv.GetPublic()
}

func TestQUICAndConnectAddr(t *testing.T) {
	a := newTestHost(t, func(c *Config) { c.ListenAddrs = []string{"/ip4/127.0.0.1/udp/0/quic-v1"} })
	b := newTestHost(t, func(c *Config) { c.ListenAddrs = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.ConnectAddr(ctx, addrOf(t, a, "quic-v1")); err != nil {
		t.Fatal(err)
	}
	if !a.connected(b.ID()) {
		t.Fatal("a does not see b")
	}
	if err := b.ConnectAddr(ctx, "/ip4/127.0.0.1/tcp/1"); err == nil || !strings.Contains(err.Error(), `"/ip4/127.0.0.1/tcp/1"`) {
		t.Fatalf("ConnectAddr without /p2p/: %v", err)
	}
	if err := b.Connect(ctx, peer.AddrInfo{ID: b.ID()}); err == nil {
		t.Fatal("connect to self succeeded")
	}
}

func TestDHTDiscovery(t *testing.T) {
	dhtOn := func(c *Config) { c.DHT = true }
	a := newTestHost(t, dhtOn)
	b := newTestHost(t, func(c *Config) { dhtOn(c); bootstrapTo(t, a)(c) })
	c := newTestHost(t, func(c *Config) { dhtOn(c); bootstrapTo(t, a)(c) })
	waitFor(t, 15*time.Second, "b and c to find each other through the DHT", connectedTo(b, c.ID()))
	// c advertises itself under the chain's namespace; b finds it there.
	rd := drouting.NewRoutingDiscovery(b.dht)
	waitFor(t, 15*time.Second, "c's advertisement", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		found, err := rd.FindPeers(ctx, DiscoveryNamespace(testChain))
		if err != nil {
			return false
		}
		for ai := range found {
			if ai.ID == c.ID() {
				return true
			}
		}
		return false
	})
}

func TestPenalize(t *testing.T) {
	a := newTestHost(t, nil)
	b := newTestHost(t, bootstrapTo(t, a))
	waitFor(t, 5*time.Second, "b to reach a", connectedTo(a, b.ID()))
	a.Penalize(b.ID(), "served bad blocks")
	waitFor(t, 2*time.Second, "a to drop b", func() bool { return !a.connected(b.ID()) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.host.Addrs()}); err == nil {
		t.Fatal("a dialed a banned peer")
	}
	// b's own dials (bootstrap loop, or explicit) are refused by a's gater.
	_ = b.ConnectAddr(ctx, addrOf(t, a, "tcp"))
	if a.connected(b.ID()) {
		t.Fatal("a accepted a banned peer")
	}
	if s := a.appScore(b.ID()); s != penaltyScore {
		t.Fatalf("app score of a penalised peer = %v", s)
	}
}

func TestGaterBanExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	g := newGater(func() time.Time { return now })
	p := peer.ID("peer")
	g.ban(p, time.Minute)
	g.ban(p, time.Second) // a shorter ban does not shorten it
	if g.InterceptPeerDial(p) || g.InterceptSecured(0, p, nil) {
		t.Fatal("banned peer allowed")
	}
	now = now.Add(59 * time.Second)
	if !g.isBanned(p) {
		t.Fatal("ban ended early")
	}
	now = now.Add(time.Second)
	if !g.InterceptPeerDial(p) || g.isBanned(p) {
		t.Fatal("ban did not end")
	}
}
