package forward

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// BenchmarkForward compares requests through the forwarder (a local TCP
// listener, a libp2p stream over loopback, the provider's pipe) with the
// same upstream called directly, in one run: small JSON GETs and 1 MiB
// POST bodies echoed back. It reports req/s and the median latency of
// each; the goal (issue 11) is forwarded >= 80% of direct req/s and
// < 1 ms added median latency. Both use the same client settings
// (benchClient), and upstream-conns shows keep-alive held. Run:
//
//	go test ./p2p/forward/ -run '^$' -bench BenchmarkForward -benchtime 2000x
func BenchmarkForward(b *testing.B) {
	r := newRig(b)
	fwd := r.listen(b, r.owner)
	big := make([]byte, 1<<20)
	rand.Read(big)
	for _, size := range []struct {
		name string
		body []byte
	}{{"json", nil}, {"1MiB", big}} {
		for _, via := range []struct{ name, url string }{{"direct", r.upstream.URL}, {"forwarded", fwd}} {
			b.Run(size.name+"/"+via.name, func(b *testing.B) {
				c := benchClient()
				defer c.CloseIdleConnections()
				conns0 := r.upConns.Load()
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					var resp *http.Response
					var err error
					if size.body == nil {
						resp, err = c.Get(via.url + "/v1/predict")
					} else {
						resp, err = c.Post(via.url+"/echo", "application/octet-stream", bytes.NewReader(size.body))
					}
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if size.body != nil && n != int64(len(size.body)) {
						b.Fatalf("echo of %d bytes came back as %d", len(size.body), n)
					}
					lat = append(lat, time.Since(t0))
				}
				el := time.Since(start)
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "median-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				// 1 when keep-alive holds: one connection (and stream) for all.
				b.ReportMetric(float64(r.upConns.Load()-conns0), "upstream-conns")
			})
		}
	}
}
