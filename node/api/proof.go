package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/light"
)

// Light-client endpoints (docs/light.md):
//
//	GET /proof?key=<hex>&height=H   a key's value (or absence) at H with its Merkle proof
//	GET /commit?height=H            header H, the commit that signed it, the set that signed
//
// The state after block H is committed by the app hash in header H+1, so
// /proof answers heights up to the latest minus one (its default), and a
// client checks it with /commit?height=H+1.
func (s *server) handleProofs() {
	s.handle("GET", "/proof", s.proof)
	s.handle("GET", "/commit", s.commit)
}

// LightBackend is a Backend that serves signed headers. A Backend that
// does not implement it answers /commit with 501.
type LightBackend interface {
	// LightBlock returns the header of height (>= 1), a commit for it and
	// the validator set of that height; canonical is false when the commit
	// is the node's own seen commit (the next block is not stored yet).
	// An error wrapping ErrNotFound when there is no such block.
	LightBlock(height uint64) (lb *light.LightBlock, canonical bool, err error)
}

// ProofResponse is GET /proof: the proven value and the height of the
// header whose app hash the proof leads to.
type ProofResponse struct {
	ledger.ProvenValue
	HeaderHeight uint64 `json:"header_height"` // = height+1: fetch GET /commit?height= this
}

// MaxProofKeyBytes bounds the key of GET /proof.
const MaxProofKeyBytes = 1024

func (s *server) proof(w http.ResponseWriter, r *http.Request) error {
	c := s.b.Chain()
	if c == nil {
		return errorf(http.StatusServiceUnavailable, "not_ready", "the node is starting and its ledger is not open yet; try again shortly")
	}
	q := r.URL.Query()
	kh := q.Get("key")
	if kh == "" {
		return errorf(http.StatusBadRequest, "bad_key", "?key= is required: the ledger key in hex (docs/light.md lists the keys of each object)")
	}
	key, err := hex.DecodeString(strings.TrimPrefix(kh, "0x"))
	if err != nil || len(key) == 0 || len(key) > MaxProofKeyBytes {
		return errorf(http.StatusBadRequest, "bad_key", "?key=%.80q: want 1 to %d bytes in hex", kh, MaxProofKeyBytes)
	}
	latest := s.b.LatestHeight()
	if latest == 0 {
		return errorf(http.StatusNotFound, "not_certified", "no block is committed yet: the genesis state is certified by block 1's header")
	}
	h := latest - 1
	if v := q.Get("height"); v != "" && v != "latest" {
		if h, err = parseHeight("?height", v); err != nil {
			return err
		}
		if h >= latest {
			return errorf(http.StatusNotFound, "not_certified", "the state after height %d is committed by the header of block %d, which is not committed yet; the latest provable height is %d", h, h+1, latest-1)
		}
	}
	pv, err := c.Prove(h, key)
	if errors.Is(err, ledger.ErrNotProvable) {
		return errorf(http.StatusBadRequest, "bad_key", "%v", err)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ProofResponse{ProvenValue: *pv, HeaderHeight: h + 1})
	return nil
}

func (s *server) commit(w http.ResponseWriter, r *http.Request) error {
	lbk, ok := s.b.(LightBackend)
	if !ok {
		return errorf(http.StatusNotImplemented, "no_headers", "this node does not serve signed headers")
	}
	latest := s.b.LatestHeight()
	h := latest
	if v := r.URL.Query().Get("height"); v != "" && v != "latest" {
		var err error
		if h, err = parseHeight("?height", v); err != nil {
			return err
		}
	}
	switch {
	case h == 0:
		return errorf(http.StatusBadRequest, "bad_height", "height 0 is the genesis, which has no header; the genesis state is certified by header 1")
	case h > latest:
		return errorf(http.StatusNotFound, "height_not_found", "block %d is not committed yet; the latest is %d", h, latest)
	}
	lb, canonical, err := lbk.LightBlock(h)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, light.NewCommitResponse(lb, canonical))
	return nil
}

// Proof is GET /proof for key at height (Latest: the newest provable).
func (c *Client) Proof(ctx context.Context, key []byte, height uint64) (ProofResponse, error) {
	var r ProofResponse
	p := "/proof?key=" + hex.EncodeToString(key)
	if height != Latest {
		p += "&height=" + strconv.FormatUint(height, 10)
	}
	return r, c.do(ctx, http.MethodGet, p, nil, "", &r)
}

// Commit is GET /commit?height=H (Latest: the latest block).
func (c *Client) Commit(ctx context.Context, height uint64) (light.CommitResponse, error) {
	var r light.CommitResponse
	if err := c.get(ctx, "/commit", height, &r); err != nil {
		return r, err
	}
	if height != Latest && r.Height != height {
		return r, fmt.Errorf("GET /commit?height=%d: the node answered height %d", height, r.Height)
	}
	return r, nil
}

// LightProvider is a light.Provider over the API.
type LightProvider struct {
	Ctx    context.Context
	Client *Client
}

// LightBlock implements light.Provider.
func (p LightProvider) LightBlock(height uint64) (*light.LightBlock, error) {
	r, err := p.Client.Commit(p.Ctx, height)
	if err != nil {
		return nil, err
	}
	return r.LightBlock()
}
