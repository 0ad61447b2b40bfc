package chain

import (
	"crypto/sha256"
	"fmt"
	"math/rand"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
)

// computePropParams: short compute periods so that container jobs,
// leases and their windows all happen within a property run.
const computePropParams = `{"min_bond":1000000,"unbonding_blocks":10,"epoch_blocks":10,"commit_deadline_blocks":3,
"attest_deadline_blocks":8,"downtime_jail_threshold":1000,"job_deadline_blocks":20,"job_min_run_blocks":2,"reexec_window_blocks":5,
"container_deadline_blocks":12,"lease_probe_blocks":3,"lease_down_windows":2,"reexec_ppm":300000}`

// propSeal is the sealed result of Wasm job id in the property test: a
// result (or, for some ids, an error) and a salt, both from the id.
func propSeal(id uint64) (result, errText string, salt []byte) {
	s := sha256.Sum256([]byte(fmt.Sprint("salt", id)))
	if id%5 == 0 {
		return "", "wasmrun: trap", s[:16]
	}
	return propCID(fmt.Sprint("out", id)), "", s[:16]
}

// propPeerID is a valid libp2p (Ed25519) peer ID for set_resources.
const propPeerID = "12D3KooWMSpiTVkAtEFhWzq15fRNWVyaSYUxddbZoQtc74a3atTM"

func propCID(s string) string {
	h, _ := mh.Sum([]byte(s), mh.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, h).String()
}

// randomSpec is a valid container spec (batch or service), sometimes with
// a GPU or network need no provider may meet.
func randomSpec(r *rand.Rand) []byte {
	s := &jobspec.Spec{Kind: jobspec.KindBatch, Image: jobspec.Image{CID: propCID("img")},
		Resources: jobspec.Resources{MilliCPU: uint64(100 + r.Intn(3000)), MemoryBytes: uint64(4+r.Intn(600)) << 20},
		TimeLimit: 60, MaxPrice: uint64(1 + r.Intn(5000)), Network: r.Intn(4) == 0}
	if r.Intn(4) == 0 {
		s.Resources.GPU = &jobspec.GPU{Count: uint64(1 + r.Intn(2)), MinVRAMBytes: uint64(r.Intn(100)) << 30}
	}
	if r.Intn(2) == 0 {
		s.Kind, s.TimeLimit, s.MaxPrice = jobspec.KindService, 0, 0
		s.Service = &jobspec.Service{Port: 8080, DurationBlocks: uint64(1 + r.Intn(30)), PricePerBlock: uint64(1 + r.Intn(50))}
	}
	b, err := jobspec.Encode(s)
	if err != nil {
		panic(err)
	}
	return b
}

var failures = []string{compute.FailNone, compute.FailImageInvalid, compute.FailExitNonzero, compute.FailOOM,
	compute.FailTimeLimit, compute.FailOutputLimit, compute.FailProviderError, "bogus"}

// randomComputeMsg is one compute message for the property test, with the
// sender it should come from (the assignee or owner where that matters,
// so that most of them are valid).
func (n *testNet) randomComputeMsg(r *rand.Rand, from *acct, everyone []*acct) (ledger.Msg, *acct) {
	byAddr := func(a keys.Address) *acct {
		for _, x := range everyone {
			if x.addr == a {
				return x
			}
		}
		return from
	}
	switch r.Intn(9) {
	case 0:
		return ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: uint64(1 + r.Intn(3000)), Capacity: uint32(1 + r.Intn(3)), Bond: 2 * ledger.UinfPerINF}), from
	case 1:
		res := compute.Resources{Containers: r.Intn(5) > 0, GPUs: []compute.GPUGroup{}}
		if res.Containers {
			res.MilliCPU, res.MemoryBytes, res.LeasePrice = uint64(1000+r.Intn(8000)), uint64(1+r.Intn(4))<<30, uint64(r.Intn(40))
			res.AllowNetwork = r.Intn(2) == 0
			if r.Intn(3) == 0 {
				res.GPUs = []compute.GPUGroup{{Model: "NVIDIA H100", VRAMBytes: 80 << 30, Count: uint32(1 + r.Intn(2))}}
			}
		}
		// The node's libp2p address, published or not (bad ones are
		// compute's unit tests). Picked from MilliCPU, not r, so the rest
		// of the sequence (and its coverage) stays as it was.
		if res.MilliCPU%2 == 1 {
			res.PeerID, res.Addrs = propPeerID, []string{"/ip4/127.0.0.1/tcp/26656"}
		}
		var provs []compute.ProviderInfo
		n.c.Query(n.height, func(ctx *ledger.Context) error { provs = n.c.Compute.Providers(ctx); return nil })
		if len(provs) > 0 && r.Intn(8) > 0 {
			from = byAddr(provs[r.Intn(len(provs))].Address)
		}
		return ledger.NewMsg(compute.MsgTypeSetResources, compute.MsgSetResources{Resources: res}), from
	case 2:
		var allowed []keys.Address
		if r.Intn(3) == 0 {
			allowed = []keys.Address{everyone[r.Intn(len(everyone))].addr}
		}
		return ledger.NewMsg(compute.MsgTypeJobSubmitContainer, compute.MsgJobSubmitContainer{Spec: randomSpec(r), Allowed: allowed}), from
	case 3, 4:
		// The assignee acts on one of its jobs: report a batch job, start
		// or (rarely) walk away from a lease.
		var jobs []compute.Job
		n.c.Query(n.height, func(ctx *ledger.Context) error { jobs = n.c.Compute.Jobs(ctx, compute.JobAssigned); return nil })
		if len(jobs) == 0 {
			break
		}
		j := jobs[r.Intn(len(jobs))]
		prov := byAddr(j.Provider)
		switch {
		case j.Kind == compute.KindWasm:
			res, errText, salt := propSeal(j.ID)
			c := compute.ResultCommitment(n.c.ChainID(), j.ID, j.Provider, res, errText, salt)
			return ledger.NewMsg(compute.MsgTypeJobResultCommit, compute.MsgJobResultCommit{Job: j.ID, Commitment: c[:]}), prov
		case j.Kind == compute.KindBatch:
			f := failures[r.Intn(len(failures))]
			exit := int64(0)
			if f == compute.FailExitNonzero || r.Intn(10) == 0 {
				exit = 1
			}
			return ledger.NewMsg(compute.MsgTypeJobContainerResult, compute.MsgJobContainerResult{Job: j.ID,
				Outputs: propCID("out"), Logs: propCID("logs"), ExitCode: exit, Failure: f}), prov
		case j.Kind == compute.KindService && r.Intn(8) > 0:
			return ledger.NewMsg(compute.MsgTypeLeaseStart, compute.MsgLeaseStart{Lease: j.ID}), prov
		default:
			return ledger.NewMsg(compute.MsgTypeUnregister, compute.MsgUnregister{}), prov
		}
	case 5, 6:
		// A running lease: its owner closes it (rarely) or a validator
		// operator attests its current window.
		var leases []compute.LeaseInfo
		n.c.Query(n.height, func(ctx *ledger.Context) error { leases = n.c.Compute.LiveLeases(ctx); return nil })
		if len(leases) == 0 {
			break
		}
		l := leases[r.Intn(len(leases))]
		if r.Intn(6) == 0 {
			return ledger.NewMsg(compute.MsgTypeLeaseClose, compute.MsgLeaseClose{Lease: l.ID}), byAddr(l.User)
		}
		if r.Intn(10) == 0 {
			return ledger.NewMsg(compute.MsgTypeLeaseAllow, compute.MsgLeaseAllow{Lease: l.ID, Allowed: []keys.Address{from.addr}}), byAddr(l.User)
		}
		w := l.Window
		if l.WindowEnd == n.height {
			w++ // the tx lands in the next block
		}
		val := n.vals[r.Intn(len(n.vals))]
		return ledger.NewMsg(compute.MsgTypeLeaseAttest, compute.MsgLeaseAttest{Lease: l.ID, Window: w, OK: r.Intn(3) > 0}), val
	case 7:
		return ledger.NewMsg(compute.MsgTypeJobSubmit, compute.MsgJobSubmit{Workload: propCID("wasm"), Input: propCID("in"),
			InputSize: 10, MaxPrice: uint64(1 + r.Intn(5000))}), from
	case 8:
		// A sealed result is revealed (early, on time, or with a wrong
		// salt); some are never revealed and missed.
		var jobs []compute.Job
		n.c.Query(n.height, func(ctx *ledger.Context) error { jobs = n.c.Compute.Jobs(ctx, compute.JobSealed); return nil })
		if len(jobs) == 0 || r.Intn(5) == 0 {
			break
		}
		j := jobs[r.Intn(len(jobs))]
		res, errText, salt := propSeal(j.ID)
		if r.Intn(6) == 0 {
			salt = salt[1:]
		}
		return ledger.NewMsg(compute.MsgTypeJobResultReveal, compute.MsgJobResultReveal{Job: j.ID, Result: res, Error: errText, Salt: salt}), byAddr(j.Provider)
	}
	return ledger.NewMsg(compute.MsgTypeJobSubmitContainer, compute.MsgJobSubmitContainer{Spec: randomSpec(r)}), from
}
