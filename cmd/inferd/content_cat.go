package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newCatCmd) }

func newCatCmd() *cobra.Command {
	a := &contentArgs{}
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "cat CID [--node URL | --home DIR]",
		Short: "Write a file of a content store to stdout (--node: the node's, which fetches what it does not hold)",
		Args:  exactArgs("CID"),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseCID(args[0])
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if cl != nil {
				body, _, err := cl.ContentGet(c.Context(), id.String())
				if notFound(err) {
					// As ipfs cat: a CID the node does not hold is
					// fetched by the node (not pinned), then read.
					if _, ferr := cl.ContentFetch(c.Context(), id.String(), timeout, true, nil); ferr != nil {
						return fmt.Errorf("cat %s: the node at %s does not hold it and could not fetch it: %w", id, cl.URL(), ferr)
					}
					body, _, err = cl.ContentGet(c.Context(), id.String())
				}
				if err != nil {
					return fmt.Errorf("cat %s from the node at %s: %w", id, cl.URL(), err)
				}
				defer body.Close()
				_, err = io.Copy(stdout, body)
				return err
			}
			s, err := a.open()
			if err != nil {
				return err
			}
			defer s.Close()
			r, err := s.Cat(c.Context(), id)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(stdout, r)
			return err
		},
	}
	addContentFlags(c, a)
	c.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "with --node: how long the node may take to fetch a CID it does not hold")
	return c
}
