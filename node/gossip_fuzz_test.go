package node

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node/blocks"
)

const fuzzChain = "fuzz-chain"

func fuzzPriv(tb testing.TB, n byte) keys.PrivKey {
	seed := sha256.Sum256([]byte{n})
	priv, err := keys.FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}

// fuzzBlock is block 1 with one transaction, and the commit of it signed
// by the key of fuzzPriv(9).
func fuzzBlock(tb testing.TB) (*blocks.Block, blocks.Commit, []byte) {
	val := fuzzPriv(tb, 9)
	addr := keys.AddressOf(val.Public().(keys.PubKey))
	_, tx := ledger.SignTx(fuzzChain, fuzzPriv(tb, 1), 0, 100, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: addr, Amount: 1}))
	b := blocks.NewBlock(blocks.Header{ChainID: fuzzChain, Height: 1, Time: 1e9, Proposer: addr, BeaconProof: blocks.ProveBeacon(val, fuzzChain, 1, make([]byte, 32))}, [][]byte{tx}, nil, blocks.Commit{})
	v := &consensus.Vote{Type: consensus.Precommit, Height: 1, BlockID: b.Hash(), Validator: addr}
	consensus.Sign(val, fuzzChain, v)
	return b, blocks.MakeCommit(1, 0, b.Hash(), []*consensus.Vote{v}), tx
}

// FuzzDecodeGossip: the bytes every topic validator decodes, as they
// arrive from any peer. No kind's decoder panics; what is accepted is in
// the canonical form of its type (re-encodes to the payload).
func FuzzDecodeGossip(f *testing.F) {
	b, _, tx := fuzzBlock(f)
	val := fuzzPriv(f, 9)
	addr := keys.AddressOf(val.Public().(keys.PubKey))
	vote := &consensus.Vote{Type: consensus.Prevote, Height: 2, BlockID: consensus.BlockID{1}, Validator: addr}
	consensus.Sign(val, fuzzChain, vote)
	other := &consensus.Vote{Type: consensus.Prevote, Height: 2, BlockID: consensus.BlockID{2}, Validator: addr}
	consensus.Sign(val, fuzzChain, other)
	kinds := []string{KindConsensus, KindBlock, KindTx, KindSubmissions, KindEvidence, KindCompute, KindTxBatch}
	f.Add(uint8(0), consensus.EncodeMessage(vote))
	f.Add(uint8(1), blocks.Encode(b))
	f.Add(uint8(2), tx)
	f.Add(uint8(3), tx)
	f.Add(uint8(4), consensus.NewDuplicateVoteEvidence(vote, other).Encode())
	f.Add(uint8(5), []byte{1, 2, 3})
	f.Add(uint8(6), encodeTxBatch([][]byte{tx, tx}))
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := kinds[int(k)%len(kinds)]
		v, err := decodeGossip(kind, body)
		if err != nil {
			return
		}
		var again []byte
		switch x := v.(type) {
		case consensus.Message:
			again = consensus.EncodeMessage(x)
		case *blocks.Block:
			again = blocks.Encode(x)
		case *ledger.Tx:
			again = codec.MustMarshal(x)
		case *consensus.DuplicateVoteEvidence:
			again = x.Encode()
		case [][]byte:
			again = encodeTxBatch(x)
		case nil:
			if kind != KindCompute {
				t.Fatalf("%s: nil value without an error", kind)
			}
			return
		default:
			t.Fatalf("%s: decoded a %T", kind, v)
		}
		if !bytes.Equal(again, body) {
			t.Fatalf("%s: accepted a payload that re-encodes differently", kind)
		}
	})
}

// FuzzDecodeSyncEnvelope: a block-sync frame from a peer. Decoding never
// panics; an accepted frame is canonical and its commit is for its block.
func FuzzDecodeSyncEnvelope(f *testing.F) {
	b, c, _ := fuzzBlock(f)
	good := codec.MustMarshal(syncEnvelope{Block: blocks.Encode(b), Commit: blocks.EncodeCommit(c)})
	f.Add(good)
	wrong := c
	wrong.BlockID = consensus.BlockID{7}
	f.Add(codec.MustMarshal(syncEnvelope{Block: blocks.Encode(b), Commit: blocks.EncodeCommit(wrong)}))
	f.Add(codec.MustMarshal(syncEnvelope{Block: blocks.Encode(b)}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, c, reason, err := decodeSyncEnvelope(raw)
		if err != nil {
			if reason == "" || b != nil {
				t.Fatalf("error %v without a reason, or with a block", err)
			}
			return
		}
		if c.Height != b.Header.Height || c.BlockID != b.Hash() {
			t.Fatal("accepted a commit for another block")
		}
		if again := codec.MustMarshal(syncEnvelope{Block: blocks.Encode(b), Commit: blocks.EncodeCommit(c)}); !bytes.Equal(again, raw) {
			t.Fatal("accepted a frame that re-encodes differently")
		}
	})
}

// TestDecodeSyncEnvelopeRefusesAMismatchedCommit: a peer that serves a
// block with another block's commit is named for it.
func TestDecodeSyncEnvelopeRefusesAMismatchedCommit(t *testing.T) {
	b, c, _ := fuzzBlock(t)
	c.BlockID = consensus.BlockID{7}
	raw := codec.MustMarshal(syncEnvelope{Block: blocks.Encode(b), Commit: blocks.EncodeCommit(c)})
	if _, _, reason, err := decodeSyncEnvelope(raw); err == nil || reason != "commit for another block" {
		t.Fatalf("got %q, %v", reason, err)
	}
}
