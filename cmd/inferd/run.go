package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/node"
)

func init() { register(newRunCmd) }

func newRunCmd() *cobra.Command {
	var home, logLevel, backend string
	var provider bool
	var c *cobra.Command
	c = &cobra.Command{
		Use:   "run [--home DIR] [--provider [--provider.backend cpu|gpu]]",
		Short: "Run a full node (a validator when its key is in the genesis validator set)",
		Long: `Run the node in DIR: libp2p networking, consensus, the ledger, block sync and
the HTTP API (config/config.toml says where each listens). Stop with Ctrl-C
or SIGTERM; after a crash or kill -9, run it again: it resumes on its own.

With agent.key set in config.toml, the node signs its own transactions with
that keyring key: as a validator it evaluates contest submissions and checks
compute challenges; with --provider it also runs the compute provider agent
(register first: inferd tx compute register). See docs/operations.md.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := keysHome(home)
			if err != nil {
				return err
			}
			return runNode(h, logLevel, runOverrides{provider: provider, backend: backend, setBackend: c.Flags().Changed("provider.backend")})
		},
	}
	c.Flags().StringVar(&home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
	c.Flags().StringVar(&logLevel, "log-level", "", "debug, info, warn or error (default: log_level in config.toml)")
	c.Flags().BoolVar(&provider, "provider", false, "also run the compute provider agent (provider.enabled in config.toml)")
	c.Flags().StringVar(&backend, "provider.backend", "cpu", "compute backend of the provider agent: cpu or gpu (provider.backend in config.toml)")
	return c
}

// runOverrides are the run flags that override config.toml.
type runOverrides struct {
	provider   bool
	backend    string
	setBackend bool
}

func runNode(home, logLevel string, o runOverrides) error {
	cfg, err := node.LoadConfig(home)
	if err != nil {
		return fmt.Errorf("%v (run 'inferd init --home %s' first)", err, home)
	}
	if o.setBackend {
		if o.backend != "cpu" && o.backend != "gpu" {
			return usagef("--provider.backend %q: want cpu or gpu", o.backend)
		}
		cfg.Provider.Backend = o.backend
	}
	if o.provider {
		if cfg.Agent.Key == "" {
			return usagef("--provider needs agent.key in %s: the keyring key of the provider's account (inferd keys add NAME --home %s, then set agent.key)", filepath.Join(home, node.ConfigFile), home)
		}
		cfg.Provider.Enabled = true
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
	n.Config.Provider = cfg.Provider
	if cfg.Agent.Key != "" {
		kh := cfg.Agent.KeyringHome
		if kh == "" {
			kh = home
		}
		priv, _, err := loadSigner(kh, cfg.Agent.KeyringBackend, cfg.Agent.Key)
		if err != nil {
			return fmt.Errorf("agent.key %q: %v", cfg.Agent.Key, err)
		}
		n.AgentKey = priv
		if n.Agents, err = agentsFor(n); err != nil {
			return err
		}
	}
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
