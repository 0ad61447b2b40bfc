package blocks

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519/extra/ecvrf"
)

// BeaconProofSize is the length of Header.BeaconProof: an ECVRF proof
// (RFC 9381, ECVRF-EDWARDS25519-SHA512-ELL2).
const BeaconProofSize = ecvrf.ProofSize

// ErrBadBeacon wraps every beacon proof that does not verify.
var ErrBadBeacon = errors.New("blocks: bad beacon proof")

// BeaconAlpha is the VRF input of the block at height: the chain id, the
// height and the beacon value after height-1. Everything in it is fixed
// before the proposer is known, so its VRF output is the proposer's only
// contribution and one it cannot choose.
func BeaconAlpha(chainID string, height uint64, prevBeacon []byte) []byte {
	a := append([]byte("inferd/beacon/v1/alpha\x00"), chainID...)
	a = append(a, 0)
	a = binary.BigEndian.AppendUint64(a, height)
	return append(a, prevBeacon...)
}

// ProveBeacon makes the proof a proposer puts in Header.BeaconProof.
func ProveBeacon(priv keys.PrivKey, chainID string, height uint64, prevBeacon []byte) []byte {
	return ecvrf.Prove(ed25519.PrivateKey(priv), BeaconAlpha(chainID, height, prevBeacon))
}

// VerifyBeacon checks h.BeaconProof against the proposer's consensus key
// and the previous beacon value and returns the VRF output the ledger
// mixes in (ledger.NextBeacon).
func VerifyBeacon(h *Header, proposer keys.PubKey, prevBeacon []byte) ([]byte, error) {
	if len(h.BeaconProof) != BeaconProofSize {
		return nil, fmt.Errorf("%w: height %d: proof is %d bytes, want %d", ErrBadBeacon, h.Height, len(h.BeaconProof), BeaconProofSize)
	}
	ok, out := ecvrf.Verify(ed25519.PublicKey(proposer), h.BeaconProof, BeaconAlpha(h.ChainID, h.Height, prevBeacon))
	if !ok {
		return nil, fmt.Errorf("%w: height %d: the proof does not verify under proposer %s's key and the previous beacon %x (a forged or stale proof: refuse the block)", ErrBadBeacon, h.Height, h.Proposer, prevBeacon[:min(6, len(prevBeacon))])
	}
	return out, nil
}

// beaconOutput is the VRF output of a proof already verified when the
// block was accepted (a block from our own store, replayed).
func beaconOutput(h *Header) ([]byte, error) {
	if len(h.BeaconProof) == 0 {
		return nil, nil
	}
	out, err := ecvrf.ProofToHash(h.BeaconProof)
	if err != nil {
		return nil, fmt.Errorf("%w: height %d: %v", ErrBadBeacon, h.Height, err)
	}
	return out, nil
}
