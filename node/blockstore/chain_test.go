package blockstore

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node/blocks"
)

const chainID = "store-test"
const txsPerBlock = 4

// testChain builds a deterministic chain: block(h) is the same in every
// process, so a crash test's parent can rebuild what its child stored.
type testChain struct {
	vals   *consensus.ValidatorSet
	priv   []keys.PrivKey
	sender keys.PrivKey
	blocks []*blocks.Block // index h-1
	seen   []blocks.Commit // index h-1
}

func newTestChain(t testing.TB) *testChain {
	t.Helper()
	r := rand.New(rand.NewSource(42))
	c := &testChain{}
	var vs []consensus.Validator
	byAddr := map[keys.Address]keys.PrivKey{}
	for i := 0; i < 4; i++ {
		pub, priv, _ := keys.Generate(r)
		byAddr[keys.AddressOf(pub)] = priv
		vs = append(vs, consensus.Validator{Address: keys.AddressOf(pub), PubKey: pub, Power: 10})
	}
	set, err := consensus.NewValidatorSet(vs)
	if err != nil {
		t.Fatal(err)
	}
	c.vals = set
	for i := 0; i < set.Len(); i++ {
		c.priv = append(c.priv, byAddr[set.Validator(i).Address])
	}
	_, c.sender, _ = keys.Generate(r)
	return c
}

func (c *testChain) commitFor(h uint64, id consensus.BlockID, signers ...int) blocks.Commit {
	var votes []*consensus.Vote
	for _, i := range signers {
		v := &consensus.Vote{Type: consensus.Precommit, Height: h, Round: 0, BlockID: id, Validator: c.vals.Validator(i).Address}
		consensus.Sign(c.priv[i], chainID, v)
		votes = append(votes, v)
	}
	return blocks.MakeCommit(h, 0, id, votes)
}

func (c *testChain) tx(nonce uint64) []byte {
	_, raw := ledger.SignTx(chainID, c.sender, nonce, 1, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: keys.Address{1}, Amount: nonce + 1}))
	return raw
}

// block returns block h and its seen commit (signed by all four; the next
// block's LastCommit carries only three of them).
func (c *testChain) block(h uint64) (*blocks.Block, blocks.Commit) {
	for uint64(len(c.blocks)) < h {
		n := uint64(len(c.blocks)) + 1
		hdr := blocks.Header{ChainID: chainID, Height: n, Time: int64(n) * 1e9, Proposer: c.vals.Validator(int(n) % 4).Address, ValidatorsHash: c.vals.Hash(), BeaconProof: make([]byte, blocks.BeaconProofSize)}
		var last blocks.Commit
		if n > 1 {
			prev := c.blocks[n-2]
			hdr.LastBlockHash = prev.Hash()
			last = c.commitFor(n-1, prev.Hash(), 0, 1, 2)
		}
		var txs [][]byte
		for i := uint64(0); i < txsPerBlock; i++ {
			txs = append(txs, c.tx((n-1)*txsPerBlock+i))
		}
		b := blocks.NewBlock(hdr, txs, nil, last)
		c.blocks = append(c.blocks, b)
		c.seen = append(c.seen, c.commitFor(n, b.Hash(), 0, 1, 2, 3))
	}
	return c.blocks[h-1], c.seen[h-1]
}

func results(b *blocks.Block) []ledger.TxResult {
	out := make([]ledger.TxResult, len(b.Txs))
	for i, tx := range b.Txs {
		out[i] = ledger.TxResult{Hash: ledger.HashTx(tx), OK: i%2 == 0}
		if !out[i].OK {
			out[i].Error = fmt.Sprintf("failed at %d/%d", b.Header.Height, i)
		} else {
			out[i].Events = []ledger.Event{{Type: "transfer", Attrs: map[string]string{"amount": fmt.Sprint(i), "to": "x"}}}
		}
	}
	return out
}
