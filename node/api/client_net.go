package api

import (
	"context"
	"net/http"
)

// NetID reads GET /net/id.
func (c *Client) NetID(ctx context.Context) (NetID, error) {
	var v NetID
	err := c.do(ctx, http.MethodGet, "/net/id", nil, "", &v)
	return v, err
}

// NetPeers reads GET /net/peers.
func (c *Client) NetPeers(ctx context.Context) (PeersResponse, error) {
	var v PeersResponse
	err := c.do(ctx, http.MethodGet, "/net/peers", nil, "", &v)
	return v, err
}
