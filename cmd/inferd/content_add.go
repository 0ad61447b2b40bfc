package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/content"
)

func init() { register(newAddCmd) }

type addArgs struct {
	contentArgs
	onlyHash bool
	chunker  string
	hidden   bool
	noPin    bool
}

func newAddCmd() *cobra.Command {
	a := &addArgs{}
	c := &cobra.Command{
		Use:   "add PATH [--only-hash] [--chunker size-N] [--home DIR]",
		Short: "Add a file or directory to the local content store and print its CID",
		Long: `Add imports PATH as 'ipfs add --cid-version=1' does (UnixFS, 256 KiB chunks,
raw leaves, balanced layout, sha2-256), stores its blocks in <home>/data/content,
pins the root and prints the CID: the same CID IPFS gives the same bytes.
A directory is added recursively; names starting with "." are skipped unless
--hidden. --only-hash computes the CID without storing anything (and works
while a node runs). The node must be stopped otherwise: it holds the store.`,
		Args: exactArgs("PATH"),
		RunE: func(c *cobra.Command, args []string) error { return runAdd(c, a, args[0]) },
	}
	addContentFlags(c, &a.contentArgs)
	f := c.Flags()
	f.BoolVarP(&a.onlyHash, "only-hash", "n", false, "compute the CID only; store nothing")
	f.StringVarP(&a.chunker, "chunker", "s", content.DefaultChunker, "chunker: size-N, rabin-MIN-AVG-MAX or buzhash (as ipfs)")
	f.BoolVarP(&a.hidden, "hidden", "H", false, "include files whose names start with '.'")
	f.BoolVar(&a.noPin, "no-pin", false, "do not pin the root (gc may remove it)")
	return c
}

func runAdd(c *cobra.Command, a *addArgs, path string) error {
	o := content.AddOptions{Chunker: a.chunker, Hidden: a.hidden, NoPin: a.noPin}
	if a.onlyHash {
		if a.node != "" {
			return usagef("--only-hash needs no node: drop --node")
		}
		id, err := content.Hash(c.Context(), path, o)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, id)
		return nil
	}
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	id, err := s.Add(c.Context(), path, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, id)
	return nil
}
