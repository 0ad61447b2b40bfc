package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func init() { register(newCatCmd) }

func newCatCmd() *cobra.Command {
	a := &contentArgs{}
	c := &cobra.Command{
		Use:   "cat CID [--node URL | --home DIR]",
		Short: "Write a file of a content store to stdout (--node: the node's)",
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
	return c
}
