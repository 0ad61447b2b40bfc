package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/p2p"
)

// A validator that signs two different prevotes at one height and round is
// caught: the validators that see both make duplicate-vote evidence, a
// proposer puts it in a block, and the ledger slashes the validator and
// jails it for good.
func TestDoubleSignIsSlashed(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, time.Second)
	tn.startAll()
	n0 := tn.info.Nodes[0]
	waitHeight(t, n0.API, 2, 60*time.Second)

	// Validator 3 goes offline; its key is then used to equivocate.
	bad := tn.info.Nodes[3]
	tn.procs[3].kill(syscall.SIGTERM)
	priv, err := node.LoadKeyFile(filepath.Join(bad.Home, node.ValidatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	badAddr := keys.AddressOf(priv.Public().(keys.PubKey))

	_, hostKey, _ := keys.Generate(rand.Reader)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := p2p.New(ctx, p2p.Config{ChainID: tn.info.ChainID, PrivKey: hostKey, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, nd := range tn.info.Nodes[:3] {
		addr, _ := ma.NewMultiaddr(nd.P2P)
		ai, _ := peer.AddrInfoFromP2pAddr(addr)
		if err := h.Connect(ctx, *ai); err != nil {
			t.Fatal(err)
		}
	}
	topic, err := h.JoinTopic(p2p.TopicConsensus, 4<<10, func(context.Context, peer.ID, []byte) p2p.ValidationResult { return p2p.Accept })
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // mesh

	slashed := func() bool {
		var v struct {
			Validators []struct {
				ConsAddress string `json:"cons_address"`
				Jailed      bool   `json:"jailed"`
				Tombstoned  bool   `json:"tombstoned"`
			} `json:"validators"`
		}
		if _, err := getJSON(n0.API+"/validators", &v); err != nil {
			return false
		}
		for _, x := range v.Validators {
			if x.ConsAddress == badAddr.String() {
				return x.Jailed && x.Tombstoned
			}
		}
		return false
	}
	deadline := time.Now().Add(60 * time.Second)
	seq := uint64(0)
	for !slashed() {
		if time.Now().After(deadline) {
			t.Fatal("the double-signing validator was not slashed within 60s")
		}
		st, err := statusOf(n0.API)
		if err != nil {
			continue
		}
		for r := int32(0); r < 3; r++ {
			for i := 0; i < 2; i++ {
				var id consensus.BlockID
				rand.Read(id[:])
				v := &consensus.Vote{Type: consensus.Prevote, Height: st.Height + 1, Round: r, BlockID: id, Validator: badAddr}
				consensus.Sign(priv, tn.info.ChainID, v)
				msg := make([]byte, 8)
				seq++
				binary.BigEndian.PutUint64(msg, seq)
				topic.Publish(ctx, append(msg, consensus.EncodeMessage(v)...))
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The chain goes on without the slashed validator (3 of 4 remain).
	st, _ := statusOf(n0.API)
	waitHeight(t, n0.API, st.Height+3, 60*time.Second)
}

// Evidence injected from outside: through the API, a forgery (one flipped
// signature byte) is refused with the reason and valid double-sign
// evidence gets the validator slashed, jailed and tombstoned; over gossip,
// a peer that publishes forgeries has them rejected and is scored down
// until it is disconnected.
func TestInjectedEvidence(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 200*time.Millisecond)
	tn.startAll()
	n0, n1 := tn.info.Nodes[0], tn.info.Nodes[1]
	waitHeight(t, n0.API, 2, 60*time.Second)

	// Validator 3 stops; its key then signs conflicting votes. 3 of 4
	// validators keep the chain going.
	bad := tn.info.Nodes[3]
	tn.procs[3].kill(syscall.SIGTERM)
	priv, err := node.LoadKeyFile(filepath.Join(bad.Home, node.ValidatorKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	badAddr := keys.AddressOf(priv.Public().(keys.PubKey))
	st, err := statusOf(n0.API)
	if err != nil {
		t.Fatal(err)
	}
	equivocate := func() *consensus.DuplicateVoteEvidence {
		var votes [2]*consensus.Vote
		for i := range votes {
			var id consensus.BlockID
			rand.Read(id[:])
			votes[i] = &consensus.Vote{Type: consensus.Prevote, Height: st.Height, BlockID: id, Validator: badAddr}
			consensus.Sign(priv, tn.info.ChainID, votes[i])
		}
		return consensus.NewDuplicateVoteEvidence(votes[0], votes[1])
	}
	forge := func(ev *consensus.DuplicateVoteEvidence) []byte {
		f := *ev
		f.VoteB.Signature = append([]byte(nil), ev.VoteB.Signature...)
		f.VoteB.Signature[3] ^= 0x01
		return f.Encode()
	}
	before := validatorOf(t, n0.API, badAddr)
	if before.Jailed || before.Tokens == 0 {
		t.Fatalf("validator 3 before: %+v", before)
	}

	// Gossip: a rogue peer publishes forgeries to node 0.
	_, hostKey, _ := keys.Generate(rand.Reader)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rogue, err := p2p.New(ctx, p2p.Config{ChainID: tn.info.ChainID, PrivKey: hostKey, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer rogue.Close()
	addr, _ := ma.NewMultiaddr(n0.P2P)
	target, _ := peer.AddrInfoFromP2pAddr(addr)
	if err := rogue.Connect(ctx, *target); err != nil {
		t.Fatal(err)
	}
	topic, err := rogue.JoinTopic(p2p.TopicEvidence, 8<<10, func(context.Context, peer.ID, []byte) p2p.ValidationResult { return p2p.Accept })
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // mesh
	connected := func() bool {
		for _, p := range rogue.Peers() {
			if p == target.ID {
				return true
			}
		}
		return false
	}
	sent := 0
	for deadline := time.Now().Add(30 * time.Second); connected() && time.Now().Before(deadline); sent++ {
		msg := binary.BigEndian.AppendUint64(nil, uint64(sent))
		topic.Publish(ctx, append(msg, forge(equivocate())...))
		time.Sleep(100 * time.Millisecond)
	}
	if connected() {
		t.Fatalf("the peer gossiping %d forged pieces of evidence is still connected", sent)
	}
	t.Logf("rogue disconnected after %d forged pieces of evidence", sent)
	if n := rejects(t, n0.API, "evidence"); n < 1 {
		t.Fatalf("node 0 counts %v rejected evidence messages", n)
	}

	// API: the forgery is refused with the reason; nobody is punished.
	code, body := postEvidence(t, n1.API, forge(equivocate()))
	if code != 422 || !strings.Contains(body, "bad_evidence") || !strings.Contains(body, "bad signature") {
		t.Fatalf("forged evidence through the API: %d %s", code, body)
	}
	if v := validatorOf(t, n0.API, badAddr); v.Jailed || v.Tokens != before.Tokens {
		t.Fatalf("forged evidence punished the validator: %+v", v)
	}

	// API: valid evidence, submitted to node 1, reaches a proposer's block.
	good := equivocate()
	if code, body := postEvidence(t, n1.API, good.Encode()); code != 202 {
		t.Fatalf("valid evidence through the API: %d %s", code, body)
	}
	var after validatorInfo
	for deadline := time.Now().Add(30 * time.Second); ; {
		if after = validatorOf(t, n0.API, badAddr); after.Jailed && after.Tombstoned {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("validator 3 not punished 30s after valid evidence: %+v", after)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if after.Tokens >= before.Tokens {
		t.Fatalf("validator 3 was not slashed: tokens %d -> %d", before.Tokens, after.Tokens)
	}
	if code, body := postEvidence(t, n0.API, equivocate().Encode()); code != 409 || !strings.Contains(body, "already_punished") {
		t.Fatalf("evidence of a tombstoned validator: %d %s", code, body)
	}
	st, _ = statusOf(n0.API)
	waitHeight(t, n0.API, st.Height+2, 30*time.Second)
}

type validatorInfo struct {
	ConsAddress string `json:"cons_address"`
	Tokens      uint64 `json:"tokens"`
	Jailed      bool   `json:"jailed"`
	Tombstoned  bool   `json:"tombstoned"`
}

func validatorOf(t *testing.T, api string, cons keys.Address) validatorInfo {
	t.Helper()
	var v struct {
		Validators []validatorInfo `json:"validators"`
	}
	if _, err := getJSON(api+"/validators", &v); err != nil {
		t.Fatal(err)
	}
	for _, x := range v.Validators {
		if x.ConsAddress == cons.String() {
			return x
		}
	}
	t.Fatalf("no validator %s at %s", cons, api)
	return validatorInfo{}
}

func postEvidence(t *testing.T, api string, raw []byte) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string][]byte{"evidence": raw})
	resp, err := client.Post(api+"/evidence", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// rejects reads inferd_gossip_rejects_total{result="reject",topic=topic}
// from the node's /metrics (refreshed every second).
func rejects(t *testing.T, api, topic string) float64 {
	t.Helper()
	var n float64
	for deadline := time.Now().Add(5 * time.Second); n == 0 && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		resp, err := client.Get(api + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "inferd_gossip_rejects_total{") && strings.Contains(line, `result="reject"`) && strings.Contains(line, `topic="`+topic+`"`) {
				fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &n)
			}
		}
	}
	return n
}
