package main

import (
	"path/filepath"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/inferd/inferd/content"
)

// contentArgs holds the flags shared by the content commands (add, cat,
// pin, gc), which work on the local content store under --home.
type contentArgs struct {
	home string
	node string
}

func addContentFlags(c *cobra.Command, a *contentArgs) {
	c.Flags().StringVar(&a.home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
	c.Flags().StringVar(&a.node, "node", "", "go through a running node's API (not implemented yet: stop the node instead)")
}

// open opens <home>/data/content. A running node holds its lock; the error
// then says to stop the node.
func (a *contentArgs) open() (*content.Store, error) {
	if a.node != "" {
		return nil, usagef("--node is not implemented yet for content commands: stop the node and run without --node")
	}
	home, err := keysHome(a.home)
	if err != nil {
		return nil, err
	}
	return content.Open(filepath.Join(home, content.Dir))
}

func parseCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, usagef("%q is not a CID: %v", s, err)
	}
	return c, nil
}
