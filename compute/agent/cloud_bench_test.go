package agent

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/content"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/p2p/p2ptest"
)

// BenchmarkCloudFirstOutput measures a container batch job from its
// assignment (the block the provider sees it in) to its first output: the
// job's /out added to the content store and the result ready to report
// (a batch job's outputs exist once it exits), on real podman. Two cases:
//
//   - cached: the image is in the provider's podman storage under its CID
//     (loaded by the first job), so nothing is fetched;
//   - fetched: before each job the image is removed from podman and its
//     blocks from the provider's content store; the archive lives only on
//     a second libp2p host on loopback, and the provider fetches it over
//     the real content exchange (the DAG stream protocol, bitswap behind
//     it), exports it and loads it, as a node does (node.agentHost.FetchFile).
//
// It reports the median and p99 in ms (and, fetched, the fetch's median).
// It skips without root, podman or busybox. Run:
//
//	go test ./compute/agent/ -run '^$' -bench BenchmarkCloudFirstOutput -benchtime 20x
func BenchmarkCloudFirstOutput(b *testing.B) {
	for _, mode := range []string{"cached", "fetched"} {
		b.Run(mode, func(b *testing.B) {
			r := newCloudRig(b)
			ctx := context.Background()
			var nf *netFiles
			if mode == "fetched" {
				nf = newNetFiles(b, r)
				r.cloud.cfg.Files = nf // before the agent's first step
			}
			r.stepCloud(ctx)
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				if nf != nil {
					nf.forget(ctx, b, r)
				}
				r.submit(ctx, r.batch(r.image, "echo x > /out/o"))
				r.step(ctx) // assigned in this block
				id := uint64(i + 1)
				if j := r.job(id); j.Status != ledgercompute.JobAssigned {
					b.Fatalf("job %d not assigned: %+v", id, j)
				}
				t0 := time.Now()
				r.cloud.Step(ctx, r.n.height)
				r.cloud.Wait()
				lat = append(lat, time.Since(t0))
				r.step(ctx)
				j := r.job(id)
				if j.Status != ledgercompute.JobDone {
					b.Fatalf("job %d: %s %s: %q", id, j.Status, j.Failure, r.read(j.Logs, ""))
				}
				if got := r.read(j.Outputs, "o"); got != "x\n" {
					b.Fatalf("job %d output o = %q, want \"x\\n\"", id, got)
				}
				if nf != nil {
					nf.check(b, id)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			if nf != nil {
				slices.Sort(nf.took)
				b.ReportMetric(float64(nf.took[len(nf.took)/2].Microseconds())/1000, "fetch-median-ms")
			}
		})
	}
}

// netFiles is a provider's Files over a real content store and exchange on
// a libp2p host, connected to a seeder host that alone holds the image.
// Outputs and logs still go to disk (diskFiles), where the rig reads them.
type netFiles struct {
	*diskFiles
	store *content.Store
	ex    *content.Exchange

	mu       sync.Mutex
	took     []time.Duration // each fetch's duration
	received int             // blocks received from the seeder by the last fetch
	held     int             // blocks the store already had at the last fetch
}

func newNetFiles(b *testing.B, r *cloudRig) *netFiles {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	provHost, seedHost := p2ptest.Pair(b)
	seedStore, err := content.Open(filepath.Join(b.TempDir(), "seed"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { seedStore.Close() })
	seedEx := content.NewExchange(ctx, seedHost, seedStore, content.ExchangeOptions{})
	b.Cleanup(func() { seedEx.Close() })
	// The seeder adds the archive as `inferd add` does: the same CID.
	r.files.mu.Lock()
	archive := r.files.paths[r.image.String()]
	r.files.mu.Unlock()
	c, err := seedStore.Add(ctx, archive, content.AddOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if c != r.image {
		b.Fatalf("the seeder added the image as %s, the rig named it %s", c, r.image)
	}
	provStore, err := content.Open(filepath.Join(b.TempDir(), "prov"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { provStore.Close() })
	provEx := content.NewExchange(ctx, provHost, provStore, content.ExchangeOptions{})
	b.Cleanup(func() { provEx.Close() })
	return &netFiles{diskFiles: r.files, store: provStore, ex: provEx}
}

// FetchFile is the node's (node.agentHost.FetchFile): fetch unpinned, then
// export to path.
func (f *netFiles) FetchFile(ctx context.Context, c cid.Cid, path string) error {
	f.fetches.Add(1)
	res, err := f.ex.Get(ctx, c, "", content.FetchOptions{Timeout: time.Minute, NoPin: true})
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.took = append(f.took, res.Duration)
	f.received, f.held = res.Received, res.Held
	f.mu.Unlock()
	return f.store.Export(ctx, c, path)
}

// forget removes the image from podman and its blocks from the provider's
// store, so that the next job fetches it from the seeder again.
func (f *netFiles) forget(ctx context.Context, b *testing.B, r *cloudRig) {
	if err := r.cloud.cfg.Runner.RemoveImage(ctx, r.image.String()); err != nil {
		b.Fatalf("remove the image from podman: %v", err)
	}
	if _, err := f.store.GC(ctx); err != nil {
		b.Fatalf("gc the provider's store: %v", err)
	}
	if has, _ := f.store.Has(ctx, r.image); has {
		b.Fatal("the image's root block survived the provider's gc")
	}
	f.mu.Lock()
	f.received, f.held = 0, -1
	f.mu.Unlock()
}

// check fails the benchmark unless job id's image came from the seeder.
func (f *netFiles) check(b *testing.B, id uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.held != 0 || f.received == 0 {
		b.Fatalf("job %d: the image fetch received %d blocks with %d already held; want all from the seeder", id, f.received, f.held)
	}
}
