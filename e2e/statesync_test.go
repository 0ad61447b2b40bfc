package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/node"
)

// joinNode writes the home of a non-validator node that bootstraps from
// n0, with edit applied to its config, and starts it.
func (tn *testNet) joinNode(t *testing.T, name string, edit func(*node.Config)) (*proc, string) {
	t.Helper()
	n0 := tn.info.Nodes[0]
	home := filepath.Join(tn.dir, name)
	for _, d := range []string{node.ConfigDir, node.DataDir} {
		os.MkdirAll(filepath.Join(home, d), 0o700)
	}
	if _, err := node.GenerateKeyFile(filepath.Join(home, node.NodeKeyFile)); err != nil {
		t.Fatal(err)
	}
	g, _ := os.ReadFile(filepath.Join(n0.Home, node.GenesisFile))
	os.WriteFile(filepath.Join(home, node.GenesisFile), g, 0o644)
	c := node.DefaultConfig(name)
	port := freeBasePort(t, 1)
	c.P2P.ListenAddresses = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}
	for _, nd := range tn.info.Nodes {
		c.P2P.BootstrapPeers = append(c.P2P.BootstrapPeers, nd.P2P)
	}
	c.API.Address = fmt.Sprintf("127.0.0.1:%d", port+1)
	if edit != nil {
		edit(&c)
	}
	if err := node.SaveConfig(home, c); err != nil {
		t.Fatal(err)
	}
	api := fmt.Sprintf("http://127.0.0.1:%d", port+1)
	t.Cleanup(func() {
		if t.Failed() {
			raw, _ := os.ReadFile(filepath.Join(home, "node.log"))
			lines := strings.Split(string(raw), "\n")
			t.Logf("--- %s log tail ---\n%s", name, strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})
	p := startProc(t, home, api)
	tn.procs = append(tn.procs, p)
	return p, api
}

// Four validators take a snapshot every 50 heights; a fifth node with
// state sync enabled restores one from them, block-syncs to the tip and has
// the validators' app hash there. A sixth node replays the same chain from
// genesis, for the time beside it. Two of the validators prune to the last
// 100 heights: they answer old heights with 410, and the replaying node,
// told "pruned below H" by them, block-syncs from the other two.
func TestStateSyncJoinsAtTheTip(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 20*time.Millisecond)
	for i, nd := range tn.info.Nodes {
		c, err := node.LoadConfig(nd.Home)
		if err != nil {
			t.Fatal(err)
		}
		c.StateSync.SnapshotInterval, c.StateSync.SnapshotKeepRecent = 50, 2
		if i < 2 { // two pruning validators; the replaying node must ask the others
			c.Pruning = node.PruningConfig{Strategy: "custom", KeepRecent: 100, Interval: 10}
		}
		if err := node.SaveConfig(nd.Home, c); err != nil {
			t.Fatal(err)
		}
	}
	tn.startAll()
	n0 := tn.info.Nodes[0]
	t0 := time.Now()
	waitHeight(t, n0.API, 160, 75*time.Second)
	t.Logf("devnet reached height 160 in %v", time.Since(t0).Round(time.Millisecond))

	// The pruning validators refuse old heights with a clear 410.
	if code, err := getJSON(n0.API+"/blocks/2", &blockView{}); code != 410 || !strings.Contains(fmt.Sprint(err), "pruned") {
		t.Errorf("block 2 on a pruning validator: %d %v, want 410 pruned", code, err)
	}
	var v0 any
	if code, err := getJSON(n0.API+"/validators?height=2", &v0); code != 410 || !strings.Contains(fmt.Sprint(err), "oldest kept height") {
		t.Errorf("state at height 2 on a pruning validator: %d %v", code, err)
	}
	if code, err := getJSON(tn.info.Nodes[3].API+"/blocks/2", &blockView{}); code != 200 {
		t.Errorf("block 2 on an unpruned validator: %d %v", code, err)
	}

	start := time.Now()
	_, api := tn.joinNode(t, "statesync", func(c *node.Config) { c.StateSync.Enable = true })
	// The node's API is up once it has restored; pick the tip after that
	// (the snapshot it restores may be newer than the chain's height now,
	// and heights below it are not on the node).
	waitHeight(t, api, 1, 60*time.Second)
	cur, _ := statusOf(n0.API)
	tip := waitHeight(t, n0.API, max(cur.Height+3, 165), 30*time.Second)
	got := waitHeight(t, api, tip.Height, 60*time.Second)
	ssTime := time.Since(start)
	if b, ref := blockAt(t, api, tip.Height), blockAt(t, n0.API, tip.Height); b.AppHash != ref.AppHash {
		t.Fatalf("state-synced node at %d has app hash %s, validators %s", got.Height, b.AppHash, ref.AppHash)
	}
	logb, _ := os.ReadFile(filepath.Join(tn.dir, "statesync", "node.log"))
	if !strings.Contains(string(logb), "state sync: restored") {
		t.Fatalf("the node reached the tip without restoring a snapshot; log:\n%s", logb)
	}
	// Below the snapshot the node has no blocks: a clear 410.
	if code, err := getJSON(api+"/blocks/2", &blockView{}); code != 410 || !strings.Contains(fmt.Sprint(err), "pruned") {
		t.Errorf("block 2 on the state-synced node: %d %v, want 410 pruned", code, err)
	}
	var vals any
	if code, err := getJSON(api+"/validators?height=2", &vals); code != 410 || !strings.Contains(fmt.Sprint(err), "oldest kept height") {
		t.Errorf("state at height 2 on the state-synced node: %d %v, want 410 naming the oldest kept height", code, err)
	}

	start = time.Now()
	_, api2 := tn.joinNode(t, "replay", nil)
	tip = waitHeight(t, n0.API, tip.Height, 30*time.Second)
	waitHeight(t, api2, tip.Height, 90*time.Second)
	replayTime := time.Since(start)
	t.Logf("to the tip (height ~%d): state sync %v, full replay from genesis %v", tip.Height, ssTime.Round(time.Millisecond), replayTime.Round(time.Millisecond))
}
