package compute

import (
	"fmt"
	"slices"
	"strings"

	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

func checkResources(p Params, r Resources) error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{ErrBadResources}, a...)...) }
	if err := checkPeer(r); err != nil {
		return err
	}
	if !r.Containers {
		if r.MilliCPU != 0 || r.MemoryBytes != 0 || len(r.GPUs) != 0 || r.AllowNetwork || r.AllowRegistry || r.LeasePrice != 0 {
			return bad("containers is false but resources are set; set containers = true to offer them, or send all zero for Wasm only")
		}
		return nil
	}
	switch {
	case r.MilliCPU == 0 || r.MilliCPU > jobspec.MaxMilliCPU:
		return bad("millicpu %d; offer 1..%d millicores", r.MilliCPU, jobspec.MaxMilliCPU)
	case r.MemoryBytes < jobspec.MinMemoryBytes || r.MemoryBytes > jobspec.MaxMemoryBytes:
		return bad("memory %d bytes; offer %d..%d", r.MemoryBytes, jobspec.MinMemoryBytes, uint64(jobspec.MaxMemoryBytes))
	case len(r.GPUs) > MaxGPUGroups:
		return bad("%d GPU groups; at most %d (one per model)", len(r.GPUs), MaxGPUGroups)
	case r.LeasePrice > p.MaxJobPrice:
		return bad("lease price %d; at most max_job_price %d uinf per block (0: no services)", r.LeasePrice, p.MaxJobPrice)
	}
	for i, g := range r.GPUs {
		switch {
		case g.Model == "" || len(g.Model) > MaxGPUModelBytes || strings.ContainsFunc(g.Model, func(c rune) bool { return c < 0x20 || c > 0x7e }):
			return bad("gpus[%d].model %q; 1..%d printable ASCII bytes as nvidia-smi prints it", i, g.Model, MaxGPUModelBytes)
		case g.VRAMBytes == 0:
			return bad("gpus[%d].vram_bytes is 0; give each device's memory", i)
		case g.Count == 0 || g.Count > MaxGPUsPerGroup:
			return bad("gpus[%d].count %d; 1..%d devices", i, g.Count, MaxGPUsPerGroup)
		}
	}
	return nil
}

func gpusInUse(u Usage) bool {
	return slices.ContainsFunc(u.GPUs, func(n uint32) bool { return n > 0 })
}

// setResources replaces the provider's offer. CPU and memory may drop
// below what is in use (no new jobs fit then); the GPU list may not change
// while a GPU is held, because allocations are by group index.
func (m *Module) setResources(ctx *ledger.Context, sender keys.Address, x MsgSetResources) error {
	pr, err := m.ownProvider(ctx, sender)
	if err != nil {
		return err
	}
	if err := checkResources(m.Params(ctx), x.Resources); err != nil {
		return err
	}
	if gpusInUse(pr.Used) && !slices.Equal(pr.Resources.GPUs, x.Resources.GPUs) {
		return fmt.Errorf("%w: GPUs are in use by running jobs; keep the GPU list until they end", ErrBusy)
	}
	if x.Resources.GPUs == nil {
		x.Resources.GPUs = []GPUGroup{}
	}
	pr.Resources = x.Resources
	if len(pr.Used.GPUs) != len(pr.Resources.GPUs) {
		pr.Used.GPUs = make([]uint32, len(pr.Resources.GPUs))
	}
	m.putProvider(ctx, pr)
	r := x.Resources
	ctx.Emit("compute_resources", "provider", sender.String(), "containers", fmt.Sprint(r.Containers),
		"millicpu", fmt.Sprint(r.MilliCPU), "memory", fmt.Sprint(r.MemoryBytes), "gpus", fmt.Sprint(totalGPUs(r)),
		"lease_price", fmt.Sprint(r.LeasePrice), "peer_id", r.PeerID)
	return nil
}

func totalGPUs(r Resources) uint64 {
	var n uint64
	for _, g := range r.GPUs {
		n += uint64(g.Count)
	}
	return n
}

// need is what a container job asks of a provider, from its spec.
type need struct {
	kind     string
	milliCPU uint64
	memory   uint64
	gpu      *jobspec.GPU
	network  bool
	registry bool   // image by ref
	price    uint64 // the most the user pays: per job (batch) or per block (service)
}

func needOf(s *jobspec.Spec) need {
	n := need{kind: s.Kind, milliCPU: s.Resources.MilliCPU, memory: s.Resources.MemoryBytes,
		gpu: s.Resources.GPU, network: s.Network, registry: s.Image.Ref != "", price: s.MaxPrice}
	if s.Kind == jobspec.KindService {
		n.price = s.Service.PricePerBlock
	}
	return n
}

func modelMatches(model string, want []string) bool {
	if len(want) == 0 {
		return true
	}
	lm := strings.ToLower(model)
	return slices.ContainsFunc(want, func(w string) bool { return strings.Contains(lm, strings.ToLower(w)) })
}

// fit reports whether pr can take a job with need n now, and the GPUs it
// would hold per group (taken from the groups in order). The price to
// charge is pr's batch price or lease price.
func fit(pr *Provider, n need) (alloc []uint32, price uint64, ok bool) {
	r := &pr.Resources
	if !r.Containers || !pr.Live() || pr.ActiveJobs >= pr.Capacity {
		return nil, 0, false
	}
	price = pr.Price
	if n.kind == KindService {
		price = r.LeasePrice
		if price == 0 {
			return nil, 0, false
		}
	}
	if price > n.price || (n.network && !r.AllowNetwork) || (n.registry && !r.AllowRegistry) {
		return nil, 0, false
	}
	if r.MilliCPU < pr.Used.MilliCPU || r.MilliCPU-pr.Used.MilliCPU < n.milliCPU ||
		r.MemoryBytes < pr.Used.MemoryBytes || r.MemoryBytes-pr.Used.MemoryBytes < n.memory {
		return nil, 0, false
	}
	if n.gpu == nil {
		return nil, price, true
	}
	left := n.gpu.Count
	alloc = make([]uint32, len(r.GPUs))
	for i, g := range r.GPUs {
		if left == 0 {
			break
		}
		if g.VRAMBytes < n.gpu.MinVRAMBytes || !modelMatches(g.Model, n.gpu.Models) || i >= len(pr.Used.GPUs) {
			continue
		}
		free := uint64(g.Count - min(g.Count, pr.Used.GPUs[i]))
		take := min(free, left)
		alloc[i] = uint32(take)
		left -= take
	}
	if left > 0 {
		return nil, 0, false
	}
	return alloc, price, true
}

// hold and release move a job's resources in and out of pr.Used.
func hold(pr *Provider, j *Job) {
	pr.Used.MilliCPU = satAdd(pr.Used.MilliCPU, j.MilliCPU)
	pr.Used.MemoryBytes = satAdd(pr.Used.MemoryBytes, j.MemoryBytes)
	for i, n := range j.GPUAlloc {
		if i < len(pr.Used.GPUs) {
			pr.Used.GPUs[i] += n
		}
	}
}

func release(pr *Provider, j *Job) {
	pr.Used.MilliCPU -= min(pr.Used.MilliCPU, j.MilliCPU)
	pr.Used.MemoryBytes -= min(pr.Used.MemoryBytes, j.MemoryBytes)
	for i, n := range j.GPUAlloc {
		if i < len(pr.Used.GPUs) {
			pr.Used.GPUs[i] -= min(pr.Used.GPUs[i], n)
		}
	}
}
