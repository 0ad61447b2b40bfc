package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inferd/inferd/keys"
)

// Latest asks a Client query for the latest height.
const Latest = ^uint64(0)

// maxResponseBytes bounds what the client reads from one response.
const maxResponseBytes = 32 << 20

// Client calls a node's API. Errors from the server are *Error, carrying
// the server's code and message; a node that cannot be reached gives an
// error that says so.
type Client struct {
	base string
	HTTP *http.Client
	// Token, when set, is sent as "Authorization: Bearer <Token>": the
	// node's write endpoints need it when its API is exposed.
	Token string
}

// newRequest is http.NewRequestWithContext with the client's token.
func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err == nil && c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, err
}

// NewClient returns a client of the node at base ("http://127.0.0.1:26657").
func NewClient(base string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("node URL %q: want http://HOST:PORT", base)
	}
	return &Client{base: strings.TrimRight(u.String(), "/"), HTTP: &http.Client{Timeout: 30 * time.Second}}, nil
}

// URL is the node's base URL.
func (c *Client) URL() string { return c.base }

func (c *Client) do(ctx context.Context, method, path string, body io.Reader, ctype string, out any) error {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot reach the node at %s (%v); is it running? (set --node or INFERD_NODE)", c.base, rootCause(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %v", c.base, err)
	}
	if resp.StatusCode >= 300 {
		var e Error
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			e.Code = resp.StatusCode
			return &e
		}
		return &Error{Code: resp.StatusCode, Err: "http_error", Message: fmt.Sprintf("%s %s: HTTP %s (is %s an inferd node?)", method, path, resp.Status, c.base)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer from %s: %v", method, path, c.base, err)
	}
	return nil
}

// rootCause strips url.Error's "Get "...": " prefix.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) get(ctx context.Context, path string, height uint64, out any) error {
	if height != Latest {
		path += "?height=" + strconv.FormatUint(height, 10)
	}
	return c.do(ctx, http.MethodGet, path, nil, "", out)
}

// Status is GET /status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	return s, c.get(ctx, "/status", Latest, &s)
}

// Health is GET /healthz; a node that is not ready gives an *Error (503).
func (c *Client) Health(ctx context.Context) (HealthResponse, error) {
	var h HealthResponse
	return h, c.get(ctx, "/healthz", Latest, &h)
}

// Block is GET /blocks/{height}, or /blocks/latest for Latest.
func (c *Client) Block(ctx context.Context, height uint64) (BlockView, error) {
	var b BlockView
	p := "/blocks/latest"
	if height != Latest {
		p = "/blocks/" + strconv.FormatUint(height, 10)
	}
	return b, c.get(ctx, p, Latest, &b)
}

// Tx is GET /txs/{hash}.
func (c *Client) Tx(ctx context.Context, hash [32]byte) (TxView, error) {
	var t TxView
	return t, c.get(ctx, fmt.Sprintf("/txs/%X", hash[:]), Latest, &t)
}

// SubmitTx is POST /txs with the raw signed transaction.
func (c *Client) SubmitTx(ctx context.Context, raw []byte) ([32]byte, error) {
	var r SubmitResponse
	var h [32]byte
	body, _ := json.Marshal(SubmitRequest{Tx: base64.StdEncoding.EncodeToString(raw)})
	if err := c.do(ctx, http.MethodPost, "/txs", bytes.NewReader(body), "application/json", &r); err != nil {
		return h, err
	}
	if len(r.Hash) != 32 {
		return h, fmt.Errorf("POST /txs: the node answered a %d-byte hash", len(r.Hash))
	}
	copy(h[:], r.Hash)
	return h, nil
}

// Account is GET /accounts/{addr}.
func (c *Client) Account(ctx context.Context, a keys.Address, height uint64) (AccountResponse, error) {
	var r AccountResponse
	return r, c.get(ctx, "/accounts/"+a.String(), height, &r)
}

// Validators is GET /validators.
func (c *Client) Validators(ctx context.Context, height uint64) (ValidatorsResponse, error) {
	var r ValidatorsResponse
	return r, c.get(ctx, "/validators", height, &r)
}

// Delegations is GET /delegations/{addr}.
func (c *Client) Delegations(ctx context.Context, a keys.Address, height uint64) (DelegationsResponse, error) {
	var r DelegationsResponse
	return r, c.get(ctx, "/delegations/"+a.String(), height, &r)
}

// Unbondings is GET /unbondings/{addr}.
func (c *Client) Unbondings(ctx context.Context, a keys.Address, height uint64) (UnbondingsResponse, error) {
	var r UnbondingsResponse
	return r, c.get(ctx, "/unbondings/"+a.String(), height, &r)
}

// Proposals is GET /proposals.
func (c *Client) Proposals(ctx context.Context, height uint64) (ProposalsResponse, error) {
	var r ProposalsResponse
	return r, c.get(ctx, "/proposals", height, &r)
}

// Proposal is GET /proposals/{id}.
func (c *Client) Proposal(ctx context.Context, id, height uint64) (ProposalResponse, error) {
	var r ProposalResponse
	return r, c.get(ctx, "/proposals/"+strconv.FormatUint(id, 10), height, &r)
}

// Gauge is GET /gauge.
func (c *Client) Gauge(ctx context.Context, height uint64) (GaugeResponse, error) {
	var r GaugeResponse
	return r, c.get(ctx, "/gauge", height, &r)
}

// Pools is GET /pools.
func (c *Client) Pools(ctx context.Context, height uint64) (PoolsResponse, error) {
	var r PoolsResponse
	return r, c.get(ctx, "/pools", height, &r)
}

// Supply is GET /supply.
func (c *Client) Supply(ctx context.Context, height uint64) (SupplyResponse, error) {
	var r SupplyResponse
	return r, c.get(ctx, "/supply", height, &r)
}

// Params is GET /params.
func (c *Client) Params(ctx context.Context, height uint64) (ParamsResponse, error) {
	var r ParamsResponse
	return r, c.get(ctx, "/params", height, &r)
}

// Raw GETs path (with its query) and returns the JSON body undecoded, for
// printing as is.
func (c *Client) Raw(ctx context.Context, path string) (json.RawMessage, error) {
	var r json.RawMessage
	return r, c.do(ctx, http.MethodGet, path, nil, "", &r)
}

// SubscribeBlocks reads GET /events/blocks and calls f for each block until
// ctx is done, the stream ends, or f returns false.
func (c *Client) SubscribeBlocks(ctx context.Context, f func(BlockView) bool) error {
	req, err := c.newRequest(ctx, http.MethodGet, "/events/blocks", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	hc := *c.HTTP
	hc.Timeout = 0 // a stream has no deadline but ctx
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot reach the node at %s (%v)", c.base, rootCause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e Error
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e) == nil && e.Message != "" {
			e.Code = resp.StatusCode
			return &e
		}
		return &Error{Code: resp.StatusCode, Err: "http_error", Message: "GET /events/blocks: HTTP " + resp.Status}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var b BlockView
		if err := json.Unmarshal([]byte(data), &b); err != nil {
			return fmt.Errorf("event stream: %v", err)
		}
		if !f(b) {
			return nil
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sc.Err()
}
