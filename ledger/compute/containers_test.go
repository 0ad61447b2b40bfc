package compute

import (
	"strings"
	"testing"

	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// cloudParams: testParams with short container deadlines and probe windows.
var cloudParams = strings.Replace(testParams, `"reexec_window_blocks":3`,
	`"reexec_window_blocks":3,"container_deadline_blocks":10,"lease_probe_blocks":3,"lease_down_windows":2`, 1)

var imageCID = testCID("image.oci")

// patient raises the downtime jail threshold, for tests whose providers
// do not run the challenge.
func patient(params string) string {
	return strings.Replace(params, `"downtime_jail_threshold":3`, `"downtime_jail_threshold":1000`, 1)
}

func batchSpec(t testing.TB, edit func(*jobspec.Spec)) []byte {
	t.Helper()
	s := &jobspec.Spec{Kind: jobspec.KindBatch, Image: jobspec.Image{CID: imageCID},
		Resources: jobspec.Resources{MilliCPU: 1000, MemoryBytes: 64 << 20}, TimeLimit: 60, MaxPrice: 1000}
	if edit != nil {
		edit(s)
	}
	b, err := jobspec.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serviceSpec(t testing.TB, perBlock, blocks uint64) []byte {
	t.Helper()
	s := &jobspec.Spec{Kind: jobspec.KindService, Image: jobspec.Image{CID: imageCID},
		Resources: jobspec.Resources{MilliCPU: 500, MemoryBytes: 64 << 20},
		Service:   &jobspec.Service{Port: 8080, HealthPath: "/healthz", DurationBlocks: blocks, PricePerBlock: perBlock}}
	b, err := jobspec.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cpuBox(mcpu, mem uint64) Resources {
	return Resources{Containers: true, MilliCPU: mcpu, MemoryBytes: mem, GPUs: []GPUGroup{}, LeasePrice: 7}
}

func setRes(r Resources) ledger.Msg {
	return ledger.NewMsg(MsgTypeSetResources, MsgSetResources{Resources: r})
}

func submitC(spec []byte) ledger.Msg {
	return ledger.NewMsg(MsgTypeJobSubmitContainer, MsgJobSubmitContainer{Spec: spec})
}

func cresult(id uint64, outputs string, exit int64, failure string) ledger.Msg {
	return ledger.NewMsg(MsgTypeJobContainerResult, MsgJobContainerResult{Job: id, Outputs: outputs, Logs: testCID("logs"), ExitCode: exit, Failure: failure})
}

// TestSetResourcesChecked: every bad field is refused with what to do; a
// provider without resources stays Wasm-only; the query shows them.
func TestSetResourcesChecked(t *testing.T) {
	n := newNet(t, cloudParams, 1, 2)
	prov := n.accts[0]
	mustFail(t, n.block(n.tx(prov, setRes(cpuBox(1000, 1<<30)))), ErrUnknownProvider)
	mustOK(t, n.block(n.tx(prov, register(10, 0, 2, 2*ledger.UinfPerINF))))
	if p := n.provider(prov.addr); p.Resources.Containers {
		t.Fatal("a new provider is Wasm-only")
	}
	bad := []Resources{
		{MilliCPU: 1000}, // resources without containers
		{Containers: true, MilliCPU: 0, MemoryBytes: 1 << 30}, // no cpu
		{Containers: true, MilliCPU: 1000, MemoryBytes: 1},    // too little memory
		{Containers: true, MilliCPU: 1000, MemoryBytes: 1 << 30, GPUs: []GPUGroup{{Model: "", VRAMBytes: 1, Count: 1}}},
		{Containers: true, MilliCPU: 1000, MemoryBytes: 1 << 30, GPUs: []GPUGroup{{Model: "H100", VRAMBytes: 0, Count: 1}}},
		{Containers: true, MilliCPU: 1000, MemoryBytes: 1 << 30, GPUs: []GPUGroup{{Model: "H100", VRAMBytes: 1, Count: 0}}},
		{Containers: true, MilliCPU: 1000, MemoryBytes: 1 << 30, LeasePrice: DefaultParams().MaxJobPrice + 1},
	}
	for i, r := range bad {
		res := n.block(n.tx(prov, setRes(r)))
		mustFail(t, res, ErrBadResources)
		if msg := res.Txs[0].Error; !strings.Contains(msg, "invalid provider resources: ") || len(msg) < 50 {
			t.Fatalf("case %d: error %q does not say what to do", i, msg)
		}
	}
	h100 := Resources{Containers: true, MilliCPU: 8000, MemoryBytes: 64 << 30, AllowNetwork: true, LeasePrice: 9,
		GPUs: []GPUGroup{{Model: "NVIDIA H100 80GB HBM3", VRAMBytes: 80 << 30, Count: 2}}}
	mustOK(t, n.block(n.tx(prov, setRes(h100))))
	var infos []ProviderInfo
	n.query(func(ctx *ledger.Context) { infos = n.cm.Providers(ctx) })
	if len(infos) != 1 || infos[0].Resources.MilliCPU != 8000 || infos[0].Resources.GPUs[0].Count != 2 ||
		len(infos[0].Used.GPUs) != 1 || infos[0].Resources.LeasePrice != 9 {
		t.Fatalf("query: %+v", infos)
	}
	// Back to Wasm-only.
	mustOK(t, n.block(n.tx(prov, setRes(Resources{}))))
	if p := n.provider(prov.addr); p.Resources.Containers || len(p.Resources.GPUs) != 0 {
		t.Fatalf("resources %+v", p.Resources)
	}
}

// TestGPUJobNeverOnCPUProvider: a GPU job is not assigned to a cheap
// CPU-only provider nor to GPUs of the wrong model or too little VRAM; it
// expires at its deadline with a full refund. A fitting GPU provider
// registered in time gets the next one.
func TestGPUJobNeverOnCPUProvider(t *testing.T) {
	n := newNet(t, cloudParams, 1, 4)
	cpu, small, user, big := n.accts[0], n.accts[1], n.accts[2], n.accts[3]
	mustOK(t, n.block(
		n.tx(cpu, register(5, 0, 4, 2*ledger.UinfPerINF), setRes(cpuBox(64000, 256<<30))),
		n.tx(small, register(6, 0, 4, 2*ledger.UinfPerINF), setRes(Resources{Containers: true, MilliCPU: 64000, MemoryBytes: 256 << 30,
			GPUs: []GPUGroup{{Model: "NVIDIA A100-SXM4-40GB", VRAMBytes: 40 << 30, Count: 8}, {Model: "Tesla T4", VRAMBytes: 16 << 30, Count: 4}}})),
	))
	gpuJob := batchSpec(t, func(s *jobspec.Spec) {
		s.Resources.GPU = &jobspec.GPU{Count: 1, MinVRAMBytes: 80 << 30, Models: []string{"H100", "A100"}}
	})
	bal := n.balance(user.addr)
	mustOK(t, n.block(n.tx(user, submitC(gpuJob))))
	j := n.job(1)
	n.blocksTo(j.Deadline - 1)
	if j := n.job(1); j.Status != JobOpen {
		t.Fatalf("GPU job on %s (%s)", j.Provider, j.Status)
	}
	n.block()
	if j := n.job(1); j.Status != JobExpired || j.Refunded != 1000 || j.Charged != 0 {
		t.Fatalf("job: %+v", j)
	}
	if got := n.balance(user.addr); got != bal-testFee {
		t.Fatalf("balance %d, want %d (full refund)", got, bal-testFee)
	}
	mustOK(t, n.block(n.tx(big, register(50, 0, 4, 2*ledger.UinfPerINF), setRes(Resources{Containers: true, MilliCPU: 16000,
		MemoryBytes: 128 << 30, GPUs: []GPUGroup{{Model: "NVIDIA H100 80GB HBM3", VRAMBytes: 80 << 30, Count: 1}}}))))
	mustOK(t, n.block(n.tx(user, submitC(gpuJob)), n.tx(user, submitC(gpuJob))))
	if j := n.job(2); j.Status != JobAssigned || j.Provider != big.addr || j.Price != 50 || len(j.GPUAlloc) != 1 || j.GPUAlloc[0] != 1 {
		t.Fatalf("job 2: %+v", j)
	}
	// Its one H100 is held: the second job waits, and the GPU list cannot
	// change under it.
	if j := n.job(3); j.Status != JobOpen {
		t.Fatalf("job 3 over-committed the GPU: %s on %s", j.Status, j.Provider)
	}
	mustFail(t, n.block(n.tx(big, setRes(cpuBox(16000, 128<<30)))), ErrBusy)
	mustOK(t, n.block(n.tx(big, cresult(2, testCID("out"), 0, FailNone))))
	n.block()
	if j := n.job(3); j.Status != JobAssigned || j.Provider != big.addr {
		t.Fatalf("job 3 after the GPU freed: %s", j.Status)
	}
}

// TestContainerMatching: cheapest fitting provider; Wasm-only, no-network
// and no-registry providers are passed over for jobs that need those;
// memory in use is not over-committed; services go by lease price.
func TestContainerMatching(t *testing.T) {
	n := newNet(t, cloudParams, 1, 4)
	wasm, closed, open, user := n.accts[0], n.accts[1], n.accts[2], n.accts[3]
	openBox := cpuBox(4000, 1<<30)
	openBox.AllowNetwork, openBox.AllowRegistry, openBox.LeasePrice = true, true, 9
	closedBox := cpuBox(4000, 1<<30)
	closedBox.LeasePrice = 3
	mustOK(t, n.block(
		n.tx(wasm, register(1, 0, 8, 2*ledger.UinfPerINF)),
		n.tx(closed, register(2, 0, 8, 2*ledger.UinfPerINF), setRes(closedBox)),
		n.tx(open, register(3, 0, 8, 2*ledger.UinfPerINF), setRes(openBox)),
	))
	ref := "docker.io/library/busybox@sha256:" + strings.Repeat("ab", 32)
	mustOK(t, n.block(
		n.tx(user, submitC(batchSpec(t, nil))),
		n.tx(user, submitC(batchSpec(t, func(s *jobspec.Spec) { s.Network = true }))),
		n.tx(user, submitC(batchSpec(t, func(s *jobspec.Spec) { s.Image = jobspec.Image{Ref: ref} }))),
		n.tx(user, submitC(batchSpec(t, func(s *jobspec.Spec) { s.Resources.MemoryBytes = 700 << 20 }))),
		n.tx(user, submitC(batchSpec(t, func(s *jobspec.Spec) { s.Resources.MemoryBytes = 700 << 20 }))),
		n.tx(user, submitC(batchSpec(t, func(s *jobspec.Spec) { s.Resources.MemoryBytes = 700 << 20 }))),
		n.tx(user, ledger.NewMsg(MsgTypeJobSubmitContainer, MsgJobSubmitContainer{Spec: serviceSpec(t, 10, 5)})),
	))
	want := map[uint64]string{1: "closed", 2: "open", 3: "open", 4: "closed", 5: "open", 6: "", 7: "closed"}
	names := map[string]string{closed.addr.String(): "closed", open.addr.String(): "open", wasm.addr.String(): "wasm"}
	for id, w := range want {
		j := n.job(id)
		got := ""
		if j.Status == JobAssigned {
			got = names[j.Provider.String()]
		}
		if got != w {
			t.Fatalf("job %d on %q, want %q (%s)", id, got, w, j.Status)
		}
	}
	// The service went to the cheaper lease price, and is charged that.
	if l := n.job(7).Lease; l.PricePerBlock != 3 || l.MaxPerBlock != 10 {
		t.Fatalf("lease %+v", l)
	}
	if p := n.provider(closed.addr); p.Used.MemoryBytes != 64<<20+700<<20+64<<20 || p.Used.MilliCPU != 2500 {
		t.Fatalf("closed box in use: %+v", p.Used)
	}
}

// TestContainerResultClasses: who pays for each failure class; the
// provider is never slashed; bad reports are refused.
func TestContainerResultClasses(t *testing.T) {
	n := newNet(t, patient(cloudParams), 1, 2)
	prov, user := n.accts[0], n.accts[1]
	bond := uint64(2 * ledger.UinfPerINF)
	mustOK(t, n.block(n.tx(prov, register(40, 0, 1, bond), setRes(cpuBox(4000, 1<<30)))))
	cases := []struct {
		failure string
		exit    int64
		charged uint64
		status  string
	}{
		{FailNone, 0, 40, JobDone},
		{FailImageInvalid, -1, 40, JobFailed},
		{FailExitNonzero, 3, 40, JobFailed},
		{FailOOM, 137, 40, JobFailed},
		{FailTimeLimit, 137, 40, JobFailed},
		{FailOutputLimit, 0, 40, JobFailed},
		{FailProviderError, -1, 0, JobFailed},
	}
	for i, c := range cases {
		id := uint64(i + 1)
		mustOK(t, n.block(n.tx(user, submitC(batchSpec(t, nil)))))
		if i == 0 {
			mustFail(t, n.block(n.tx(prov, cresult(id, "", 0, FailNone))), ledger.ErrInvalidMsg)
			mustFail(t, n.block(n.tx(prov, cresult(id, testCID("o"), 1, FailNone))), ledger.ErrInvalidMsg)
			mustFail(t, n.block(n.tx(prov, cresult(id, testCID("o"), 0, FailExitNonzero))), ledger.ErrInvalidMsg)
			mustFail(t, n.block(n.tx(prov, cresult(id, testCID("o"), 0, "crashed"))), ErrBadFailure)
			mustFail(t, n.block(n.tx(prov, cresult(id, "bafy", 0, FailNone))), ErrBadCID)
			mustFail(t, n.block(n.tx(user, cresult(id, testCID("o"), 0, FailNone))), ErrNotAssignee)
			mustFail(t, n.block(n.tx(prov, result(id, testCID("o")))), ErrNotWasm)
		}
		bal, burned := n.balance(user.addr), n.supply().Burned
		outputs := ""
		if c.failure == FailNone {
			outputs = testCID("outputs")
		}
		mustOK(t, n.block(n.tx(prov, cresult(id, outputs, c.exit, c.failure))))
		j := n.job(id)
		if j.Status != c.status || j.Charged != c.charged || j.Refunded != 1000-c.charged || j.Failure != c.failure || j.ExitCode != c.exit {
			t.Fatalf("%s: %+v", c.failure, j)
		}
		if got := n.balance(user.addr); got != bal+1000-c.charged {
			t.Fatalf("%s: user balance %d, want %d (the refund)", c.failure, got, bal+1000-c.charged)
		}
		if got := n.supply().Burned - burned; got != c.charged+testFee {
			t.Fatalf("%s: burned %d, want the charge %d + the report's fee", c.failure, got, c.charged)
		}
		if p := n.provider(prov.addr); p.Bond != bond || p.ActiveJobs != 0 || p.Used.MilliCPU != 0 {
			t.Fatalf("%s: provider %+v", c.failure, p)
		}
	}
	var served uint64
	n.query(func(ctx *ledger.Context) { served = n.cm.ServedThisEpoch(ctx, prov.addr) })
	if served += n.provider(prov.addr).ServedFees; served != 40 {
		t.Fatalf("served %d: only the done job counts", served)
	}
}

// TestSubmitContainerChecked: a spec that does not decode, is over the cap
// or asks for more than max_job_price is refused, naming the problem.
func TestSubmitContainerChecked(t *testing.T) {
	n := newNet(t, strings.Replace(cloudParams, `"min_bond":1000000`, `"min_bond":1000000,"max_spec_bytes":600`, 1), 1, 1)
	user := n.accts[0]
	mustFail(t, n.block(n.tx(user, submitC([]byte{0xa0}))), ErrBadSpec)
	res := n.block(n.tx(user, submitC(batchSpec(t, func(s *jobspec.Spec) { s.Args = []string{strings.Repeat("x", 700)} }))))
	mustFail(t, res, ErrSpecTooLarge)
	mustFail(t, n.block(n.tx(user, submitC(batchSpec(t, func(s *jobspec.Spec) { s.MaxPrice = DefaultParams().MaxJobPrice + 1 })))), ErrBadPrice)
	mustFail(t, n.block(n.tx(user, ledger.NewMsg(MsgTypeJobSubmitContainer, MsgJobSubmitContainer{Spec: serviceSpec(t, 10, 5),
		Allowed: []keys.Address{user.addr}}))), ledger.ErrInvalidMsg)
	mustFail(t, n.block(n.tx(user, ledger.NewMsg(MsgTypeJobSubmitContainer, MsgJobSubmitContainer{Spec: batchSpec(t, nil),
		Allowed: []keys.Address{n.vals[0].addr}}))), ledger.ErrInvalidMsg)
}
