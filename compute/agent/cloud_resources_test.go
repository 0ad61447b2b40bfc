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
}
