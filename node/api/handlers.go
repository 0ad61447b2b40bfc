package api

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/staking"
)

func (s *server) status(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, s.b.Status())
	return nil
}

func (s *server) health(w http.ResponseWriter, _ *http.Request) error {
	st := s.b.Status()
	h := HealthResponse{OK: s.b.Chain() != nil && !st.CatchingUp, Height: st.Height, CatchingUp: st.CatchingUp}
	code := http.StatusOK
	if !h.OK {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, h)
	return nil
}

func (s *server) latestBlock(w http.ResponseWriter, _ *http.Request) error {
	return s.writeBlock(w, s.b.LatestHeight())
}

func (s *server) block(w http.ResponseWriter, r *http.Request) error {
	h, err := parseHeight("height", r.PathValue("height"))
	if err != nil {
		return err
	}
	if latest := s.b.LatestHeight(); h > latest {
		return errorf(http.StatusNotFound, "height_not_found", "block %d is not committed yet; the latest is %d", h, latest)
	}
	return s.writeBlock(w, h)
}

func (s *server) writeBlock(w http.ResponseWriter, h uint64) error {
	b, err := s.b.Block(h)
	if err != nil {
		return err
	}
	if b.Txs == nil {
		b.Txs = []TxHash{}
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *server) tx(w http.ResponseWriter, r *http.Request) error {
	hash, err := ParseTxHash(r.PathValue("hash"))
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_hash", "%v", err)
	}
	v, err := s.b.Tx(hash)
	if errors.Is(err, ErrNotFound) {
		return s.notCommitted(hash)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// ParseTxHash parses a transaction hash: 64 hex characters, with or
// without a 0x prefix.
func ParseTxHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"))
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("transaction hash %q: want 64 hex characters", s)
	}
	copy(h[:], b)
	return h, nil
}

// SubmitRequest is the JSON body of POST /txs.
type SubmitRequest struct {
	Tx string `json:"tx"` // the signed transaction's bytes, base64 (standard alphabet)
}

func (s *server) submit(w http.ResponseWriter, r *http.Request) error {
	raw, err := s.readBinaryBody(w, r, "tx", func(body []byte) (string, error) {
		var req SubmitRequest
		err := json.Unmarshal(body, &req)
		return req.Tx, err
	})
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return errorf(http.StatusBadRequest, "bad_body", "empty transaction")
	}
	if _, err := ledger.DecodeTx(raw); err != nil {
		return submitError(err)
	}
	hash, err := s.b.SubmitTx(raw)
	if err != nil {
		return submitError(err)
	}
	writeJSON(w, http.StatusAccepted, SubmitResponse{Hash: hash[:]})
	return nil
}

// readBinaryBody reads a POST body that carries canonical bytes: raw as
// application/cbor (or octet-stream), or JSON {"<field>": "<base64>"},
// whose field fromJSON returns. Every refusal names what was wrong.
func (s *server) readBinaryBody(w http.ResponseWriter, r *http.Request, field string, fromJSON func([]byte) (string, error)) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, bodyTooLarge(r, s.opts.MaxBodyBytes)
		}
		return nil, errorf(http.StatusBadRequest, "bad_body", "reading the request body: %v", err)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/cbor" || ct == "application/octet-stream" {
		return body, nil
	}
	b64, err := fromJSON(body)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_body", `body is not JSON {"%s": "<base64>"}: %v (or send the raw bytes as application/cbor)`, field, err)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "bad_body", `"%s" is not standard base64: %v`, field, err)
	}
	return raw, nil
}

// parseHeight parses a height in a path or query.
func parseHeight(what, v string) (uint64, error) {
	h, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "bad_height", "%s %q: want a block height, a non-negative integer", what, v)
	}
	return h, nil
}

// at resolves ?height= (default: latest) and the chain to query.
func (s *server) at(r *http.Request) (*chain.Chain, uint64, error) {
	c := s.b.Chain()
	if c == nil {
		return nil, 0, errorf(http.StatusServiceUnavailable, "not_ready", "the node is starting and its ledger is not open yet; try again shortly")
	}
	latest := s.b.LatestHeight()
	v := r.URL.Query().Get("height")
	if v == "" || v == "latest" {
		return c, latest, nil
	}
	h, err := parseHeight("?height", v)
	if err != nil {
		return nil, 0, err
	}
	if h > latest {
		return nil, 0, errorf(http.StatusNotFound, "height_not_found", "height %d is not committed yet; the latest is %d", h, latest)
	}
	return c, h, nil
}

func pathAddress(r *http.Request) (keys.Address, error) {
	a, err := keys.ParseAddress(r.PathValue("addr"))
	if err != nil {
		return a, errorf(http.StatusBadRequest, "bad_address", "%v", err)
	}
	return a, nil
}

func (s *server) account(w http.ResponseWriter, r *http.Request) error {
	a, err := pathAddress(r)
	if err != nil {
		return err
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	acc, err := c.Account(h, a)
	if err != nil {
		return err
	}
	acc.Delegations, acc.Unbondings = nonNil(acc.Delegations), nonNil(acc.Unbondings)
	writeJSON(w, http.StatusOK, AccountResponse{Height: h, Account: acc})
	return nil
}

func (s *server) validators(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	vs, err := c.Validators(h)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ValidatorsResponse{Height: h, Validators: nonNil(vs)})
	return nil
}

func (s *server) delegations(w http.ResponseWriter, r *http.Request) error {
	a, err := pathAddress(r)
	if err != nil {
		return err
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	ds, err := c.Delegations(h, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, DelegationsResponse{Height: h, Delegations: nonNil(ds)})
	return nil
}

func (s *server) unbondings(w http.ResponseWriter, r *http.Request) error {
	a, err := pathAddress(r)
	if err != nil {
		return err
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	us, err := c.Unbondings(h, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, UnbondingsResponse{Height: h, Unbondings: nonNil[staking.Unbonding](us)})
	return nil
}

func (s *server) proposals(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	ps, err := c.Proposals(h)
	if err != nil {
		return err
	}
	out := ProposalsResponse{Height: h, Proposals: []ProposalView{}}
	for _, p := range ps {
		out.Proposals = append(out.Proposals, newProposalView(p))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) proposal(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_proposal_id", "proposal id %q: want a positive integer", r.PathValue("id"))
	}
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	p, err := c.Proposal(h, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ProposalResponse{Height: h, ProposalDetail: ProposalDetail{
		ProposalView: newProposalView(p.Proposal), Votes: nonNil(p.Votes), Deposits: nonNil(p.Deposits), Tally: p.Tally}})
	return nil
}

func (s *server) gauge(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	g, err := c.Gauge(h)
	if err != nil {
		return err
	}
	g.Modules, g.Voters = nonNil(g.Modules), nonNil(g.Voters)
	writeJSON(w, http.StatusOK, GaugeResponse{Height: h, GaugeReport: g})
	return nil
}

func (s *server) pools(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	p, err := c.Pools(h)
	if err != nil {
		return err
	}
	if p == nil {
		p = map[string]uint64{}
	}
	writeJSON(w, http.StatusOK, PoolsResponse{Height: h, Pools: p})
	return nil
}

func (s *server) supply(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	sr, err := c.Supply(h)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, SupplyResponse{Height: h, SupplyReport: sr})
	return nil
}

func (s *server) params(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := ParamsResponse{Height: h, Params: map[string]json.RawMessage{}}
	err = c.Query(h, func(ctx *ledger.Context) error {
		for _, m := range c.Modules() {
			if pm, ok := m.(ledger.ParamModule); ok {
				out.Params[m.Name()] = pm.ParamsJSON(ctx)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// events streams new blocks as Server-Sent Events: "event: block",
// "id: <height>", "data: <BlockView JSON>"; a comment every sseTick keeps
// proxies from closing an idle stream.
func (s *server) events(w http.ResponseWriter, r *http.Request) error {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	blocks, cancel := s.b.SubscribeBlocks()
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": inferd block events\n\n")
	if err := rc.Flush(); err != nil {
		return nil
	}
	tick := time.NewTicker(s.sseTick)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case b, ok := <-blocks:
			if !ok {
				return nil
			}
			if b.Txs == nil {
				b.Txs = []TxHash{}
			}
			data, err := json.Marshal(b)
			if err != nil {
				return nil
			}
			fmt.Fprintf(w, "event: block\nid: %d\ndata: %s\n\n", b.Height, data)
		}
		if err := rc.Flush(); err != nil {
			return nil // the client went away
		}
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
