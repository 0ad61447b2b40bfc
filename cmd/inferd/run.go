package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/node"
)

func init() { register(newRunCmd) }

func newRunCmd() *cobra.Command {
	var home, logLevel, backend string
	var provider bool
	var o runOverrides
	var c *cobra.Command
	c = &cobra.Command{
		Use:   "run [--home DIR] [--bootstrap ADDR] [--p2p.laddr ADDR] [--api.laddr HOST:PORT] [--agent.key KEY] [--provider [--provider.backend cpu|gpu] [--provider.lease-price AMOUNT] [--provider.allow-network] [--provider.allow-registry] [--provider.no-containers]]",
		Short: "Run a full node (a validator when its key is in the genesis validator set)",
		Long: `Run the node in DIR: libp2p networking, consensus, the ledger, block sync and
the HTTP API (config/config.toml says where each listens). Stop with Ctrl-C
or SIGTERM; after a crash or kill -9, run it again: it resumes on its own.

With agent.key set in config.toml, the node signs its own transactions with
that keyring key: as a validator it evaluates contest submissions and checks
compute challenges; with --provider it also runs the compute provider agent
(register first: inferd tx compute register). See docs/operations.md.

--bootstrap, --p2p.laddr, --api.laddr and --agent.key override
p2p.bootstrap_peers, p2p.listen_addresses, api.address and agent.key of
config.toml for this run (inferd config set KEY VALUE changes the file).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h, err := keysHome(home)
			if err != nil {
				return err
			}
			o.provider, o.backend, o.setBackend = provider, backend, c.Flags().Changed("provider.backend")
			o.changed = func(name string) bool { return c.Flags().Changed(name) }
			return runNode(h, logLevel, o)
		},
	}
	c.Flags().StringVar(&home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
	c.Flags().StringVar(&logLevel, "log-level", "", "debug, info, warn or error (default: log_level in config.toml)")
	c.Flags().BoolVar(&provider, "provider", false, "also run the compute provider agent (provider.enabled in config.toml)")
	c.Flags().StringVar(&backend, "provider.backend", "cpu", "compute backend of the provider agent: cpu or gpu (provider.backend in config.toml)")
	c.Flags().BoolVar(&o.noContainers, "provider.no-containers", false, "run Wasm jobs only: no container jobs or leases (provider.no_containers)")
	c.Flags().BoolVar(&o.allowNetwork, "provider.allow-network", false, "let container jobs that ask for network = true reach the network (provider.allow_network)")
	c.Flags().BoolVar(&o.allowRegistry, "provider.allow-registry", false, "pull images named by a pinned registry ref, not only by CID (provider.allow_registry)")
	c.Flags().StringVar(&o.leasePrice, "provider.lease-price", "", "price per lease block for services, e.g. 100uinf; empty or 0 takes no services (provider.lease_price)")
	c.Flags().StringSliceVar(&o.bootstrap, "bootstrap", nil, "peers to dial, multiaddrs with /p2p/<peer id>, comma-separated (replaces p2p.bootstrap_peers)")
	c.Flags().StringSliceVar(&o.laddr, "p2p.laddr", nil, "libp2p listen multiaddrs, comma-separated, e.g. /ip4/0.0.0.0/tcp/26656 (replaces p2p.listen_addresses)")
	c.Flags().StringVar(&o.apiAddr, "api.laddr", "", "HTTP API listen address host:port (replaces api.address)")
	c.Flags().StringVar(&o.agentKey, "agent.key", "", "keyring key that signs the node's own transactions (replaces agent.key; \"\" for none)")
	return c
}

// runOverrides are the run flags that override config.toml.
type runOverrides struct {
	provider   bool
	backend    string
	setBackend bool
	bootstrap  []string
	laddr      []string
	apiAddr    string
	agentKey   string
	changed    func(flag string) bool // nil: no flag set

	noContainers, allowNetwork, allowRegistry bool
	leasePrice                                string
}

// apply puts the run flags over cfg and checks the result.
func (o runOverrides) apply(cfg *node.Config) error {
	changed := o.changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	if changed("bootstrap") {
		cfg.P2P.BootstrapPeers = o.bootstrap
	}
	if changed("p2p.laddr") {
		cfg.P2P.ListenAddresses = o.laddr
	}
	if changed("api.laddr") {
		cfg.API.Address = o.apiAddr
	}
	if changed("agent.key") {
		cfg.Agent.Key = o.agentKey
	}
	if changed("provider.no-containers") {
		cfg.Provider.NoContainers = o.noContainers
	}
	if changed("provider.allow-network") {
		cfg.Provider.AllowNetwork = o.allowNetwork
	}
	if changed("provider.allow-registry") {
		cfg.Provider.AllowRegistry = o.allowRegistry
	}
	if changed("provider.lease-price") {
		cfg.Provider.LeasePrice = o.leasePrice
	}
	if err := cfg.Validate(); err != nil {
		return usagef("%v (check the run flags)", err)
	}
	return nil
}

// allInterfaces lists the listen addresses that bind every interface.
func allInterfaces(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if strings.HasPrefix(a, "/ip4/0.0.0.0/") || strings.HasPrefix(a, "/ip6/::/") {
			out = append(out, a)
		}
	}
	return out
}

func runNode(home, logLevel string, o runOverrides) error {
	cfg, err := node.LoadConfig(home)
	if err != nil {
		return fmt.Errorf("%v (run 'inferd init --home %s' first)", err, home)
	}
	if err := o.apply(&cfg); err != nil {
		return err
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
	n, err := node.Open(home, log)
	if err != nil {
		return err
	}
	defer n.Close()
	n.Config.Provider = cfg.Provider
	n.Config.P2P, n.Config.API, n.Config.Agent = cfg.P2P, cfg.API, cfg.Agent
	if all := allInterfaces(cfg.P2P.ListenAddresses); len(all) > 0 {
		log.Info("p2p listens on all network interfaces (0.0.0.0); set p2p.listen_addresses or --p2p.laddr to narrow it", "addrs", strings.Join(all, ","))
	}
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
	var dial []string
	for _, a := range r.Host.Addrs() {
		dial = append(dial, a.String())
	}
	log.Info("p2p addresses; another node joins with --bootstrap and one of them", "addrs", strings.Join(dial, ","))
	err = r.Wait(ctx)
	log.Info("node stopping")
	return err
}
