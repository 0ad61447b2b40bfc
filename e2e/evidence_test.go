package e2e

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"path/filepath"
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
