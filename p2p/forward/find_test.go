package forward

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/host"

	"github.com/inferd/inferd/p2p/p2ptest"
)

func published(h host.Host) Published {
	p := Published{PeerID: h.ID().String()}
	for _, a := range h.Addrs() {
		p.Addrs = append(p.Addrs, a.String())
	}
	return p
}

// TestFindPublishedNotConnected: a client host that is connected to
// nobody reaches the provider through the peer ID and address it
// published, and forwards HTTP to the lease; without them it cannot.
func TestFindPublishedNotConnected(t *testing.T) {
	r := newRig(t)
	lone := p2ptest.NewHost(t)
	c := NewClient(lone, testChain, r.owner)
	ctx := context.Background()
	if _, err := c.Find(ctx, Published{}, r.lease, nil); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "published no peer ID") {
		t.Fatalf("no published peer, no connections: %v, want ErrNotFound saying why", err)
	}
	p, err := c.Find(ctx, published(r.prov), r.lease, nil)
	if err != nil || p != r.prov.ID() {
		t.Fatalf("Find with the published peer: %s, %v; want %s", p, err, r.prov.ID())
	}
	hc := &http.Client{Transport: c.HTTPTransport(p, r.lease)}
	resp, err := hc.Get("http://lease/v1/predict")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"model":"m","prediction":[1,2,3]}` {
		t.Fatalf("GET through the published peer: %d %q", resp.StatusCode, body)
	}
	// The /p2p suffix some addresses carry is accepted too.
	lone2 := p2ptest.NewHost(t)
	pub := published(r.prov)
	pub.Addrs = []string{pub.Addrs[0] + "/p2p/" + pub.PeerID}
	if p, err := NewClient(lone2, testChain, r.owner).Find(ctx, pub, r.lease, nil); err != nil || p != r.prov.ID() {
		t.Fatalf("published addr with /p2p: %s, %v", p, err)
	}
}

// TestFindFallsBack: a published peer that does not run the lease (or a
// bad peer ID) falls back to asking the connected peers.
func TestFindFallsBack(t *testing.T) {
	r := newRig(t)
	other := p2ptest.NewHost(t) // no forward server: not the provider
	c := NewClient(r.user, testChain, r.owner)
	ctx := context.Background()
	for _, pub := range []Published{published(other), {PeerID: "not-a-peer-id"}, {PeerID: r.user.ID().String()}} {
		p, err := c.Find(ctx, pub, r.lease, nil)
		if err != nil || p != r.prov.ID() {
			t.Fatalf("published %v: found %s, %v; want the connected provider %s", pub, p, err, r.prov.ID())
		}
	}
	// Nobody runs lease 99: the error names both paths.
	_, err := c.Find(ctx, published(other), 99, nil)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "published node "+other.ID().String()) {
		t.Fatalf("unknown lease: %v", err)
	}
}
