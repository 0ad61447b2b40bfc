// Command inferd is the node software of the Inference network and the CLI
// to use it. main parses flags and calls into packages; each subcommand lives
// in its own file as a constructor returning a *cobra.Command.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// stdout and stderr are variables so tests can capture what commands print.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
	stdin  io.Reader = os.Stdin
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI with args and returns the process exit code. Every
// error is printed as one line: what went wrong and, where known, what to do.
func run(args []string) int {
	if path := os.Getenv("INFERD_CPUPROFILE"); path != "" {
		// For profiling a node under load or one command (an add, a
		// fetch): the profile covers the whole process. "%p" in the path
		// is the process ID, for runs of several processes.
		f, err := os.Create(strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid())))
		if err != nil {
			fmt.Fprintln(stderr, "Error: INFERD_CPUPROFILE:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "Error: INFERD_CPUPROFILE:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		msg := oneLine(err)
		if (strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag")) && !strings.Contains(msg, "--help") {
			msg += " (see 'inferd --help')"
		}
		fmt.Fprintln(stderr, "Error:", msg)
		var ue usageError
		if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
			return 2
		}
		return 1
	}
	return 0
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "inferd",
		Short:         "inferd runs a node of the Inference network and is its CLI",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionLine(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%v (see '%s --help')", err, c.CommandPath())}
	})
	for _, add := range subcommands {
		root.AddCommand(add())
	}
	return root
}

// subcommands is filled by each command file's init, keeping main.go free of
// a list that every new command must edit.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

// usageError marks a mistake in how the command was invoked (exit code 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}
