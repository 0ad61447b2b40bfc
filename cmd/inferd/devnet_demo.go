package main

import (
	"context"

	"github.com/inferd/inferd/node"
)

// runDemo plays the devnet's demo on a new chain; see newDevnetCmd.
func runDemo(ctx context.Context, dir string, info *node.DevnetInfo, providers int) {
	_, _, _, _ = ctx, dir, info, providers
}
