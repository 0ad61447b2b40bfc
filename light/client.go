package light

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
)

// LightBlock is a header with the commit that signed it and the validator
// set of its height.
type LightBlock struct {
	Header     blocks.Header
	Commit     blocks.Commit
	Validators *consensus.ValidatorSet
}

// CommitResponse is the body of GET /commit?height=H: the header of H, the
// commit for it and the set that signed it. HeaderCBOR and CommitCBOR are
// the canonical encodings, the only fields a verifier reads; Header and
// the signature count are for people.
type CommitResponse struct {
	Height     uint64          `json:"height"`
	Hash       ledger.HexBytes `json:"hash"` // the block id
	Header     HeaderView      `json:"header"`
	HeaderCBOR ledger.HexBytes `json:"header_cbor"`
	CommitCBOR ledger.HexBytes `json:"commit_cbor"`
	Signatures int             `json:"signatures"`
	Validators []ValidatorView `json:"validators"`
	// Canonical is false when the commit is the node's own seen commit of
	// the latest block (the next block's last commit may differ in which
	// signatures it holds; both certify the block).
	Canonical bool `json:"canonical"`
}

// HeaderView is a header as people read it.
type HeaderView struct {
	ChainID        string          `json:"chain_id"`
	Height         uint64          `json:"height"`
	Time           time.Time       `json:"time"`
	LastBlockHash  ledger.HexBytes `json:"last_block_hash"`
	AppHash        ledger.HexBytes `json:"app_hash"` // of the state after the previous block
	ValidatorsHash ledger.HexBytes `json:"validators_hash"`
	Proposer       keys.Address    `json:"proposer"`
	BeaconProof    ledger.HexBytes `json:"beacon_proof"` // the proposer's VRF proof (ledger/beacon.go)
}

// ValidatorView is one member of a validator set.
type ValidatorView struct {
	Address keys.Address    `json:"address"`
	PubKey  ledger.HexBytes `json:"pub_key"`
	Power   int64           `json:"power"`
}

// NewCommitResponse builds the wire form of lb.
func NewCommitResponse(lb *LightBlock, canonical bool) CommitResponse {
	h := &lb.Header
	id := h.Hash()
	r := CommitResponse{
		Height: h.Height, Hash: id[:], HeaderCBOR: codec.MustMarshal(h), CommitCBOR: blocks.EncodeCommit(lb.Commit),
		Signatures: len(lb.Commit.Signatures), Canonical: canonical, Validators: []ValidatorView{},
		Header: HeaderView{ChainID: h.ChainID, Height: h.Height, Time: time.Unix(0, h.Time).UTC(), LastBlockHash: h.LastBlockHash[:],
			AppHash: h.AppHash[:], ValidatorsHash: h.ValidatorsHash[:], Proposer: h.Proposer, BeaconProof: bytes.Clone(h.BeaconProof)},
	}
	for i := 0; i < lb.Validators.Len(); i++ {
		v := lb.Validators.Validator(i)
		r.Validators = append(r.Validators, ValidatorView{Address: v.Address, PubKey: bytes.Clone(v.PubKey), Power: v.Power})
	}
	return r
}

// LightBlock decodes the canonical encodings and the validator set. It
// checks form only (a key of 32 bytes matching its address, the header's
// height); VerifyCommit and VerifySkipping check the rest.
func (r *CommitResponse) LightBlock() (*LightBlock, error) {
	lb := &LightBlock{}
	if err := codec.Unmarshal(r.HeaderCBOR, &lb.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if lb.Header.Height != r.Height {
		return nil, fmt.Errorf("%w: asked for the header of height %d, got %d", ErrHeaderMismatch, r.Height, lb.Header.Height)
	}
	c, err := blocks.DecodeCommit(r.CommitCBOR)
	if err != nil {
		return nil, fmt.Errorf("%w: commit: %v", ErrMalformed, err)
	}
	lb.Commit = c
	vals := make([]consensus.Validator, 0, len(r.Validators))
	for i, v := range r.Validators {
		if len(v.PubKey) != 32 {
			return nil, fmt.Errorf("%w: validator %d: public key of %d bytes, want 32", ErrMalformed, i, len(v.PubKey))
		}
		vals = append(vals, consensus.Validator{Address: v.Address, PubKey: keys.PubKey(bytes.Clone(v.PubKey)), Power: v.Power})
	}
	if lb.Validators, err = consensus.NewValidatorSet(vals); err != nil {
		return nil, fmt.Errorf("%w: validator set: %v", ErrMalformed, err)
	}
	return lb, nil
}

// Provider fetches light blocks (the CLI's is the node's GET /commit).
type Provider interface {
	LightBlock(height uint64) (*LightBlock, error)
}

// MaxBisections bounds the light blocks one VerifyHeight fetches.
const MaxBisections = 64

// Client verifies headers from a trusted state, skipping ahead and
// bisecting when too much of the set changed between the trusted height
// and the target (CometBFT's light client, without a store of its own).
// Trusted advances to each header it verifies.
type Client struct {
	Provider Provider
	Trusted  TrustedState
	Options  Options
}

// VerifyHeight fetches and verifies the light block of height.
func (cl *Client) VerifyHeight(height uint64) (*LightBlock, Power, error) {
	if cl.Provider == nil || cl.Trusted.Validators == nil {
		return nil, Power{}, fmt.Errorf("%w: a client needs a provider and a trusted set", ErrMalformed)
	}
	budget := MaxBisections
	lb, err := cl.fetch(height, &budget)
	if err != nil {
		return nil, Power{}, err
	}
	p, err := cl.verify(lb, &budget)
	if err != nil {
		return nil, p, err
	}
	return lb, p, nil
}

func (cl *Client) fetch(h uint64, budget *int) (*LightBlock, error) {
	if *budget <= 0 {
		return nil, fmt.Errorf("%w: gave up after fetching %d light blocks", ErrInsufficientTrust, MaxBisections)
	}
	*budget--
	lb, err := cl.Provider.LightBlock(h)
	if err != nil {
		return nil, fmt.Errorf("fetch the light block of height %d: %w", h, err)
	}
	return lb, nil
}

func (cl *Client) verify(lb *LightBlock, budget *int) (Power, error) {
	for {
		p, err := VerifySkipping(cl.Trusted, &lb.Header, &lb.Commit, lb.Validators, cl.Options)
		if err == nil {
			if lb.Header.Height > cl.Trusted.Height {
				cl.Trusted = TrustedState{ChainID: lb.Header.ChainID, Height: lb.Header.Height, Time: time.Unix(0, lb.Header.Time), Validators: lb.Validators}
			}
			return p, nil
		}
		if !errors.Is(err, ErrInsufficientTrust) {
			return p, err
		}
		mid := cl.Trusted.Height + (lb.Header.Height-cl.Trusted.Height)/2
		if mid == cl.Trusted.Height {
			return p, fmt.Errorf("height %d follows the trusted height directly: %w", lb.Header.Height, err)
		}
		m, ferr := cl.fetch(mid, budget)
		if ferr != nil {
			return p, ferr
		}
		if _, merr := cl.verify(m, budget); merr != nil {
			return p, fmt.Errorf("bisecting at height %d: %w", mid, merr)
		}
	}
}

// VerifyProven checks a proven value against a light block that has been
// verified: the block must be the one that commits the proven height's
// state (height pv.Height+1, whose header carries the app hash of the
// state after pv.Height), and the proof must lead to that header's app
// hash. The app hash the node sent beside the proof is only compared.
func VerifyProven(pv *ledger.ProvenValue, lb *LightBlock) error {
	if pv == nil || lb == nil {
		return fmt.Errorf("%w: no proven value or light block", ErrMalformed)
	}
	if lb.Header.Height != pv.Height+1 {
		return fmt.Errorf("%w: the state after height %d is committed by header %d, got header %d", ErrHeaderMismatch, pv.Height, pv.Height+1, lb.Header.Height)
	}
	if !bytes.Equal(pv.Key, pv.Proof.Key) {
		return fmt.Errorf("%w: value of %x with a proof of %x", ErrKeyMismatch, []byte(pv.Key), []byte(pv.Proof.Key))
	}
	if err := VerifyValue(lb.Header.AppHash[:], pv.Key, pv.Value, pv.Exists, &pv.Proof); err != nil {
		return err
	}
	if !bytes.Equal(pv.AppHash, lb.Header.AppHash[:]) {
		return fmt.Errorf("%w: the node says app hash %x, header %d says %x", ErrHeaderMismatch, []byte(pv.AppHash), lb.Header.Height, lb.Header.AppHash[:6])
	}
	return nil
}
