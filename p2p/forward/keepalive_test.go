package forward

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"testing"
)

// benchClient is the HTTP client of BenchmarkForward and
// TestForwardKeepAlive, the same for direct and forwarded requests so that
// the two differ only in the path the bytes take.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
}

// TestForwardKeepAlive: sequential requests through the forwarder, as an
// HTTP client with keep-alive sends them, ride one local TCP connection,
// so one stream and one upstream connection, as they do when the client
// calls the upstream directly.
func TestForwardKeepAlive(t *testing.T) {
	r := newRig(t)
	url := r.listen(t, r.owner)
	big := make([]byte, 1<<20) // the 1 MiB bodies of BenchmarkForward
	rand.Read(big)
	const n = 20
	for _, via := range []struct{ name, url string }{{"direct", r.upstream.URL}, {"forwarded", url}} {
		r.upConns.Store(0)
		r.localConns.Store(0)
		c := benchClient()
		for i := range n {
			var resp *http.Response
			var err error
			var want []byte
			if i%2 == 0 {
				resp, err = c.Get(via.url + "/v1/predict")
				want = []byte(`{"model":"m","prediction":[1,2,3]}`)
			} else {
				resp, err = c.Post(via.url+"/echo", "application/octet-stream", bytes.NewReader(big))
				want = big
			}
			if err != nil {
				t.Fatalf("%s request %d: %v", via.name, i, err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, want) {
				t.Fatalf("%s request %d: status %d, %d bytes (want %d), %v", via.name, i, resp.StatusCode, len(got), len(want), err)
			}
		}
		c.CloseIdleConnections()
		if got := r.upConns.Load(); got != 1 {
			t.Errorf("%s: %d sequential requests opened %d upstream connections, want 1 (keep-alive lost)", via.name, n, got)
		}
		if via.name == "forwarded" {
			if got := r.localConns.Load(); got != 1 {
				t.Errorf("forwarded: %d sequential requests opened %d connections to the local listener, want 1", n, got)
			}
		}
	}
}
