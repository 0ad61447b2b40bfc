package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/node/blocks"
)

// EvidenceBackend is a Backend that takes misbehaviour evidence (POST
// /evidence). A Backend without it answers 503 no_evidence_pool.
type EvidenceBackend interface {
	// SubmitEvidence checks raw (canonical consensus.DuplicateVoteEvidence)
	// with blocks.CheckEvidence against the latest state, adds it to the
	// evidence pool and gossips it. Errors wrap consensus.ErrBadEvidence,
	// the blocks.Err* sentinels or ErrNotReady.
	SubmitEvidence(raw []byte) ([32]byte, error)
}

// EvidenceRequest is the JSON body of POST /evidence.
type EvidenceRequest struct {
	Evidence string `json:"evidence"` // canonical CBOR of the evidence, base64
}

// EvidenceResponse is the answer of POST /evidence: the SHA-256 of the
// evidence's bytes.
type EvidenceResponse struct {
	Hash TxHash `json:"hash"`
}

// evidenceErrors maps SubmitEvidence's sentinels, first match wins.
var evidenceErrors = []struct {
	err  error
	code int
	name string
}{
	{ErrNotReady, http.StatusServiceUnavailable, "not_ready"},
	{blocks.ErrAlreadyPunished, http.StatusConflict, "already_punished"},
	{blocks.ErrUnknownValidator, http.StatusUnprocessableEntity, "unknown_validator"},
	{blocks.ErrEvidenceHeight, http.StatusUnprocessableEntity, "evidence_height"},
	{consensus.ErrBadEvidence, http.StatusUnprocessableEntity, "bad_evidence"},
}

func evidenceError(err error) *Error {
	for _, m := range evidenceErrors {
		if errors.Is(err, m.err) {
			return &Error{Code: m.code, Err: m.name, Message: err.Error()}
		}
	}
	return queryError(err)
}

// POST /evidence: duplicate-vote evidence, as JSON {"evidence": base64} or
// the raw bytes (application/cbor). Open to anyone, like POST /txs: the
// evidence is verified before it enters the pool, and anyone could gossip
// it anyway.
func (s *server) submitEvidence(w http.ResponseWriter, r *http.Request) error {
	eb, ok := s.b.(EvidenceBackend)
	if !ok {
		return errorf(http.StatusServiceUnavailable, "no_evidence_pool", "this node keeps no evidence pool; submit the evidence to a validator's API")
	}
	raw, err := s.readBinaryBody(w, r, "evidence", func(body []byte) (string, error) {
		var req EvidenceRequest
		err := json.Unmarshal(body, &req)
		return req.Evidence, err
	})
	if err != nil {
		return err
	}
	if _, err := consensus.DecodeDuplicateVoteEvidence(raw); err != nil {
		return errorf(http.StatusBadRequest, "malformed_evidence", "%v (want the canonical CBOR of two conflicting signed votes, consensus.DuplicateVoteEvidence)", err)
	}
	hash, err := eb.SubmitEvidence(raw)
	if err != nil {
		return evidenceError(err)
	}
	writeJSON(w, http.StatusAccepted, EvidenceResponse{Hash: hash[:]})
	return nil
}

// EvidenceHash is the hash POST /evidence answers for raw.
func EvidenceHash(raw []byte) [32]byte { return sha256.Sum256(raw) }

// SubmitEvidence is POST /evidence with raw (canonical CBOR).
func (c *Client) SubmitEvidence(ctx context.Context, raw []byte) ([32]byte, error) {
	var resp EvidenceResponse
	body, _ := json.Marshal(EvidenceRequest{Evidence: base64.StdEncoding.EncodeToString(raw)})
	if err := c.do(ctx, http.MethodPost, "/evidence", strings.NewReader(string(body)), "application/json", &resp); err != nil {
		return [32]byte{}, err
	}
	var h [32]byte
	copy(h[:], resp.Hash)
	return h, nil
}
