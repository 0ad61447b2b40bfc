package main

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node/api"
)

func init() { register(newPinCmd) }

func newPinCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "pin",
		Short: "Pin, unpin and list roots of a content store (gc keeps what is pinned; --node: the node's)",
	}
	for _, sub := range []struct {
		use, short string
		args       cobra.PositionalArgs
		run        func(c *cobra.Command, a *contentArgs, args []string) error
	}{
		{"add CID", "Pin CID (its whole DAG must be in the store)", exactArgs("CID"), runPinAdd},
		{"rm CID", "Unpin CID (its blocks stay until gc)", exactArgs("CID"), runPinRm},
		{"ls", "List the pinned CIDs", exactArgs(), runPinLs},
	} {
		a := &contentArgs{}
		sc := &cobra.Command{Use: sub.use, Short: sub.short, Args: sub.args}
		run := sub.run
		sc.RunE = func(c *cobra.Command, args []string) error { return run(c, a, args) }
		addContentFlags(sc, a)
		c.AddCommand(sc)
	}
	return c
}

func runPinAdd(c *cobra.Command, a *contentArgs, args []string) error {
	return pinChange(c, a, args[0], "pinned", (*api.Client).ContentPin, (*content.Store).Pin)
}

func runPinRm(c *cobra.Command, a *contentArgs, args []string) error {
	return pinChange(c, a, args[0], "unpinned", (*api.Client).ContentUnpin, (*content.Store).Unpin)
}

// pinChange pins or unpins arg through the node (--node) or in the local
// store, and says done.
func pinChange(c *cobra.Command, a *contentArgs, arg, done string,
	viaNode func(*api.Client, context.Context, string) error, local func(*content.Store, context.Context, cid.Cid) error) error {
	id, err := parseCID(arg)
	if err != nil {
		return err
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	if cl != nil {
		if err := viaNode(cl, c.Context(), id.String()); err != nil {
			return fmt.Errorf("the node at %s: %w", cl.URL(), err)
		}
	} else {
		s, err := a.open()
		if err != nil {
			return err
		}
		defer s.Close()
		if err := local(s, c.Context(), id); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, done, id)
	return nil
}

func runPinLs(c *cobra.Command, a *contentArgs, _ []string) error {
	cl, err := a.client()
	if err != nil {
		return err
	}
	if cl != nil {
		pins, err := cl.ContentPins(c.Context())
		if err != nil {
			return fmt.Errorf("the node at %s: %w", cl.URL(), err)
		}
		for _, p := range pins {
			fmt.Fprintln(stdout, p)
		}
		return nil
	}
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	pins, err := s.Pins(c.Context())
	if err != nil {
		return err
	}
	for _, p := range pins {
		fmt.Fprintln(stdout, p)
	}
	return nil
}
