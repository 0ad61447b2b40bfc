package e2e

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node"
)

// setConsensus rewrites every node's [consensus] section.
func (tn *testNet) setConsensus(f func(*node.ConsensusConfig)) {
	tn.t.Helper()
	for _, nd := range tn.info.Nodes {
		c, err := node.LoadConfig(nd.Home)
		if err != nil {
			tn.t.Fatal(err)
		}
		f(&c.Consensus)
		if err := node.SaveConfig(nd.Home, c); err != nil {
			tn.t.Fatal(err)
		}
	}
}

// heightsOf reads every node's committed height.
func (tn *testNet) heightsOf() []uint64 {
	tn.t.Helper()
	var hs []uint64
	for _, nd := range tn.info.Nodes {
		s, err := statusOf(nd.API)
		if err != nil {
			tn.t.Fatalf("%s: %v", nd.Moniker, err)
		}
		hs = append(hs, s.Height)
	}
	return hs
}

// stays checks that no node commits anything for d.
func (tn *testNet) stays(at uint64, d time.Duration, what string) {
	tn.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for i, h := range tn.heightsOf() {
			if h != at {
				tn.t.Fatalf("%s: %s is at height %d, want %d (heights %v)", what, tn.info.Nodes[i].Moniker, h, at, tn.heightsOf())
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}

type idleBlock struct {
	Proposer string    `json:"proposer"`
	NumTxs   int       `json:"num_txs"`
	Time     time.Time `json:"time"`
}

func idleBlockAt(t *testing.T, api string, h uint64) idleBlock {
	t.Helper()
	var b idleBlock
	if _, err := getJSON(fmt.Sprintf("%s/blocks/%d", api, h), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// With create_empty_blocks = false and commit_delay 0, four validators make
// the first block and then wait: nothing is committed while idle. A
// transfer sent to a validator that is not the next proposer wakes the
// network; it is committed within a few seconds, followed by exactly one
// empty block (the one whose header carries the app hash after the
// transfer), and the network waits again. Restarted with
// create_empty_blocks_interval = 2s, empty blocks come about 2 s apart.
func TestIdleWithoutEmptyBlocks(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 0)
	tn.setConsensus(func(c *node.ConsensusConfig) {
		c.CommitDelay = node.Duration{}
		c.CreateEmptyBlocks = false
	})
	tn.startAll()
	for _, nd := range tn.info.Nodes {
		waitHeight(t, nd.API, 1, 60*time.Second)
	}
	time.Sleep(time.Second) // a block already under way may finish
	h0 := tn.heightsOf()[0]
	tn.stays(h0, 4*time.Second, "idle")

	// The proposer of h0 does not propose h0+1 (equal powers: round robin).
	prop := idleBlockAt(t, tn.info.Nodes[0].API, h0).Proposer
	target := -1
	for i, nd := range tn.info.Nodes {
		if s, err := statusOfValidator(nd.API); err == nil && s == prop {
			target = i
		}
	}
	if target < 0 {
		t.Fatalf("no node has the consensus address %s of block %d's proposer", prop, h0)
	}
	api := tn.info.Nodes[target].API
	_, raw := ledger.SignTx(tn.info.ChainID, tn.signer("demo"), 0, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: keys.Address{9}, Amount: 1}))
	sent := time.Now()
	if code, body, err := postTx(api, raw); err != nil || code >= 300 {
		t.Fatalf("submit to %s: %d %s %v", tn.info.Nodes[target].Moniker, code, body, err)
	}
	hash := ledger.HashTx(raw)
	var tv struct {
		Height uint64 `json:"height"`
	}
	for {
		if _, err := getJSON(fmt.Sprintf("%s/txs/%x", tn.info.Nodes[0].API, hash[:]), &tv); err == nil && tv.Height > 0 {
			break
		}
		if time.Since(sent) > 10*time.Second {
			t.Fatalf("the transfer sent to %s (not the next proposer) was not committed within 10s; heights %v", tn.info.Nodes[target].Moniker, tn.heightsOf())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("transfer sent to %s committed at height %d after %v", tn.info.Nodes[target].Moniker, tv.Height, time.Since(sent).Round(time.Millisecond))
	if tv.Height != h0+1 {
		t.Fatalf("transfer committed at height %d, want %d: blocks were made while idle", tv.Height, h0+1)
	}
	for _, nd := range tn.info.Nodes {
		waitHeight(t, nd.API, tv.Height+1, 10*time.Second)
	}
	if b := idleBlockAt(t, tn.info.Nodes[0].API, tv.Height+1); b.NumTxs != 0 {
		t.Fatalf("block %d after the transfer has %d txs, want the empty app-hash block", tv.Height+1, b.NumTxs)
	}
	time.Sleep(500 * time.Millisecond)
	tn.stays(tv.Height+1, 4*time.Second, "idle after the app-hash block")

	// An interval: empty blocks about that far apart.
	for _, p := range tn.procs {
		p.kill(syscall.SIGTERM)
	}
	const iv = 2 * time.Second
	tn.setConsensus(func(c *node.ConsensusConfig) { c.CreateEmptyBlocksInterval = node.Duration{Duration: iv} })
	for i := range tn.procs {
		tn.procs[i] = tn.start(i)
	}
	base := tv.Height + 1
	last := waitHeight(t, tn.info.Nodes[0].API, base+4, 30*time.Second).Height
	prev := idleBlockAt(t, tn.info.Nodes[0].API, base+1).Time
	for h := base + 2; h <= last; h++ {
		b := idleBlockAt(t, tn.info.Nodes[0].API, h)
		if gap := b.Time.Sub(prev); gap < iv*3/4 || gap > iv*2 {
			t.Fatalf("block %d came %v after block %d; the interval is %v", h, gap, h-1, iv)
		}
		prev = b.Time
	}
}

// statusOfValidator is the consensus address a node reports in /status.
func statusOfValidator(api string) (string, error) {
	var s struct {
		Validator string `json:"validator"`
	}
	_, err := getJSON(api+"/status", &s)
	return s.Validator, err
}
