package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

// maxGenesisBytes bounds a genesis read from a file or a URL.
const maxGenesisBytes = 64 << 20

// initConfig is the config.toml that init writes, checked before anything
// touches the disk.
func initConfig(a *initArgs) (node.Config, error) {
	cfg := node.DefaultConfig(a.moniker)
	cfg.P2P.BootstrapPeers = a.bootstrap
	if a.apiAddress != "" {
		cfg.API.Address = a.apiAddress
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usagef("%v (fix --moniker, --bootstrap or --api-address)", err)
	}
	return cfg, nil
}

// writeNodeHome writes what every node home holds, for a new network and
// for a joining node alike: the API token when the API is exposed, the
// config, the node key and the consensus key. It returns the token line
// to print and the consensus public key.
func writeNodeHome(home string, cfg *node.Config) (tokenNote string, consPub keys.PubKey, err error) {
	if tokenNote, err = initAPIToken(home, cfg); err != nil {
		return "", nil, err
	}
	if err := node.SaveConfig(home, *cfg); err != nil {
		return "", nil, err
	}
	if _, err := node.GenerateKeyFile(filepath.Join(home, node.NodeKeyFile)); err != nil {
		return "", nil, err
	}
	consPub, err = node.GenerateKeyFile(filepath.Join(home, node.ValidatorKeyFile))
	return tokenNote, consPub, err
}

// initAPIToken makes a token file when the API is exposed beyond loopback
// (the node refuses to start without one) and returns the line that says so.
func initAPIToken(home string, cfg *node.Config) (string, error) {
	if api.IsLoopback(cfg.API.Address) {
		return "", nil
	}
	path, err := node.NewAPIToken(home)
	if err != nil {
		return "", err
	}
	cfg.API.TokenFile = node.APITokenFile
	return fmt.Sprintf("  api token:  %s (clients pass it with --api-token or $%s)\n", path, envAPIToken), nil
}

// runInitJoin is init --genesis: a home for a full node of an existing
// network. The consensus key is made (a full node can become a validator
// later with tx staking create-validator); no keyring key is made, and the
// genesis is copied byte for byte after it is checked.
func runInitJoin(a *initArgs) error {
	if a.moniker == "" {
		return usagef("--moniker is required (e.g. inferd init --moniker mynode --genesis genesis.json)")
	}
	for _, f := range []string{"operator", "balance", "self-bond", "commission", "key"} {
		if a.changed[f] {
			return usagef("--%s makes a new network's genesis; it cannot be used with --genesis, which joins an existing one", f)
		}
	}
	cfg, err := initConfig(a)
	if err != nil {
		return err
	}
	raw, err := readGenesis(a.genesis)
	if err != nil {
		return err
	}
	g, err := ledger.ParseGenesis(raw)
	if err == nil {
		err = chain.ValidateGenesis(g)
	}
	if err != nil {
		return fmt.Errorf("--genesis %s: %v; ask the network's operators for its genesis.json", a.genesis, err)
	}
	if a.chainID != "" && a.chainID != g.ChainID {
		return usagef("--chain-id %q does not match the genesis, which is for chain %q; drop --chain-id", a.chainID, g.ChainID)
	}
	home, err := keysHome(a.home)
	if err != nil {
		return err
	}
	for _, f := range []string{node.ConfigFile, node.GenesisFile, node.ValidatorKeyFile, node.NodeKeyFile} {
		if _, err := os.Stat(filepath.Join(home, f)); err == nil {
			return fmt.Errorf("%s already exists: %s is already initialised; choose another --home or remove it first", filepath.Join(home, f), home)
		}
	}
	for _, d := range []string{node.ConfigDir, node.DataDir} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			return fmt.Errorf("create %s: %v", filepath.Join(home, d), err)
		}
	}
	if err := ledger.WriteFileAtomic(filepath.Join(home, node.GenesisFile), raw, 0o644); err != nil {
		return err
	}
	tokenNote, consPub, err := writeNodeHome(home, &cfg)
	if err != nil {
		return err
	}
	priv, err := node.LoadKeyFile(filepath.Join(home, node.NodeKeyFile))
	if err != nil {
		return err
	}
	pid, err := node.PeerIDOf(priv)
	if err != nil {
		return err
	}
	next := "inferd run --home " + home + " --bootstrap /ip4/<peer ip>/tcp/26656/p2p/<peer id>"
	if len(a.bootstrap) > 0 {
		next = "inferd run --home " + home
	}
	fmt.Fprintf(stdout, "Initialised %s as a full node of an existing network\n  chain id:   %s (%d validators in the genesis)\n  moniker:    %s\n  node id:    %s\n  consensus:  %s (not a validator; see docs/operations.md to become one)\n  genesis:    %s\nNext: %s\n",
		home, g.ChainID, len(g.Validators), a.moniker, pid, keys.AddressOf(consPub), filepath.Join(home, node.GenesisFile), next)
	fmt.Fprint(stdout, tokenNote)
	return nil
}

// readGenesis reads a genesis from a file or an http(s) URL.
func readGenesis(src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, usagef("--genesis: %v (give the path of the network's genesis.json, or an http(s) URL)", err)
		}
		defer f.Close()
		return readLimited(f, src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, usagef("--genesis %q: %v", src, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("--genesis: fetch %s: %v (check the URL, or download the file and pass its path)", src, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("--genesis: fetch %s: HTTP %s (check the URL)", src, resp.Status)
	}
	return readLimited(resp.Body, src)
}

func readLimited(r io.Reader, src string) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxGenesisBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--genesis: read %s: %v", src, err)
	}
	if len(raw) > maxGenesisBytes {
		return nil, fmt.Errorf("--genesis: %s is larger than %d MiB; it is not a genesis", src, maxGenesisBytes>>20)
	}
	return raw, nil
}
