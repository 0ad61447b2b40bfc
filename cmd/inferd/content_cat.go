package main

import (
	"io"

	"github.com/spf13/cobra"
)

func init() { register(newCatCmd) }

func newCatCmd() *cobra.Command {
	a := &contentArgs{}
	c := &cobra.Command{
		Use:   "cat CID [--home DIR]",
		Short: "Write a file of the local content store to stdout",
		Args:  exactArgs("CID"),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseCID(args[0])
			if err != nil {
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
