package node

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
)

// A devnet validator's blocks carry beacon proofs that chain: the ledger's
// beacon after each block is H(previous || VRF output of its proof). A
// proposal whose proof is tampered with, made with another key, or made
// over a stale beacon is refused with ErrBadBeacon, and so is a synced
// block committed by the validators but carrying a bad proof.
func TestBeaconProofsChainAndBadOnesAreRefused(t *testing.T) {
	home := oneValidatorHome(t)
	runUntil(t, home, 4)
	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		t.Fatal(err)
	}
	e := n.Engine
	tip := n.Blocks.Height()
	pub := e.cfg.ValidatorKey.Public().(keys.PubKey)
	for h := uint64(1); h <= tip; h++ {
		prev, _ := n.Chain.Beacon(h - 1)
		cur, _ := n.Chain.Beacon(h)
		b, err := n.Blocks.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		out, err := blocks.VerifyBeacon(&b.Header, pub, prev.Value)
		if err != nil {
			t.Fatalf("stored block %d: %v", h, err)
		}
		if want := ledgerNext(prev.Value, out); !bytes.Equal(cur.Value, want) || !bytes.Equal(cur.Prev, prev.Value) {
			t.Fatalf("beacon after %d is %x (prev %x), want %x (prev %x)", h, cur.Value, cur.Prev, want, prev.Value)
		}
		if bytes.Equal(cur.Value, prev.Value) {
			t.Fatalf("beacon did not change at height %d", h)
		}
	}

	id, err := e.propose(tip + 1)
	if err != nil {
		t.Fatal(err)
	}
	good := e.pending[id]
	if err := e.validate(good); err != nil {
		t.Fatalf("honest proposal refused: %v", err)
	}
	_, other, _ := keys.Generate(rand.Reader)
	last, _ := n.Chain.Beacon(tip - 1)
	tampered := bytes.Clone(good.Header.BeaconProof)
	tampered[40] ^= 1
	cases := map[string][]byte{
		"tampered":      tampered,
		"another key":   blocks.ProveBeacon(other, e.cfg.ChainID, tip+1, mustBeacon(t, n, tip)),
		"stale beacon":  blocks.ProveBeacon(e.cfg.ValidatorKey, e.cfg.ChainID, tip+1, last.Value),
		"other height":  blocks.ProveBeacon(e.cfg.ValidatorKey, e.cfg.ChainID, tip+2, mustBeacon(t, n, tip)),
		"another chain": blocks.ProveBeacon(e.cfg.ValidatorKey, "other-chain", tip+1, mustBeacon(t, n, tip)),
	}
	for name, proof := range cases {
		hdr := good.Header
		hdr.BeaconProof = proof
		bad := blocks.NewBlock(hdr, good.Txs, good.Evidence, good.LastCommit)
		if err := e.validate(bad); !errors.Is(err, blocks.ErrBadBeacon) {
			t.Fatalf("%s: proposal accepted or refused for another reason: %v", name, err)
		}
		// The same block committed by the validator set, arriving by sync.
		c := e.signedCommit(t, bad)
		if err := e.applySynced(t.Context(), bad, c); !errors.Is(err, blocks.ErrBadBeacon) {
			t.Fatalf("%s: synced block accepted or refused for another reason: %v", name, err)
		}
		t.Logf("%s: refused", name)
	}
}

func ledgerNext(prev, out []byte) []byte {
	v := ledger.NextBeacon(prev, out)
	return v[:]
}

func mustBeacon(t *testing.T, n *Node, h uint64) []byte {
	t.Helper()
	b, err := n.Chain.Beacon(h)
	if err != nil {
		t.Fatal(err)
	}
	return b.Value
}

// signedCommit is this (only) validator's commit of b.
func (e *Engine) signedCommit(t *testing.T, b *blocks.Block) blocks.Commit {
	t.Helper()
	v := &consensus.Vote{Type: consensus.Precommit, Height: b.Header.Height, BlockID: b.Hash(), Validator: e.self}
	consensus.Sign(e.cfg.ValidatorKey, e.cfg.ChainID, v)
	return blocks.MakeCommit(b.Header.Height, 0, b.Hash(), []*consensus.Vote{v})
}
