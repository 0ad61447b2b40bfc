package agent

import (
	"context"
	"log/slog"
	"reflect"
	"testing"

	"github.com/inferd/inferd/compute/container"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

func TestResourcesOf(t *testing.T) {
	h := container.Host{CPUs: 4, MemoryBytes: 8 << 30, GPUs: []container.GPUInfo{
		{Name: "NVIDIA H200", MemoryBytes: 141 << 30}, {Name: "NVIDIA A10", MemoryBytes: 24 << 30}, {Name: "NVIDIA H200", MemoryBytes: 141 << 30}}}
	r := ResourcesOf(h, true, false, 7)
	want := ledgercompute.Resources{Containers: true, MilliCPU: 4000, MemoryBytes: 8<<30 - nodeReserve, AllowNetwork: true, LeasePrice: 7,
		GPUs: []ledgercompute.GPUGroup{{Model: "NVIDIA A10", VRAMBytes: 24 << 30, Count: 1}, {Model: "NVIDIA H200", VRAMBytes: 141 << 30, Count: 2}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("ResourcesOf:\n got %+v\nwant %+v", r, want)
	}
}

// TestPublishResources: the offer goes on-chain once the provider is
// registered, and is not sent again while the ledger holds it.
func TestPublishResources(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, nil)
	prov := r.hosts[0]
	want := ResourcesOf(container.Host{CPUs: 2, MemoryBytes: 4 << 30}, false, false, 3)
	c := &Cloud{h: prov, cfg: CloudConfig{Resources: &want}, log: slog.New(slog.DiscardHandler)}
	for i := 0; i < 3; i++ {
		r.n.block()
		c.publishResources(ctx, r.n.height)
	}
	if got := r.provider(0).Resources; !reflect.DeepEqual(got, want) {
		t.Fatalf("on-chain resources %+v, want %+v", got, want)
	}
	nonce := prov.nonce
	for i := 0; i < 2*publishEvery; i++ {
		r.n.block()
		c.publishResources(ctx, r.n.height)
	}
	if prov.nonce != nonce {
		t.Fatalf("resources sent again though unchanged (%d txs)", prov.nonce-nonce)
	}
	// The node's peer ID and addresses count: a new one is published
	// (at the next check), then left alone.
	want.PeerID, want.Addrs = testPeerID, []string{"/ip4/127.0.0.1/tcp/4001"}
	for i := 0; i < 2*publishEvery; i++ {
		r.n.block()
		c.publishResources(ctx, r.n.height)
	}
	if got := r.provider(0).Resources; got.PeerID != testPeerID || !reflect.DeepEqual(got.Addrs, want.Addrs) {
		t.Fatalf("on-chain resources %+v: the new peer ID and addrs were not published", got)
	}
	nonce = prov.nonce
	for i := 0; i < 2*publishEvery; i++ {
		r.n.block()
		c.publishResources(ctx, r.n.height)
	}
	if prov.nonce != nonce {
		t.Fatalf("resources with a peer ID sent again though unchanged (%d txs)", prov.nonce-nonce)
	}
}

// testPeerID is a valid libp2p (Ed25519) peer ID.
const testPeerID = "12D3KooWMSpiTVkAtEFhWzq15fRNWVyaSYUxddbZoQtc74a3atTM"

func TestSameResources(t *testing.T) {
	a := ledgercompute.Resources{Containers: true, MilliCPU: 1000, GPUs: []ledgercompute.GPUGroup{}, PeerID: testPeerID}
	b := a
	b.GPUs, b.Addrs = nil, []string{}
	if !sameResources(a, b) {
		t.Fatal("nil and empty lists differ")
	}
	b.Addrs = []string{"/ip4/127.0.0.1/tcp/1"}
	if sameResources(a, b) {
		t.Fatal("a new addr is not a difference")
	}
	b.Addrs, b.PeerID = nil, ""
	if sameResources(a, b) {
		t.Fatal("a new peer ID is not a difference")
	}
}
