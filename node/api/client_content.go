package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// streaming is the client's HTTP client without its overall timeout, for
// uploads, fetches and downloads that take as long as the file needs;
// ctx bounds them.
func (c *Client) streaming() *http.Client {
	hc := *c.HTTP
	hc.Timeout = 0
	return &hc
}

func (c *Client) stream(ctx context.Context, method, path string, body io.Reader, ctype string) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.streaming().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach the node at %s (%v); is it running? (check --node)", c.base, rootCause(err))
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e Error
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			e.Code = resp.StatusCode
			return nil, &e
		}
		msg := string(data)
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return nil, &Error{Code: resp.StatusCode, Err: "http_error", Message: fmt.Sprintf("%s %s: HTTP %s: %s", method, path, resp.Status, msg)}
	}
	return resp, nil
}

// ContentAddOptions tune ContentAdd.
type ContentAddOptions struct {
	Chunker string // "" is the node's default (size-262144)
	NoPin   bool
}

// ContentAdd is POST /content/add: r's bytes are streamed to the node,
// which adds them as one file and pins the root.
func (c *Client) ContentAdd(ctx context.Context, r io.Reader, o ContentAddOptions) (AddResponse, error) {
	var out AddResponse
	q := url.Values{}
	if o.Chunker != "" {
		q.Set("chunker", o.Chunker)
	}
	if o.NoPin {
		q.Set("pin", "false")
	}
	path := "/content/add"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.stream(ctx, http.MethodPost, path, r, "application/octet-stream")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		return out, fmt.Errorf("POST /content/add: unexpected answer from %s: %v", c.base, err)
	}
	return out, nil
}

// ContentFetch is POST /content/fetch/{cid}: the node fetches the CID
// into its store. progress, if set, is called with the node's progress.
func (c *Client) ContentFetch(ctx context.Context, cid string, timeout time.Duration, noPin bool, progress func(done, total int64)) (FetchReport, error) {
	q := url.Values{}
	if timeout > 0 {
		q.Set("timeout", timeout.String())
	}
	if noPin {
		q.Set("pin", "false")
	}
	path := "/content/fetch/" + url.PathEscape(cid)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.stream(ctx, http.MethodPost, path, nil, "")
	if err != nil {
		return FetchReport{}, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var ev FetchEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return FetchReport{}, fmt.Errorf("POST %s: unexpected line from %s: %v", path, c.base, err)
		}
		switch {
		case ev.Error != nil:
			return FetchReport{}, ev.Error
		case ev.Result != nil:
			if progress != nil {
				progress(ev.Done, ev.Total)
			}
			return *ev.Result, nil
		case progress != nil:
			progress(ev.Done, ev.Total)
		}
	}
	if ctx.Err() != nil {
		return FetchReport{}, ctx.Err()
	}
	return FetchReport{}, fmt.Errorf("POST %s: the node at %s ended the answer before the fetch did (%v); did it stop?", path, c.base, sc.Err())
}

// ContentGet is GET /ipfs/{cid}: the file's bytes from the node's
// gateway, and their length (-1 if not announced). The caller closes the
// reader.
func (c *Client) ContentGet(ctx context.Context, cid string) (io.ReadCloser, int64, error) {
	resp, err := c.stream(ctx, http.MethodGet, "/ipfs/"+url.PathEscape(cid), nil, "")
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// ContentPins is GET /content/pins.
func (c *Client) ContentPins(ctx context.Context) ([]string, error) {
	var out PinsResponse
	return out.Pins, c.do(ctx, http.MethodGet, "/content/pins", nil, "", &out)
}

// ContentPin is POST /content/pins/{cid}.
func (c *Client) ContentPin(ctx context.Context, cid string) error {
	return c.do(ctx, http.MethodPost, "/content/pins/"+url.PathEscape(cid), nil, "", nil)
}

// ContentUnpin is DELETE /content/pins/{cid}.
func (c *Client) ContentUnpin(ctx context.Context, cid string) error {
	return c.do(ctx, http.MethodDelete, "/content/pins/"+url.PathEscape(cid), nil, "", nil)
}

// ContentGC is POST /content/gc.
func (c *Client) ContentGC(ctx context.Context) (GCResponse, error) {
	var out GCResponse
	req := *c
	req.HTTP = c.streaming()
	return out, req.do(ctx, http.MethodPost, "/content/gc", nil, "", &out)
}
