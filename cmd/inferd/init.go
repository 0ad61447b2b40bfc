package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/node"
)

func init() { register(newInitCmd) }

type initArgs struct {
	home, chainID, moniker string
	keyName, backend       string
	operator               string
	balance, selfBond      string
	commission             string
	apiAddress             string
	genesis                string   // --genesis FILE|URL: join that network
	bootstrap              []string // --bootstrap: p2p.bootstrap_peers
	changed                map[string]bool
}

func newInitCmd() *cobra.Command {
	a := &initArgs{}
	c := &cobra.Command{
		Use:   "init (--chain-id ID | --genesis FILE|URL) --moniker NAME [--home DIR]",
		Short: "Create a node home: config.toml, node and validator keys, and a genesis (new or joined)",
		Long: `Create a new node home directory with config/config.toml, config/node_key.json,
config/priv_validator_key.json and config/genesis.json.

With --chain-id, the genesis holds a new network of one validator (this
node), whose operator account is a new key in the keyring (--key, default
"validator"), or an existing address (--operator).

With --genesis FILE or URL, the node joins that existing network as a full
node: the genesis is checked and copied, no keyring key is made, and the
consensus key is kept for later (inferd tx staking create-validator). Then:
inferd run --bootstrap /ip4/.../tcp/26656/p2p/12D3KooW...

Refuses to touch a home that already holds a configuration or genesis.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			a.changed = map[string]bool{}
			c.Flags().Visit(func(f *pflag.Flag) { a.changed[f.Name] = true })
			return runInit(a)
		},
	}
	f := c.Flags()
	f.StringVar(&a.home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
	f.StringVar(&a.chainID, "chain-id", "", "chain id of the new network (required)")
	f.StringVar(&a.moniker, "moniker", "", "human-readable name of this node (required)")
	f.StringVar(&a.keyName, "key", "validator", "keyring name of the operator key to create")
	f.StringVar(&a.backend, "keyring-backend", string(keystore.BackendFile), "keyring backend: file or test (unencrypted)")
	f.StringVar(&a.operator, "operator", "", "use this existing inf1... address as operator instead of creating a key")
	f.StringVar(&a.balance, "balance", "1000000inf", "genesis balance of the operator account")
	f.StringVar(&a.selfBond, "self-bond", "10000inf", "genesis self-bond of the validator")
	f.StringVar(&a.commission, "commission", "10%", "validator commission")
	f.StringVar(&a.apiAddress, "api-address", "", "the API's host:port (default 127.0.0.1:26657); any address but loopback also gets a new API token in config/api_token")
	f.StringVar(&a.genesis, "genesis", "", "join an existing network: its genesis.json, a file or an http(s) URL")
	f.StringSliceVar(&a.bootstrap, "bootstrap", nil, "peers to dial at start (p2p.bootstrap_peers): multiaddrs with /p2p/<peer id>, comma-separated")
	return c
}

func runInit(a *initArgs) error {
	if a.genesis != "" {
		return runInitJoin(a)
	}
	if a.chainID == "" || a.moniker == "" {
		return usagef("--moniker and one of --chain-id (a new network) or --genesis (join one) are required (e.g. inferd init --chain-id inference-devnet-1 --moniker mynode)")
	}
	if err := ledger.ValidateChainID(a.chainID); err != nil {
		return usageError{err}
	}
	balance, err := parseAmount(a.balance)
	if err != nil {
		return usagef("--balance: %v", err)
	}
	selfBond, err := parseAmount(a.selfBond)
	if err != nil {
		return usagef("--self-bond: %v", err)
	}
	commission, err := parsePPM(a.commission)
	if err != nil {
		return usagef("--commission: %v", err)
	}
	cfg, err := initConfig(a)
	if err != nil {
		return err
	}
	home, err := keysHome(a.home)
	if err != nil {
		return err
	}
	for _, f := range []string{node.ConfigFile, node.GenesisFile, node.ValidatorKeyFile} {
		if _, err := os.Stat(filepath.Join(home, f)); err == nil {
			return fmt.Errorf("%s already exists: %s is already initialised; choose another --home or remove it first", filepath.Join(home, f), home)
		}
	}
	var op keys.Address
	if a.operator != "" {
		if op, err = keys.ParseAddress(a.operator); err != nil {
			return usagef("--operator: %v", err)
		}
	}
	for _, d := range []string{node.ConfigDir, node.DataDir} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			return fmt.Errorf("create %s: %v", filepath.Join(home, d), err)
		}
	}
	if a.operator == "" {
		info, err := createInitKey(home, a)
		if err != nil {
			return err
		}
		op = info.Address
	}
	tokenNote, consPub, err := writeNodeHome(home, &cfg)
	if err != nil {
		return err
	}
	g := &ledger.Genesis{
		ChainID:     a.chainID,
		GenesisTime: time.Now().UTC().Truncate(time.Second),
		Accounts:    []ledger.GenesisAccount{{Address: op, Balance: balance}},
		Validators: []ledger.GenesisValidator{{
			Operator: op, ConsPubKey: ledger.HexBytes(consPub), Moniker: a.moniker,
			SelfBond: selfBond, Commission: commission,
		}},
	}
	if err := chain.ValidateGenesis(g); err != nil {
		return fmt.Errorf("%v; adjust the flags", err)
	}
	if err := g.Save(filepath.Join(home, node.GenesisFile)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Initialised %s\n  chain id:   %s\n  moniker:    %s\n  operator:   %s\n  validator:  %s (consensus address)\n  genesis:    %s\n",
		home, a.chainID, a.moniker, op, keys.AddressOf(consPub), filepath.Join(home, node.GenesisFile))
	fmt.Fprint(stdout, tokenNote)
	return nil
}

func createInitKey(home string, a *initArgs) (keystore.Info, error) {
	ka := &keysArgs{home: home, backend: a.backend, output: "text"}
	kr, err := ka.open(a.keyName)
	if err != nil {
		return keystore.Info{}, err
	}
	if info, err := kr.Get(a.keyName); err == nil {
		return info, nil // reuse an existing key of that name
	} else if !errors.Is(err, keystore.ErrNotFound) {
		return keystore.Info{}, ka.explain(err, a.keyName)
	}
	pass := ""
	if kr.Backend() == keystore.BackendFile {
		if pass, err = newPassSource().get(envKeyringPassphrase, fmt.Sprintf("the passphrase for new key %q", a.keyName), true); err != nil {
			return keystore.Info{}, err
		}
	}
	info, err := kr.Add(a.keyName, pass)
	if err != nil {
		return keystore.Info{}, ka.explain(err, a.keyName)
	}
	return info, nil
}
