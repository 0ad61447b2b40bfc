package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferd/inferd/node"
)

func TestConfigShowAndSet(t *testing.T) {
	clearEnv(t)
	home := filepath.Join(t.TempDir(), "n")
	mustCLI(t, "", "init", "--home", home, "--chain-id", "dev-1", "--moniker", "one", "--keyring-backend", "test")
	path := filepath.Join(home, node.ConfigFile)
	// A comment of the operator's own must survive a set.
	raw, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(raw), "[api]", "# my note about the API\n[api]", 1)), 0o644)

	if v := mustCLI(t, "", "config", "show", "api.address", "--home", home); v != "127.0.0.1:26657\n" {
		t.Fatalf("show api.address: %q", v)
	}
	out := mustCLI(t, "", "config", "set", "api.address", "0.0.0.0:9000", "--home", home)
	if !strings.Contains(out, "api.address = 0.0.0.0:9000") {
		t.Fatalf("set output: %q", out)
	}
	peer := "/ip4/10.0.0.1/tcp/26656/p2p/12D3KooWLRQLrNtEyXSBeBtSm6TgxhGdFzVs6oFSPj6mnx7BVQ9r"
	mustCLI(t, "", "config", "set", "p2p.bootstrap_peers", peer+","+peer, "--home", home)
	mustCLI(t, "", "config", "set", "consensus.commit_delay", "250ms", "--home", home)
	mustCLI(t, "", "config", "set", "p2p.mdns", "true", "--home", home)
	mustCLI(t, "", "config", "set", "moniker", "renamed", "--home", home)
	cfg, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Address != "0.0.0.0:9000" || len(cfg.P2P.BootstrapPeers) != 2 || cfg.Consensus.CommitDelay.String() != "250ms" || !cfg.P2P.MDNS || cfg.Moniker != "renamed" {
		t.Fatalf("config after set: %+v", cfg)
	}
	raw, _ = os.ReadFile(path)
	if !strings.Contains(string(raw), "# my note about the API") || !strings.HasPrefix(string(raw), "# inferd node configuration") {
		t.Fatalf("set lost the file's comments:\n%s", raw)
	}
	mustCLI(t, "", "config", "set", "p2p.bootstrap_peers", "", "--home", home)
	if cfg, _ := node.LoadConfig(home); len(cfg.P2P.BootstrapPeers) != 0 {
		t.Fatalf("empty list: %v", cfg.P2P.BootstrapPeers)
	}
	whole := mustCLI(t, "", "config", "show", "--home", home)
	if !strings.Contains(whole, `address = "0.0.0.0:9000"`) || !strings.Contains(whole, "[consensus]") {
		t.Fatalf("show: %s", whole)
	}
	js := decode[map[string]string](t, mustCLI(t, "", "config", "show", "-o", "json", "--home", home))
	if js["api.address"] != "0.0.0.0:9000" || js["mempool.max_txs"] != "10000" {
		t.Fatalf("show -o json: %v", js)
	}

	before, _ := os.ReadFile(path)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"set", "api.adress", "x"}, 2, "valid settings: agent.key, agent.keyring_backend"},
		{[]string{"show", "nope"}, 2, `unknown setting "nope"`},
		{[]string{"set", "api.address", "9000"}, 2, "api.address"},
		{[]string{"set", "log_level", "loud"}, 2, "want debug, info, warn or error"},
		{[]string{"set", "p2p.max_peers", "many"}, 2, "not an integer"},
		{[]string{"set", "p2p.mdns", "maybe"}, 2, "true or false"},
		{[]string{"set", "consensus.timeout_propose", "1"}, 2, "not a duration"},
		{[]string{"set", "p2p.bootstrap_peers", "/ip4/1.2.3.4/tcp/1"}, 2, "/p2p/<peer id>"},
		{[]string{"set", "api.address"}, 2, "takes 2 arguments, KEY VALUE; got 1"},
		{[]string{}, 2, "inferd config show [KEY] or inferd config set KEY VALUE"},
	} {
		code, _, errOut := cli(t, "", append(append([]string{"config"}, c.args...), "--home", home)...)
		if code != c.code || !strings.Contains(errOut, c.want) || !oneLineError(errOut) {
			t.Errorf("config %v: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("a refused set changed the file")
	}
	code, _, errOut := cli(t, "", "config", "show", "--home", filepath.Join(t.TempDir(), "none"))
	if code != 1 || !strings.Contains(errOut, "inferd init") {
		t.Fatalf("no home: %d %q", code, errOut)
	}
}

func TestQueryBlockArgs(t *testing.T) {
	clearEnv(t)
	_, url := testNode(t)
	b := decode[map[string]any](t, mustCLI(t, "", "query", "block", "--node", url, "-o", "json"))
	if b["height"] == nil {
		t.Fatalf("query block without a height: %v", b)
	}
	code, _, errOut := cli(t, "", "query", "block", "1", "2", "--node", url)
	if code != 2 || !strings.Contains(errOut, "takes at most 1 argument") || !strings.Contains(errOut, "usage: inferd query block [HEIGHT|latest]") {
		t.Fatalf("two heights: %d %q", code, errOut)
	}
}
