package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the inferd version, commit and Go version (also: inferd --version)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(stdout, versionLine())
			return nil
		},
	}
}

// gitCommit is set by the Makefile (-ldflags -X main.gitCommit=...) for
// builds without VCS stamping (GOFLAGS=-buildvcs=false).
var gitCommit string

// buildInfo is what the binary knows about its build; a variable so that
// tests can give it one.
var buildInfo = debug.ReadBuildInfo

// versionLine is e.g. "inferd v0.3.0 (commit 1a2b3c4d5e6f, 2026-12-02T14:00:00Z, modified) go1.26.8 linux/amd64".
// A binary built outside a git checkout says "commit unknown".
func versionLine() string {
	v, commit, when, modified := "devel", "unknown", "", false
	if gitCommit != "" {
		commit = gitCommit
	}
	if bi, ok := buildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
				if len(commit) > 12 {
					commit = commit[:12]
				}
			case "vcs.time":
				when = ", " + s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	mod := ""
	if modified {
		mod = ", modified"
	}
	return fmt.Sprintf("inferd %s (commit %s%s%s) %s %s/%s", v, commit, when, mod, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
