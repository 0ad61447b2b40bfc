package main

import (
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newStatusCmd) }

func newStatusCmd() *cobra.Command {
	a := &nodeArgs{}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the node's chain, height, latest block and peers",
		Args:  exactArgs(),
		RunE:  func(c *cobra.Command, _ []string) error { return runStatus(c, a) },
	}
	addNodeFlags(c, a, false)
	return c
}

func runStatus(c *cobra.Command, a *nodeArgs) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	s, err := cl.Status(c.Context())
	if err != nil {
		return err
	}
	return a.print(s, func(w *tabwriter.Writer) {
		val := s.Validator
		if val == "" {
			val = "no (full node)"
		}
		kv(w, "chain id", s.ChainID, "height", s.Height, "block hash", hexText(s.BlockHash), "app hash", hexText(s.AppHash),
			"block time", s.BlockTime.UTC().Format(time.RFC3339Nano), "catching up", s.CatchingUp, "peers", s.Peers,
			"node id", s.NodeID, "moniker", s.Moniker, "validator", val, "node", cl.URL())
	})
}
