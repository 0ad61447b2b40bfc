package e2e

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node"
)

// burstTxs is the size of TestBurstNoSilentLoss's burst: 2,000 in the
// normal suite, INFERD_BURST_TXS=20000 for the full test (make burst).
func burstTxs(t *testing.T) int {
	if s := os.Getenv("INFERD_BURST_TXS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			t.Fatalf("INFERD_BURST_TXS=%q: want a number of at least 100", s)
		}
		return n
	}
	return 2000
}

// TestBurstNoSilentLoss posts a burst of signed transfers to a 4-validator
// devnet (commit_delay 0), round-robin over the nodes, and then asks each
// node about every transaction it accepted (GET /txs/{hash}/status): each
// must end committed, or dropped with a reason. None may stay unknown or
// pending. Pairs of conflicting transactions (same sender and nonce, sent
// to two nodes) make sure the dropped path is exercised: one of each pair
// commits, the other is reported dropped because its nonce was used.
func TestBurstNoSilentLoss(t *testing.T) {
	total := burstTxs(t)
	const perSender = 40 // below the mempool's 64 per sender
	nSenders := (total + perSender - 1) / perSender
	senders := make([]keys.PrivKey, nSenders)
	for i := range senders {
		_, senders[i], _ = keys.Generate(rand.Reader)
	}
	dir := t.TempDir()
	kr, err := keystore.Open(filepath.Join(dir, "keyring"), keystore.BackendTest)
	if err != nil {
		t.Fatal(err)
	}
	info, err := node.CreateDevnet(dir, node.DevnetOptions{
		Validators: 4, BasePort: freeBasePort(t, 4),
		AddKey: func(name string) (keys.Address, error) {
			i, err := kr.Add(name, "")
			return i.Address, err
		},
		Genesis: func(g *ledger.Genesis) {
			for _, s := range senders {
				g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: keys.AddressOf(s.Public().(keys.PubKey)), Balance: 1_000 * ledger.UinfPerINF})
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range info.Nodes {
		c, err := node.LoadConfig(nd.Home)
		if err != nil {
			t.Fatal(err)
		}
		c.Consensus.CommitDelay = node.Duration{Duration: 0}
		c.LogLevel = "warn"
		if err := node.SaveConfig(nd.Home, c); err != nil {
			t.Fatal(err)
		}
	}
	tn := &testNet{t: t, dir: dir, info: info, kr: kr}
	t.Cleanup(tn.stopAll)
	tn.startAll()
	for _, nd := range info.Nodes {
		waitHeight(t, nd.API, 2, 60*time.Second)
	}

	// Conflicting pairs first, each side posted at the same moment to a
	// different node (so that both are likely accepted before gossip
	// brings the other); then the burst: every sender's nonces in order.
	type sub struct {
		raw  []byte
		node int
	}
	send := func(s keys.PrivKey, nonce, amount uint64) []byte {
		_, raw := ledger.SignTx(info.ChainID, s, nonce, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: keys.Address{9}, Amount: amount}))
		return raw
	}
	conflicts := min(20, nSenders)
	var subs []sub
	for i := 0; i < conflicts; i++ {
		subs = append(subs, sub{raw: send(senders[i], 0, 1), node: i % 4}, sub{raw: send(senders[i], 0, 2), node: (i + 1) % 4})
	}
	pre := len(subs)
	for n := 0; n < perSender; n++ {
		for i, s := range senders {
			if n == 0 && i < conflicts {
				continue // posted as a pair
			}
			if len(subs)-pre < total {
				subs = append(subs, sub{raw: send(s, uint64(n), 1), node: len(subs) % 4})
			}
		}
	}

	accepted := make([]bool, len(subs))
	refusals := map[string]int{}
	var mu sync.Mutex
	post := func(i int) {
		code, body, err := postTx(info.Nodes[subs[i].node].API, subs[i].raw)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			refusals["transport: "+err.Error()]++
		case code == http.StatusOK || code == http.StatusAccepted:
			accepted[i] = true
		default:
			refusals[fmt.Sprintf("%d %s", code, firstLine(body))]++
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < pre; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); post(i) }(i)
	}
	wg.Wait()
	start := time.Now()
	const workers = 16
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := pre + w; i < len(subs); i += workers {
				post(i)
			}
		}(w)
	}
	wg.Wait()
	nAccepted := 0
	for _, a := range accepted {
		if a {
			nAccepted++
		}
	}
	t.Logf("posted %d txs in %v: %d accepted; refused: %v", len(subs), time.Since(start).Round(time.Millisecond), nAccepted, refusals)
	if nAccepted < total/2 {
		t.Fatalf("only %d of %d accepted", nAccepted, len(subs))
	}

	// Every accepted tx ends committed or dropped with a reason.
	type final struct{ status, reason string }
	results := map[int]final{}
	deadline := time.Now().Add(60*time.Second + time.Duration(total)*5*time.Millisecond)
	for {
		left := 0
		for i, s := range subs {
			if !accepted[i] {
				continue
			}
			if f, done := results[i]; done && (f.status == "committed" || f.status == "dropped") {
				continue
			}
			h := ledger.HashTx(s.raw)
			var st struct {
				Status string `json:"status"`
				Reason string `json:"reason"`
			}
			if _, err := getJSON(fmt.Sprintf("%s/txs/%X/status", info.Nodes[s.node].API, h[:]), &st); err != nil {
				left++
				continue
			}
			results[i] = final{st.Status, st.Reason}
			if st.Status != "committed" && st.Status != "dropped" {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			counts := map[string]int{}
			for i, f := range results {
				if accepted[i] {
					counts[f.status]++
				}
			}
			t.Fatalf("%d accepted txs neither committed nor dropped after the burst: statuses %v", left, counts)
		}
		time.Sleep(500 * time.Millisecond)
	}
	counts, reasons := map[string]int{}, map[string]int{}
	for i, f := range results {
		counts[f.status]++
		if f.status == "dropped" {
			if f.reason == "" {
				t.Errorf("tx %d dropped without a reason", i)
			}
			reasons[f.reason]++
		}
	}
	// Each conflicting pair: exactly one side committed (when both were
	// accepted), the other dropped for its nonce.
	pairs := 0
	for i := 0; i < pre; i += 2 {
		j := i + 1
		if !accepted[i] || !accepted[j] {
			continue
		}
		pairs++
		a, b := results[i], results[j]
		if (a.status == "committed") == (b.status == "committed") {
			t.Errorf("conflicting pair %d: %v and %v; want exactly one committed", i/2, a, b)
		}
		loser := a
		if a.status == "committed" {
			loser = b
		}
		if loser.status != "dropped" || !strings.Contains(loser.reason, "nonce") {
			t.Errorf("the losing side of a conflicting pair: %v, want dropped for its nonce", loser)
		}
	}
	if pairs == 0 {
		t.Errorf("no conflicting pair had both sides accepted: the dropped path went untested")
	}
	t.Logf("%d accepted: %v; %d conflicting pairs both accepted; drop reasons %v; all settled %v after the burst", nAccepted, counts, pairs, reasons, time.Since(start).Round(time.Millisecond))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}
