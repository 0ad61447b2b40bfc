package main

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

// contentArgs holds the flags shared by the content commands (add, fetch,
// cat, pin, gc): they work on the local content store under --home, or,
// with --node, through a running node's API.
type contentArgs struct {
	home  string
	node  string
	token string // --api-token
}

func addContentFlags(c *cobra.Command, a *contentArgs) {
	c.Flags().StringVar(&a.home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
	c.Flags().StringVar(&a.node, "node", "", "go through the API of the running node at this URL (e.g. "+defaultNode+") instead of opening the store, which the node holds")
	addTokenFlag(c.Flags().StringVar, &a.token)
}

// open opens <home>/data/content. A running node holds its lock; the error
// then names the --node URL to use instead.
func (a *contentArgs) open() (*content.Store, error) {
	home, err := keysHome(a.home)
	if err != nil {
		return nil, err
	}
	s, err := content.Open(filepath.Join(home, content.Dir))
	if errors.Is(err, content.ErrLocked) {
		return nil, lockedError(home)
	}
	return s, err
}

// lockedError says which --node to pass: the API address of the home's
// node, read from its config.toml.
func lockedError(home string) error {
	url := defaultNode
	if cfg, err := node.LoadConfig(home); err == nil && cfg.API.Address != "" {
		host, port, err := net.SplitHostPort(cfg.API.Address)
		if err == nil {
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			url = "http://" + net.JoinHostPort(host, port)
		}
	}
	return fmt.Errorf("the store is in use by a running node; pass --node %s (or stop the node)", url)
}

// client is the API client of --node, or nil without --node.
func (a *contentArgs) client() (*api.Client, error) {
	if a.node == "" {
		return nil, nil
	}
	return newClient(a.node, a.token)
}

// parseCID parses a CID argument: a malformed or mistyped CID (one that
// decodes only by ignoring its last character's spare bits) is a usage
// error, never echoed back as some other CID.
func parseCID(s string) (cid.Cid, error) {
	c, err := content.ParseCID(s)
	if err != nil {
		return cid.Undef, usageError{err}
	}
	return c, nil
}
