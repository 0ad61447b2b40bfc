package node

import (
	"errors"
	"fmt"
	"github.com/inferd/inferd/compute/jobspec"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node/api"
)

// Home directory layout.
const (
	ConfigDir          = "config"
	DataDir            = "data"
	ConfigFile         = "config/config.toml"
	GenesisFile        = "config/genesis.json"
	NodeKeyFile        = "config/node_key.json"
	ValidatorKeyFile   = "config/priv_validator_key.json"
	ValidatorStateFile = "data/priv_validator_state.json"
)

// Config is config/config.toml. Every field has a default (DefaultConfig);
// docs/operations.md describes each one.
type Config struct {
	Moniker   string          `toml:"moniker"`
	LogLevel  string          `toml:"log_level"`
	P2P       P2PConfig       `toml:"p2p"`
	API       APIConfig       `toml:"api"`
	Consensus ConsensusConfig `toml:"consensus"`
	Mempool   MempoolConfig   `toml:"mempool"`
	Agent     AgentConfig     `toml:"agent"`
	Provider  ProviderConfig  `toml:"provider"`
	Content   ContentConfig   `toml:"content"`
	Pruning   PruningConfig   `toml:"pruning"`
	StateSync StateSyncConfig `toml:"statesync"`
}

// ContentConfig bounds every DAG the node walks for someone else: the
// gateway, fetch, pin (docs/content.md, "Limits"). The agents' fetches
// have their own, smaller, limits.
type ContentConfig struct {
	MaxDAGBytes  int64 `toml:"max_dag_bytes"`  // logical size: a block linked twice counts twice
	MaxDAGBlocks int   `toml:"max_dag_blocks"` // distinct blocks
}

// AgentConfig names the key that signs the node's own transactions: a
// validator's score attestations and compute checks, a provider's
// commitments and job results. Empty key: no agents run (a plain full
// node). The key lives in the keyring (inferd keys add), like a CLI key.
type AgentConfig struct {
	Key            string `toml:"key"`
	KeyringBackend string `toml:"keyring_backend"` // "file" (passphrase from $INFERD_KEYRING_PASSPHRASE) or "test"
	KeyringHome    string `toml:"keyring_home"`    // default: the node's home
}

// ProviderConfig runs the compute provider agent (inferd run --provider).
type ProviderConfig struct {
	Enabled bool   `toml:"enabled"`
	Backend string `toml:"backend"` // "cpu" or "gpu"
	// Container jobs and leases (docs/cloud.md), on by default where
	// podman and runc are installed.
	NoContainers  bool   `toml:"no_containers"`  // run Wasm jobs only
	AllowNetwork  bool   `toml:"allow_network"`  // jobs with network = true may run
	AllowRegistry bool   `toml:"allow_registry"` // images by pinned registry ref may be pulled
	LeasePrice    string `toml:"lease_price"`    // per lease block, e.g. "100uinf"; "" or "0": no services
}

// P2PConfig configures the libp2p host.
type P2PConfig struct {
	ListenAddresses []string `toml:"listen_addresses"`
	BootstrapPeers  []string `toml:"bootstrap_peers"`
	MDNS            bool     `toml:"mdns"`
	MaxPeers        int      `toml:"max_peers"`
}

// APIConfig configures the HTTP API and its protections (docs/api.md
// "Limits and timeouts"; apiconfig.go reads the token).
type APIConfig struct {
	Address string `toml:"address"`
	// TokenFile holds the bearer token of the write endpoints (relative
	// paths are under the home); $INFERD_API_TOKEN overrides it. Required
	// when Address is not loopback.
	TokenFile             string   `toml:"token_file"`
	MaxBodyBytes          int64    `toml:"max_body_bytes"`
	MaxAddBytes           int64    `toml:"max_add_bytes"`
	MaxConcurrentRequests int      `toml:"max_concurrent_requests"`
	MaxEventStreams       int      `toml:"max_event_streams"`
	CORSAllowedOrigins    []string `toml:"cors_allowed_origins"`
}

// ConsensusConfig holds the consensus timeouts.
type ConsensusConfig struct {
	TimeoutPropose   Duration `toml:"timeout_propose"`
	TimeoutPrevote   Duration `toml:"timeout_prevote"`
	TimeoutPrecommit Duration `toml:"timeout_precommit"`
	TimeoutDelta     Duration `toml:"timeout_delta"`
	CommitDelay      Duration `toml:"commit_delay"`
	// CreateEmptyBlocks false: a height does not start until there is
	// something to commit (txs or evidence waiting, the app hash of a block
	// with txs to put in a header, a peer that started the height) or
	// CreateEmptyBlocksInterval has passed since the last commit (0: never).
	// See docs/consensus.md, "Waiting for transactions".
	CreateEmptyBlocks         bool     `toml:"create_empty_blocks"`
	CreateEmptyBlocksInterval Duration `toml:"create_empty_blocks_interval"`
}

// MempoolConfig bounds the mempool.
type MempoolConfig struct {
	MaxTxs   int `toml:"max_txs"`
	MaxBytes int `toml:"max_bytes"`
}

// Duration is a time.Duration written as "1s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (use e.g. 500ms, 1s)", b)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultConfig is the configuration `inferd init` writes.
func DefaultConfig(moniker string) Config {
	return Config{
		Moniker:  moniker,
		LogLevel: "info",
		P2P: P2PConfig{
			ListenAddresses: []string{"/ip4/0.0.0.0/tcp/26656", "/ip4/0.0.0.0/udp/26656/quic-v1"},
			MaxPeers:        64,
		},
		API: APIConfig{Address: "127.0.0.1:26657", MaxBodyBytes: api.MaxBodyBytes, MaxAddBytes: api.MaxAddBytes,
			MaxConcurrentRequests: api.DefaultMaxConcurrent, MaxEventStreams: api.DefaultMaxEventStreams},
		Consensus: ConsensusConfig{
			TimeoutPropose:    Duration{1 * time.Second},
			TimeoutPrevote:    Duration{500 * time.Millisecond},
			TimeoutPrecommit:  Duration{500 * time.Millisecond},
			TimeoutDelta:      Duration{100 * time.Millisecond},
			CommitDelay:       Duration{time.Second},
			CreateEmptyBlocks: true,
		},
		Mempool:   MempoolConfig{MaxTxs: 10_000, MaxBytes: 64 << 20},
		Agent:     AgentConfig{KeyringBackend: "file"},
		Provider:  ProviderConfig{Backend: "cpu"},
		Content:   ContentConfig{MaxDAGBytes: content.DefaultMaxBytes, MaxDAGBlocks: content.DefaultMaxBlocks},
		Pruning:   PruningConfig{Strategy: "default"},
		StateSync: StateSyncConfig{SnapshotKeepRecent: 2},
	}
}

// Validate checks the configuration and names the bad field.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Moniker) == "" {
		return errors.New("config: moniker is empty")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	if _, _, err := net.SplitHostPort(c.API.Address); err != nil {
		return fmt.Errorf("config: api.address %q: %v (use host:port, e.g. 127.0.0.1:26657)", c.API.Address, err)
	}
	if err := c.API.validate(); err != nil {
		return err
	}
	if err := validateP2P(&c.P2P); err != nil {
		return err
	}
	if c.P2P.MaxPeers < 1 {
		return fmt.Errorf("config: p2p.max_peers must be at least 1")
	}
	for name, d := range map[string]Duration{"timeout_propose": c.Consensus.TimeoutPropose, "timeout_prevote": c.Consensus.TimeoutPrevote, "timeout_precommit": c.Consensus.TimeoutPrecommit} {
		if d.Duration <= 0 {
			return fmt.Errorf("config: consensus.%s must be positive", name)
		}
	}
	if c.Consensus.CreateEmptyBlocksInterval.Duration < 0 {
		return fmt.Errorf("config: consensus.create_empty_blocks_interval must not be negative")
	}
	if c.Mempool.MaxTxs < 1 || c.Mempool.MaxBytes < 1 {
		return fmt.Errorf("config: mempool.max_txs and mempool.max_bytes must be positive")
	}
	switch c.Agent.KeyringBackend {
	case "file", "test":
	default:
		return fmt.Errorf("config: agent.keyring_backend %q: want file or test", c.Agent.KeyringBackend)
	}
	switch c.Provider.Backend {
	case "cpu", "gpu":
	default:
		return fmt.Errorf("config: provider.backend %q: want cpu or gpu", c.Provider.Backend)
	}
	if c.Content.MaxDAGBytes < 1 || c.Content.MaxDAGBlocks < 1 {
		return fmt.Errorf("config: content.max_dag_bytes and content.max_dag_blocks must be positive (defaults %d and %d)", content.DefaultMaxBytes, content.DefaultMaxBlocks)
	}
	if err := c.Pruning.Validate(); err != nil {
		return err
	}
	if err := c.StateSync.Validate(); err != nil {
		return err
	}
	if c.Provider.LeasePrice != "" && c.Provider.LeasePrice != "0" {
		if _, err := jobspec.ParseAmount(c.Provider.LeasePrice); err != nil {
			return fmt.Errorf("config: provider.lease_price: %v", err)
		}
	}
	if c.Provider.Enabled && c.Agent.Key == "" {
		return fmt.Errorf("config: provider.enabled needs agent.key, the key of the provider's account (inferd keys add NAME, then set agent.key)")
	}
	return nil
}

// LoadConfig reads config.toml from home, refusing unknown keys.
func LoadConfig(home string) (Config, error) {
	path := filepath.Join(home, ConfigFile)
	c := DefaultConfig("")
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return c, fmt.Errorf("read %s: %v", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return c, fmt.Errorf("%s: unknown setting %q (see docs/operations.md)", path, und[0].String())
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}

// SaveConfig writes config.toml under home.
func SaveConfig(home string, c Config) error {
	var b strings.Builder
	b.WriteString("# inferd node configuration. See docs/operations.md for every setting.\n\n")
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(home, ConfigFile), []byte(b.String()), 0o644)
}
