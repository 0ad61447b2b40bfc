package api

import (
	"context"
	"net/url"
	"strconv"

	"github.com/inferd/inferd/keys"
)

// Providers is GET /providers.
func (c *Client) Providers(ctx context.Context, height uint64) (ProvidersResponse, error) {
	var r ProvidersResponse
	return r, c.get(ctx, "/providers", height, &r)
}

// Provider is GET /providers/{addr}.
func (c *Client) Provider(ctx context.Context, addr keys.Address, height uint64) (ProviderResponse, error) {
	var r ProviderResponse
	return r, c.get(ctx, "/providers/"+addr.String(), height, &r)
}

// Jobs is GET /jobs?status=S ("" for every status).
func (c *Client) Jobs(ctx context.Context, status string, height uint64) (JobsResponse, error) {
	var r JobsResponse
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if height != Latest {
		q.Set("height", strconv.FormatUint(height, 10))
	}
	path := "/jobs"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return r, c.do(ctx, "GET", path, nil, "", &r)
}

// Job is GET /jobs/{id}.
func (c *Client) Job(ctx context.Context, id, height uint64) (JobResponse, error) {
	var r JobResponse
	return r, c.get(ctx, "/jobs/"+strconv.FormatUint(id, 10), height, &r)
}

// Leases is GET /leases?status=S ("" for every status).
func (c *Client) Leases(ctx context.Context, status string, height uint64) (LeasesResponse, error) {
	var r LeasesResponse
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if height != Latest {
		q.Set("height", strconv.FormatUint(height, 10))
	}
	path := "/leases"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return r, c.do(ctx, "GET", path, nil, "", &r)
}

// LiveLeases is GET /leases?live=1: the running leases (probers' list).
func (c *Client) LiveLeases(ctx context.Context, height uint64) (LeasesResponse, error) {
	var r LeasesResponse
	path := "/leases?live=1"
	if height != Latest {
		path += "&height=" + strconv.FormatUint(height, 10)
	}
	return r, c.do(ctx, "GET", path, nil, "", &r)
}

// Lease is GET /leases/{id}.
func (c *Client) Lease(ctx context.Context, id, height uint64) (LeaseResponse, error) {
	var r LeaseResponse
	return r, c.get(ctx, "/leases/"+strconv.FormatUint(id, 10), height, &r)
}
