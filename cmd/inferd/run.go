package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/node"
)

func init() { register(newRunCmd) }

func newRunCmd() *cobra.Command {
	var home, logLevel string
	c := &cobra.Command{
		Use:   "run [--home DIR]",
		Short: "Run a full node (a validator when its key is in the genesis validator set)",
		Long: `Run the node in DIR: libp2p networking, consensus, the ledger, block sync and
the HTTP API (config/config.toml says where each listens). Stop with Ctrl-C
or SIGTERM; after a crash or kill -9, run it again: it resumes on its own.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := keysHome(home)
			if err != nil {
				return err
			}
			return runNode(h, logLevel)
		},
	}
	c.Flags().StringVar(&home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
	c.Flags().StringVar(&logLevel, "log-level", "", "debug, info, warn or error (default: log_level in config.toml)")
	return c
}

func runNode(home, logLevel string) error {
	cfg, err := node.LoadConfig(home)
	if err != nil {
		return fmt.Errorf("%v (run 'inferd init --home %s' first)", err, home)
	}
	if logLevel == "" {
		logLevel = cfg.LogLevel
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", logLevel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	if path := os.Getenv("INFERD_CPUPROFILE"); path != "" {
		// For profiling a node under load: the profile covers the whole run.
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	n, err := node.Open(home, log)
	if err != nil {
		return err
	}
	defer n.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := n.Start(ctx)
	if err != nil {
		return err
	}
	err = r.Wait(ctx)
	log.Info("node stopping")
	return err
}
