package agent

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/ledger"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// nodeReserve is memory kept back for the node itself when the machine's
// memory is offered to jobs.
const nodeReserve = 512 << 20

// ResourcesOf turns what container.Detect found into the provider's
// on-chain offer: every core, the memory less a reserve for the node, the
// GPUs grouped by model and VRAM, and the provider's policy.
func ResourcesOf(h container.Host, allowNetwork, allowRegistry bool, leasePrice uint64) ledgercompute.Resources {
	r := ledgercompute.Resources{Containers: true, MilliCPU: uint64(h.CPUs) * 1000, AllowNetwork: allowNetwork,
		AllowRegistry: allowRegistry, LeasePrice: leasePrice, GPUs: []ledgercompute.GPUGroup{}}
	if h.MemoryBytes > nodeReserve {
		r.MemoryBytes = h.MemoryBytes - nodeReserve
	}
	for _, g := range h.GPUs {
		name := g.Name
		if len(name) > ledgercompute.MaxGPUModelBytes {
			name = name[:ledgercompute.MaxGPUModelBytes]
		}
		i := slices.IndexFunc(r.GPUs, func(x ledgercompute.GPUGroup) bool { return x.Model == name && x.VRAMBytes == g.MemoryBytes })
		if i < 0 {
			r.GPUs = append(r.GPUs, ledgercompute.GPUGroup{Model: name, VRAMBytes: g.MemoryBytes})
			i = len(r.GPUs) - 1
		}
		r.GPUs[i].Count++
	}
	slices.SortFunc(r.GPUs, func(a, b ledgercompute.GPUGroup) int { return strings.Compare(a.Model, b.Model) })
	return r
}

// publishEvery: the offer is compared with the ledger's every this many
// blocks (and at start), and sent again when it differs.
const publishEvery = 20

// publishResources sends compute/set_resources when the provider is
// registered and its on-chain offer is not want.
func (c *Cloud) publishResources(ctx context.Context, height uint64) {
	want := c.cfg.Resources
	if want == nil || (c.published != 0 && height < c.published+publishEvery) {
		return
	}
	var have ledgercompute.Resources
	registered := false
	c.h.Chain().Query(height, func(q *ledger.Context) error {
		p, err := c.h.Chain().Compute.ProviderByAddr(q, c.h.Account())
		registered, have = err == nil, p.Resources
		return nil
	})
	if !registered {
		return // `inferd tx compute register` first; checked again next block
	}
	c.published = height
	if sameResources(have, *want) {
		return
	}
	if _, err := c.h.Submit(ctx, ledger.NewMsg(ledgercompute.MsgTypeSetResources, ledgercompute.MsgSetResources{Resources: *want})); err != nil {
		c.log.Warn("publish resources", "err", err)
		return
	}
	c.log.Info("resources published", "millicpu", want.MilliCPU, "memory", want.MemoryBytes, "gpus", len(want.GPUs), "lease_price", want.LeasePrice,
		"peer_id", want.PeerID, "addrs", want.Addrs)
}

// sameResources compares an on-chain offer with the wanted one, every
// field (the node's peer ID and addrs too: a node with a new identity or
// port publishes again), with a nil list equal to an empty one (the
// ledger may decode either).
func sameResources(a, b ledgercompute.Resources) bool {
	ga, gb, aa, ab := a.GPUs, b.GPUs, a.Addrs, b.Addrs
	a.GPUs, b.GPUs, a.Addrs, b.Addrs = nil, nil, nil, nil
	return reflect.DeepEqual(a, b) && slices.Equal(ga, gb) && slices.Equal(aa, ab)
}
