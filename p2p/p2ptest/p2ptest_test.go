package p2ptest

import (
	"io"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
)

func TestPairCarriesAStream(t *testing.T) {
	a, b := Pair(t)
	b.SetStreamHandler("/p2ptest/echo", func(s network.Stream) {
		io.Copy(s, s)
		s.Close()
	})
	s, err := a.NewStream(t.Context(), b.ID(), "/p2ptest/echo")
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("ping"))
	s.CloseWrite()
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "ping" {
		t.Fatalf("echo over the pair: %q %v", got, err)
	}
	for _, ad := range a.Addrs() {
		if !strings.HasPrefix(ad.String(), "/ip4/127.0.0.1/tcp/") {
			t.Fatalf("host listens on %s, want TCP on loopback only", ad)
		}
	}
}
