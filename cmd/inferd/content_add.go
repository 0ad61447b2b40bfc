package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node/api"
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
		Use:   "add PATH [--only-hash] [--chunker size-N] [--node URL | --home DIR]",
		Short: "Add a file or directory to a content store and print its CID",
		Long: `Add imports PATH as 'ipfs add --cid-version=1' does (UnixFS, 256 KiB chunks,
raw leaves, balanced layout, sha2-256), stores its blocks in <home>/data/content,
pins the root and prints the CID: the same CID IPFS gives the same bytes.
A directory is added recursively; names starting with "." are skipped unless
--hidden. --only-hash computes the CID without storing anything (and works
while a node runs).

A running node holds the store: with --node URL the file is streamed to that
node's API and added to its store there (one file at a time). On a terminal
a progress bar shows bytes, rate and ETA on stderr.`,
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
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("add: %v", err)
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	if cl != nil {
		if fi.IsDir() {
			return usagef("--node adds one file at a time and %s is a directory: add its files one by one, or run inferd add on the node's machine with the node stopped", path)
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("add: %v", err)
		}
		defer f.Close()
		p := newProgress("add", fi.Size())
		res, err := cl.ContentAdd(c.Context(), &progressReader{r: f, p: p}, api.ContentAddOptions{Chunker: a.chunker, NoPin: a.noPin})
		p.Finish(err == nil)
		if err != nil {
			return fmt.Errorf("add %s through the node at %s: %w", path, cl.URL(), err)
		}
		fmt.Fprintf(stderr, "added %s\n", p.summary(res.Bytes))
		fmt.Fprintln(stdout, res.CID)
		return nil
	}
	s, err := a.open()
	if err != nil {
		return err
	}
	defer s.Close()
	var p *progress
	if !fi.IsDir() {
		p = newProgress("add", fi.Size())
		o.Progress = func(n int64) { p.Set(n, 0) }
	}
	id, err := s.Add(c.Context(), path, o)
	if p != nil {
		p.Finish(err == nil)
	}
	if err != nil {
		return err
	}
	if p != nil {
		fmt.Fprintf(stderr, "added %s\n", p.summary(fi.Size()))
	}
	fmt.Fprintln(stdout, id)
	return nil
}
