package node

import (
	"slices"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestPublishAddrs(t *testing.T) {
	var in []ma.Multiaddr
	for _, s := range []string{"/ip4/127.0.0.1/tcp/26656", "/ip4/0.0.0.0/tcp/26656", "/ip4/10.0.0.5/tcp/26656",
		"/ip4/9.9.9.9/tcp/26656/p2p/12D3KooWMSpiTVkAtEFhWzq15fRNWVyaSYUxddbZoQtc74a3atTM", "/ip6/fe80::1/tcp/1",
		"/ip4/9.9.9.9/udp/26656/quic-v1", "/ip4/10.0.0.5/tcp/26656", "/ip6/::1/tcp/26656"} {
		in = append(in, ma.StringCast(s))
	}
	got := PublishAddrs(in)
	want := []string{"/ip4/9.9.9.9/tcp/26656", "/ip4/9.9.9.9/udp/26656/quic-v1", "/ip4/10.0.0.5/tcp/26656", "/ip4/127.0.0.1/tcp/26656"}
	if !slices.Equal(got, want) {
		t.Fatalf("PublishAddrs:\n got %q\nwant %q", got, want)
	}
	if got := PublishAddrs([]ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/1")}); !slices.Equal(got, []string{"/ip4/127.0.0.1/tcp/1"}) {
		t.Fatalf("a devnet's loopback address: %q", got)
	}
}
