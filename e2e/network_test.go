package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node"
)

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real node processes")
	}
}

// Four validators reach height 20 with the same block and app hashes;
// transfers sent to node 0 are committed and visible through node 3; bad
// transactions get a 4xx and are not committed anywhere.
func TestFourValidatorsCommitAndTransfer(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 100*time.Millisecond)
	tn.startAll()
	first, last := tn.info.Nodes[0].API, tn.info.Nodes[3].API

	demo := tn.signer("demo")
	to := keys.Address{7, 7, 7}
	var hashes []ledger.TxHash
	for i := uint64(0); i < 5; i++ {
		_, raw := ledger.SignTx(tn.info.ChainID, demo, i, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: 1_000_000}))
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, body, err := postTx(first, raw)
			if err == nil && code < 300 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("submit tx %d: %d %s %v", i, code, body, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		hashes = append(hashes, ledger.HashTx(raw))
	}
	// A bad signature and a replayed nonce: 4xx with a message, never committed.
	tx, _ := ledger.SignTx(tn.info.ChainID, demo, 5, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: 1}))
	tx.Signature[0] ^= 1
	bad := codec.MustMarshal(tx)
	if code, body, _ := postTx(first, bad); code < 400 || code >= 500 || !strings.Contains(body, "signature") {
		t.Fatalf("bad signature: %d %s", code, body)
	}
	_, replay := ledger.SignTx(tn.info.ChainID, demo, 0, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: 2}))
	if code, body, _ := postTx(first, replay); code < 400 || code >= 500 || !strings.Contains(body, "nonce") {
		t.Fatalf("used nonce: %d %s", code, body)
	}

	waitHeight(t, last, 20, 90*time.Second)
	for _, nd := range tn.info.Nodes {
		waitHeight(t, nd.API, 20, 30*time.Second)
	}
	for h := uint64(1); h <= 20; h++ {
		ref := blockAt(t, first, h)
		for _, nd := range tn.info.Nodes[1:] {
			b := blockAt(t, nd.API, h)
			if b.Hash != ref.Hash || b.AppHash != ref.AppHash {
				t.Fatalf("height %d: %s has block %s app %s, node0 has %s %s", h, nd.Moniker, b.Hash, b.AppHash, ref.Hash, ref.AppHash)
			}
		}
	}
	if acc := accountOf(t, last, to); acc.Balance != 5_000_000 {
		t.Fatalf("recipient balance through node 3: %d, want 5000000", acc.Balance)
	}
	for _, h := range hashes {
		var tv struct {
			Height uint64 `json:"height"`
		}
		if _, err := getJSON(fmt.Sprintf("%s/txs/%x", last, h[:]), &tv); err != nil || tv.Height == 0 {
			t.Fatalf("tx %x not visible through node 3: %v", h[:4], err)
		}
	}
	badHash := ledger.HashTx(bad)
	if code, _ := getJSON(fmt.Sprintf("%s/txs/%x", last, badHash[:]), &struct{}{}); code != 404 {
		t.Fatalf("the badly signed tx is known to node 3 (status %d)", code)
	}
}

// kill -9 of one validator: the others go on; restarted, it catches up with
// the same app hash. Then two of four stop: nothing is committed and
// nothing forks; restarted, commits resume.
func TestCrashAndHalt(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 100*time.Millisecond)
	tn.startAll()
	n0 := tn.info.Nodes[0].API
	waitHeight(t, n0, 5, 60*time.Second)

	tn.procs[3].kill(syscall.SIGKILL)
	s := waitHeight(t, n0, 5, time.Second)
	waitHeight(t, n0, s.Height+10, 60*time.Second)
	tn.procs[3] = tn.start(3)
	tip := waitHeight(t, n0, s.Height+12, 60*time.Second)
	caught := waitHeight(t, tn.info.Nodes[3].API, tip.Height, 60*time.Second)
	if b0, b3 := blockAt(t, n0, tip.Height), blockAt(t, tn.info.Nodes[3].API, tip.Height); b0.AppHash != b3.AppHash || b0.Hash != b3.Hash {
		t.Fatalf("restarted node at %d: block %s app %s, node0 %s %s", caught.Height, b3.Hash, b3.AppHash, b0.Hash, b0.AppHash)
	}

	// Halt: with half the stake gone nothing may commit.
	tn.procs[2].kill(syscall.SIGTERM)
	tn.procs[3].kill(syscall.SIGTERM)
	time.Sleep(2 * time.Second) // a commit already under way may finish
	before, _ := statusOf(n0)
	time.Sleep(5 * time.Second)
	after, _ := statusOf(n0)
	if after.Height != before.Height {
		t.Fatalf("committed %d -> %d with half the validators down", before.Height, after.Height)
	}
	n1, _ := statusOf(tn.info.Nodes[1].API)
	if n1.Height == after.Height && n1.BlockHash != after.BlockHash {
		t.Fatalf("fork at height %d", after.Height)
	}
	tn.procs[2], tn.procs[3] = tn.start(2), tn.start(3)
	waitHeight(t, n0, after.Height+5, 60*time.Second)
	for _, nd := range tn.info.Nodes {
		waitHeight(t, nd.API, after.Height+5, 60*time.Second)
	}
	ref := blockAt(t, n0, after.Height+5)
	for _, nd := range tn.info.Nodes[1:] {
		if b := blockAt(t, nd.API, after.Height+5); b.Hash != ref.Hash {
			t.Fatalf("fork after restart at %d", after.Height+5)
		}
	}
}

// A full node that is not a validator, started later with only the genesis
// and one bootstrap peer, syncs the whole chain.
func TestNewFullNodeSyncs(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 50*time.Millisecond)
	tn.startAll()
	n0 := tn.info.Nodes[0]
	waitHeight(t, n0.API, 30, 90*time.Second)

	home := filepath.Join(tn.dir, "full")
	for _, d := range []string{node.ConfigDir, node.DataDir} {
		os.MkdirAll(filepath.Join(home, d), 0o700)
	}
	if _, err := node.GenerateKeyFile(filepath.Join(home, node.NodeKeyFile)); err != nil {
		t.Fatal(err)
	}
	g, _ := os.ReadFile(filepath.Join(n0.Home, node.GenesisFile))
	os.WriteFile(filepath.Join(home, node.GenesisFile), g, 0o644)
	c := node.DefaultConfig("full")
	port := freeBasePort(t, 1)
	c.P2P.ListenAddresses = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}
	c.P2P.BootstrapPeers = []string{n0.P2P}
	c.API.Address = fmt.Sprintf("127.0.0.1:%d", port+1)
	if err := node.SaveConfig(home, c); err != nil {
		t.Fatal(err)
	}
	api := fmt.Sprintf("http://127.0.0.1:%d", port+1)
	p := startProc(t, home, api)
	tn.procs = append(tn.procs, p)
	tip := waitHeight(t, n0.API, 35, 60*time.Second)
	got := waitHeight(t, api, tip.Height, 90*time.Second)
	if b, ref := blockAt(t, api, tip.Height), blockAt(t, n0.API, tip.Height); b.AppHash != ref.AppHash {
		t.Fatalf("full node at %d has app hash %s, validators %s", got.Height, b.AppHash, ref.AppHash)
	}
}
