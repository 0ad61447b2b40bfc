package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/p2p"
)

// rogueSnapshots relays a validator's snapshots and blocks, flipping a byte
// in every chunk it serves.
type rogueSnapshots struct {
	h      *p2p.Host
	target peer.ID
	served atomic.Int32
}

func (r *rogueSnapshots) ListSnapshots() ([]byte, error) {
	return r.h.ListSnapshots(context.Background(), r.target)
}

func (r *rogueSnapshots) LoadSnapshotChunk(h uint64, f, i uint32) ([]byte, error) {
	b, err := r.h.LoadSnapshotChunk(context.Background(), r.target, h, f, i)
	if err != nil {
		return nil, err
	}
	r.served.Add(1)
	b = bytes.Clone(b)
	b[len(b)/2] ^= 0x01
	return b, nil
}

func (r *rogueSnapshots) Height() uint64 {
	h, _ := r.h.PeerHeight(context.Background(), r.target)
	return h
}

func (r *rogueSnapshots) BlockBytes(h uint64) ([]byte, error) {
	raws, err := r.h.FetchBlocks(context.Background(), r.target, h, 1)
	if err != nil {
		return nil, err
	}
	if len(raws) == 0 {
		return nil, errors.New("no block")
	}
	return raws[0], nil
}

// A node whose bootstrap peers are a validator and a peer that serves
// corrupted snapshot chunks rejects the corrupting peer, fetches the chunk
// from the validator, and reaches the tip with the validators' app hash.
func TestStateSyncRejectsCorruptPeer(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 20*time.Millisecond)
	for _, nd := range tn.info.Nodes {
		c, err := node.LoadConfig(nd.Home)
		if err != nil {
			t.Fatal(err)
		}
		c.StateSync.SnapshotInterval, c.StateSync.SnapshotKeepRecent = 50, 2
		if err := node.SaveConfig(nd.Home, c); err != nil {
			t.Fatal(err)
		}
	}
	tn.startAll()
	n0 := tn.info.Nodes[0]
	waitHeight(t, n0.API, 60, 60*time.Second)

	_, priv, _ := keys.Generate(rand.Reader)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	host, err := p2p.New(ctx, p2p.Config{ChainID: tn.info.ChainID, PrivKey: priv, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	addr, _ := ma.NewMultiaddr(n0.P2P)
	target, _ := peer.AddrInfoFromP2pAddr(addr)
	if err := host.Connect(ctx, *target); err != nil {
		t.Fatal(err)
	}
	rogue := &rogueSnapshots{h: host, target: target.ID}
	host.ServeSnapshots(rogue)
	host.ServeBlocks(rogue)
	rogueAddr := host.Addrs()[0].String() + "/p2p/" + host.ID().String()

	// Which peer a node asks first for a chunk depends on its peer list's
	// order: join fresh nodes until one asks the corrupting peer (each has
	// it and node 3 as its bootstrap peers).
	for attempt := 1; attempt <= 8; attempt++ {
		before := rogue.served.Load()
		name := fmt.Sprintf("statesync-%d", attempt)
		p, api := tn.joinNode(t, name, func(c *node.Config) {
			c.StateSync.Enable = true
			c.P2P.BootstrapPeers = []string{rogueAddr, tn.info.Nodes[3].P2P}
		})
		// Pick the tip only once the node has restored: the chain moves on
		// while it waits for a snapshot, and heights below the snapshot it
		// restores are not on the node (410 height_pruned).
		logPath := filepath.Join(tn.dir, name, "node.log")
		var log string
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			logb, _ := os.ReadFile(logPath)
			if log = string(logb); strings.Contains(log, "state sync: restored") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no restore in the log within 60 s:\n%s", log)
			}
		}
		cur, _ := statusOf(n0.API)
		tip := waitHeight(t, n0.API, cur.Height+3, 30*time.Second) // above the snapshot it restored
		waitHeight(t, api, tip.Height, 60*time.Second)
		if b, ref := blockAt(t, api, tip.Height), blockAt(t, n0.API, tip.Height); b.AppHash != ref.AppHash {
			t.Fatalf("app hash %s at %d, validators %s", b.AppHash, tip.Height, ref.AppHash)
		}
		logb, _ := os.ReadFile(logPath)
		log = string(logb)
		if rogue.served.Load() == before {
			t.Logf("attempt %d: the node asked the honest peer first", attempt)
			p.kill(syscall.SIGTERM)
			continue
		}
		if !strings.Contains(log, "state sync: peer rejected") || !strings.Contains(log, host.ID().String()) {
			t.Fatalf("the corrupting peer served a chunk but no rejection was logged:\n%s", log)
		}
		t.Logf("attempt %d: the corrupting peer served %d chunks, was rejected, and the chunks came from node 3", attempt, rogue.served.Load()-before)
		return
	}
	t.Skip("eight nodes in a row asked the honest peer first; TestCorruptedChunkRefetched (node/statesync) covers the rejection")
}
