package api

import (
	"context"
	"strconv"
)

// Contests is GET /contests.
func (c *Client) Contests(ctx context.Context, height uint64) (ContestsResponse, error) {
	var r ContestsResponse
	return r, c.get(ctx, "/contests", height, &r)
}

// Contest is GET /contests/{id}.
func (c *Client) Contest(ctx context.Context, id, height uint64) (ContestResponse, error) {
	var r ContestResponse
	return r, c.get(ctx, "/contests/"+strconv.FormatUint(id, 10), height, &r)
}

// ContestSubmissions is GET /contests/{id}/submissions?round=R; round 0
// asks for the current round.
func (c *Client) ContestSubmissions(ctx context.Context, id, round, height uint64) (SubmissionsResponse, error) {
	var r SubmissionsResponse
	path := "/contests/" + strconv.FormatUint(id, 10) + "/submissions"
	sep := "?"
	if round != 0 {
		path += "?round=" + strconv.FormatUint(round, 10)
		sep = "&"
	}
	if height != Latest {
		path += sep + "height=" + strconv.FormatUint(height, 10)
	}
	return r, c.do(ctx, "GET", path, nil, "", &r)
}
