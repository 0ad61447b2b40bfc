package statesync

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/inferd/inferd/light"
)

// ErrNeedNewerTrust: the validator set changed too much between the trust
// root and the header after the snapshot for skipping verification, even
// after bisecting: more than 2/3 of the trusted set's power is gone. The
// operator must give a more recent statesync.trust_height and trust_hash.
var ErrNeedNewerTrust = errors.New("statesync: the validator set changed too much since the trusted height; set a more recent statesync.trust_height and statesync.trust_hash")

// ErrTrustHash: the header at the trusted height is not the one the
// operator trusts.
var ErrTrustHash = errors.New("statesync: the header at the trusted height does not have the trusted hash")

// TrustFrom checks the light block at the operator's trust_height: its
// header must have trustHash and chainID, its validator set must be the
// one the header names, and its commit must be signed by more than 2/3 of
// that set. It returns the trusted state to verify later headers from.
func TrustFrom(chainID string, lb *light.LightBlock, trustHeight uint64, trustHash []byte) (light.TrustedState, error) {
	if lb == nil {
		return light.TrustedState{}, errors.New("statesync: no light block at the trusted height")
	}
	id := lb.Header.Hash()
	switch {
	case lb.Header.Height != trustHeight:
		return light.TrustedState{}, fmt.Errorf("statesync: header of height %d for trust height %d", lb.Header.Height, trustHeight)
	case lb.Header.ChainID != chainID:
		return light.TrustedState{}, fmt.Errorf("statesync: trusted header of chain %q, want %q", lb.Header.ChainID, chainID)
	case len(trustHash) == 0 || !bytes.Equal(id[:], trustHash):
		return light.TrustedState{}, fmt.Errorf("%w: header %d has hash %x, the trusted hash is %x", ErrTrustHash, trustHeight, id[:6], trustHash)
	}
	if _, err := light.VerifyCommit(&lb.Header, &lb.Commit, lb.Validators); err != nil {
		return light.TrustedState{}, fmt.Errorf("statesync: trusted header %d: %w", trustHeight, err)
	}
	return light.TrustedState{ChainID: chainID, Height: trustHeight, Time: time.Unix(0, lb.Header.Time), Validators: lb.Validators}, nil
}

// VerifyHeaderLight verifies the header of height meta.Height+1 (whose
// AppHash is the state after meta.Height) from the trusted state tr with
// the light client's skipping verification: more than 1/3 of the trusted
// set's power must sign it, else the client bisects through intermediate
// headers from prov. It then checks that the header vouches for the
// snapshot's app hash, and returns the verified light block (its set is
// the validator set of meta.Height+1).
//
// A header the trusted set cannot reach, even by bisecting, is refused
// with an error that wraps both ErrNeedNewerTrust and
// light.ErrInsufficientTrust.
func VerifyHeaderLight(tr light.TrustedState, prov light.Provider, meta Metadata, o light.Options) (*light.LightBlock, error) {
	target := meta.Height + 1
	if target < tr.Height {
		return nil, fmt.Errorf("statesync: snapshot of height %d is below the trusted height %d", meta.Height, tr.Height)
	}
	cl := light.Client{Provider: prov, Trusted: tr, Options: o}
	lb, _, err := cl.VerifyHeight(target)
	if errors.Is(err, light.ErrInsufficientTrust) {
		return nil, fmt.Errorf("%w (header %d from trusted height %d): %w", ErrNeedNewerTrust, target, tr.Height, err)
	}
	if err != nil {
		return nil, fmt.Errorf("statesync: header %d from trusted height %d: %w", target, tr.Height, err)
	}
	if !bytes.Equal(lb.Header.AppHash[:], meta.AppHash) {
		return nil, fmt.Errorf("%w: snapshot of height %d has app hash %x, but header %d, verified from the trusted height %d, says %x; refusing the snapshot", ErrAppHash, meta.Height, meta.AppHash[:6], target, tr.Height, lb.Header.AppHash[:6])
	}
	return lb, nil
}
