package content

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// countingRouter records the multihashes announced through it (the DHT
// keys provider records by multihash; a reprovide passes raw CIDs).
type countingRouter struct {
	mu  sync.Mutex
	got map[string]int
}

func (r *countingRouter) Provide(_ context.Context, c cid.Cid, _ bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[string(c.Hash())]++
	return nil
}

func (r *countingRouter) FindProvidersAsync(context.Context, cid.Cid, int) <-chan peer.AddrInfo {
	ch := make(chan peer.AddrInfo)
	close(ch)
	return ch
}

func (r *countingRouter) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Only roots are announced (one per add or pin, not one per block), and
// every pinned root again each interval.
func TestProviderAnnouncesRootsOnly(t *testing.T) {
	ctx := context.Background()
	r := &countingRouter{got: map[string]int{}}
	svc, err := Start(ctx, t.TempDir(), newHost(t), ExchangeOptions{Routing: r, ReprovideInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Provider == nil {
		t.Fatal("no provider although the router can announce")
	}
	big, err := svc.Store.AddReader(ctx, bytes.NewReader(seededBytes(4<<20)), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	small, _ := svc.Store.AddReader(ctx, strings.NewReader("small"), AddOptions{})
	unpinned, _ := svc.Store.AddReader(ctx, strings.NewReader("not pinned"), AddOptions{NoPin: true})
	waitFor(t, 5*time.Second, "both roots announced", func() bool {
		s := r.snapshot()
		return s[string(big.Hash())] >= 1 && s[string(small.Hash())] >= 1
	})
	time.Sleep(100 * time.Millisecond)
	s := r.snapshot()
	if len(s) != 2 || s[string(unpinned.Hash())] != 0 {
		t.Errorf("announced %d keys; want only the two pinned roots (%s, %s), not the %d blocks under them", len(s), big, small, len(dagCIDs(t, svc.Store, big)))
	}
	if ServiceOf(svc.Exchange.host.ID()) != svc {
		t.Error("ServiceOf does not find the running service")
	}

	// A reprovide announces every pinned root again.
	if err := svc.Provider.Reprovide(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "roots announced again", func() bool {
		s := r.snapshot()
		return s[string(big.Hash())] >= 2 && s[string(small.Hash())] >= 2
	})
	if got := r.snapshot()[string(unpinned.Hash())]; got != 0 {
		t.Errorf("unpinned root announced %d times", got)
	}
}

// On a real DHT between two hosts on loopback, a root added on A is found
// as provided by A from B.
func TestProviderOnDHT(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ha, hb := newHost(t), newHost(t)
	opts := []dht.Option{dht.Mode(dht.ModeServer), dht.ProtocolPrefix("/inferd-test"), dht.DisableAutoRefresh()}
	da, err := dht.New(ha, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer da.Close()
	db, err := dht.New(hb, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	connect(t, hb, ha)
	waitFor(t, 10*time.Second, "DHT routing tables filled", func() bool {
		return da.RoutingTable().Size() > 0 && db.RoutingTable().Size() > 0
	})
	svc, err := Start(ctx, t.TempDir(), ha, ExchangeOptions{Routing: da})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	c, err := svc.Store.AddReader(ctx, bytes.NewReader(seededBytes(1<<20)), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "B finds A as a provider of the root", func() bool {
		fctx, fcancel := context.WithTimeout(ctx, time.Second)
		defer fcancel()
		for p := range db.FindProvidersAsync(fctx, c, 1) {
			if p.ID == ha.ID() {
				return true
			}
		}
		return false
	})
}

// A node that is not connected to the holder finds it through the DHT
// (its provider record for the root) and fetches from it.
func TestFetchFindsProviderOnDHT(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := []dht.Option{dht.Mode(dht.ModeServer), dht.ProtocolPrefix("/inferd-test"), dht.DisableAutoRefresh()}
	hs := [3]host.Host{newHost(t), newHost(t), newHost(t)}
	var ds [3]*dht.IpfsDHT
	for i, h := range hs {
		d, err := dht.New(h, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ds[i] = d
	}
	// a - b - c: c does not know a.
	connect(t, hs[1], hs[0])
	connect(t, hs[2], hs[1])
	waitFor(t, 10*time.Second, "DHT routing tables filled", func() bool {
		return ds[0].RoutingTable().Size() > 0 && ds[1].RoutingTable().Size() >= 2 && ds[2].RoutingTable().Size() > 0
	})
	a, err := Start(ctx, t.TempDir(), hs[0], ExchangeOptions{Routing: ds[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	data := seededBytes(3 << 20)
	root, err := a.Store.AddReader(ctx, bytes.NewReader(data), AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the root's provider record on the DHT", func() bool {
		fctx, fcancel := context.WithTimeout(ctx, time.Second)
		defer fcancel()
		for p := range ds[1].FindProvidersAsync(fctx, root, 1) {
			if p.ID == hs[0].ID() {
				return true
			}
		}
		return false
	})
	// The DHT's own lookups may have connected c to a while filling its
	// routing table: drop that connection, so that c reaches a again only
	// through what the DHT tells it.
	if hs[2].Network().Connectedness(hs[0].ID()) == network.Connected {
		hs[2].Network().ClosePeer(hs[0].ID())
		waitFor(t, 5*time.Second, "c disconnected from a", func() bool {
			return hs[2].Network().Connectedness(hs[0].ID()) != network.Connected
		})
	}
	c, err := Start(ctx, t.TempDir(), hs[2], ExchangeOptions{Routing: ds[2]})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Exchange.Get(ctx, root, "", FetchOptions{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if hs[2].Network().Connectedness(hs[0].ID()) != network.Connected {
		t.Error("c fetched without connecting to a?")
	}
	if res.Received != res.Blocks || res.Size != int64(len(data)) {
		t.Errorf("fetch through the DHT: %+v", res)
	}
	r, err := c.Store.Cat(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("fetched bytes differ")
	}
}
