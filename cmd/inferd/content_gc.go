package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newGCCmd) }

func newGCCmd() *cobra.Command {
	a := &contentArgs{}
	c := &cobra.Command{
		Use:   "gc [--home DIR]",
		Short: "Remove the blocks of the local content store that no pin reaches",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
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
