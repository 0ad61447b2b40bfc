package ledger

import (
	"crypto/sha256"
	"fmt"
)

// The randomness beacon (docs/architecture.md, "Randomness beacon"). Every
// block carries the proposer's VRF proof over the previous beacon value
// and the height (node/blocks checks it against the proposer's consensus
// key); the ledger only mixes the VRF output into the chain of values:
//
//	beacon(0) = SHA-256("inferd/beacon/v1/genesis" || chain id || genesis state hash)
//	beacon(h) = SHA-256("inferd/beacon/v1" || beacon(h-1) || vrf output of block h)
//
// The proposer cannot choose its VRF output (it is a function of its key
// and of beacon(h-1)), so the only choice it has is to withhold its block.
// Every random draw on the chain reads BlockInfo.Beacon.

// BeaconOutputSize is the length of a VRF output (ECVRF-EDWARDS25519-SHA512).
const BeaconOutputSize = 64

// keyBeacon holds the Beacon record, inside the app-hash tree so that a
// state-synced node and a light client get it with a proof.
var keyBeacon = []byte("beacon")

// Beacon is the beacon state after a block: the value at Height and the
// one before it.
type Beacon struct {
	_      struct{} `cbor:",toarray"`
	Height uint64
	Value  HexBytes `json:"value"` // 32 bytes
	Prev   HexBytes `json:"prev"`  // 32 bytes; the genesis value at height 0
}

// CurrentBeacon is the beacon after the last applied block (or genesis).
// A store written before the beacon existed reads as a zero value.
func CurrentBeacon(ctx *Context) Beacon {
	var b Beacon
	if !ctx.GetObj(keyBeacon, &b) || len(b.Value) != 32 {
		return Beacon{Value: make(HexBytes, 32), Prev: make(HexBytes, 32)}
	}
	return b
}

// NextBeacon mixes a block's VRF output into the previous value.
func NextBeacon(prev []byte, output []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("inferd/beacon/v1"))
	h.Write(prev)
	h.Write(output)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// genesisBeacon seeds the beacon from the genesis state: the chain id and
// a hash over every key and value the modules wrote (sorted by key,
// length-prefixed), which every node computes alike from the same genesis.
func genesisBeacon(chainID string, c *cache) [32]byte {
	h := sha256.New()
	h.Write([]byte("inferd/beacon/v1/genesis"))
	h.Write([]byte(chainID))
	for _, ch := range c.changes() {
		fmt.Fprintf(h, "%d:%s%d:", len(ch.Key), ch.Key, len(ch.Value))
		h.Write(ch.Value)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// advanceBeacon records block h's beacon and returns it with the previous
// value. output is the block's VRF output: BeaconOutputSize bytes, or
// empty for blocks built without consensus (ledger tests, tools), which
// still advance the chain of values deterministically.
func advanceBeacon(ctx *Context, output []byte) (Beacon, error) {
	if len(output) != 0 && len(output) != BeaconOutputSize {
		return Beacon{}, fmt.Errorf("%w: beacon output is %d bytes, want %d", ErrBadBlock, len(output), BeaconOutputSize)
	}
	prev := CurrentBeacon(ctx)
	v := NextBeacon(prev.Value, output)
	b := Beacon{Height: ctx.Height, Value: v[:], Prev: prev.Value}
	ctx.SetObj(keyBeacon, b)
	return b, nil
}
