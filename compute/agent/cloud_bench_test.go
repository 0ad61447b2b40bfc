package agent

import (
	"context"
	"slices"
	"testing"
	"time"

	ledgercompute "github.com/inferd/inferd/ledger/compute"
)

// BenchmarkCloudFirstOutput measures a container batch job from its
// assignment (the block the provider sees it in) to its outputs added to
// the content store and the result ready to report, on real podman, for
// an image already loaded (cached by CID) and for one fetched and loaded
// again each time (the archive comes from a local store here, not over
// bitswap: the network part is content's own benchmark). Run:
//
//	go test ./compute/agent/ -run '^$' -bench BenchmarkCloudFirstOutput -benchtime 20x
func BenchmarkCloudFirstOutput(b *testing.B) {
	for _, mode := range []string{"cached", "fetched"} {
		b.Run(mode, func(b *testing.B) {
			r := newCloudRig(b)
			ctx := context.Background()
			r.stepCloud(ctx)
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				if mode == "fetched" {
					r.cloud.cfg.Runner.RemoveImage(ctx, r.image.String())
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
				if j := r.job(id); j.Status != ledgercompute.JobDone {
					b.Fatalf("job %d: %s %s: %q", id, j.Status, j.Failure, r.read(j.Logs, ""))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "median-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		})
	}
}
