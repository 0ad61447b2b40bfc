package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newGCCmd) }

func newGCCmd() *cobra.Command {
	a := &contentArgs{}
	c := &cobra.Command{
		Use:   "gc [--node URL | --home DIR]",
		Short: "Remove the blocks of a content store that no pin reaches",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			if cl != nil {
				res, err := cl.ContentGC(c.Context())
				if err != nil {
					return fmt.Errorf("gc on the node at %s: %w", cl.URL(), err)
				}
				fmt.Fprintf(stdout, "removed %d blocks (%d bytes); kept %d pinned blocks\n", res.Removed, res.RemovedBytes, res.Kept)
				return nil
			}
			s, err := a.open()
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := s.GC(c.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "removed %d blocks (%d bytes); kept %d pinned blocks\n", res.Removed, res.RemovedBytes, res.Kept)
			return nil
		},
	}
	addContentFlags(c, a)
	return c
}
