package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferd/inferd/node"
)

// A genesis made by a one-validator init, to join.
func networkGenesis(t *testing.T) (path string, raw []byte) {
	t.Helper()
	h := filepath.Join(t.TempDir(), "net")
	mustCLI(t, "", "init", "--home", h, "--chain-id", "net-1", "--moniker", "v", "--keyring-backend", "test")
	path = filepath.Join(h, node.GenesisFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, raw
}

func TestInitJoinFromFileAndURL(t *testing.T) {
	clearEnv(t)
	path, raw := networkGenesis(t)
	peer := "/ip4/127.0.0.1/tcp/26656/p2p/12D3KooWLRQLrNtEyXSBeBtSm6TgxhGdFzVs6oFSPj6mnx7BVQ9r"
	home := filepath.Join(t.TempDir(), "full")
	out := mustCLI(t, "", "init", "--home", home, "--moniker", "full", "--genesis", path, "--bootstrap", peer)
	if !strings.Contains(out, "full node") || !strings.Contains(out, "net-1") {
		t.Fatalf("init --genesis output: %s", out)
	}
	got, _ := os.ReadFile(filepath.Join(home, node.GenesisFile))
	if string(got) != string(raw) {
		t.Fatal("the joined genesis is not a byte-for-byte copy")
	}
	cfg, err := node.LoadConfig(home)
	if err != nil || len(cfg.P2P.BootstrapPeers) != 1 || cfg.P2P.BootstrapPeers[0] != peer || cfg.Moniker != "full" {
		t.Fatalf("config %+v %v", cfg.P2P, err)
	}
	for _, f := range []string{node.NodeKeyFile, node.ValidatorKeyFile} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "keyring")); err == nil {
		t.Fatal("init --genesis made a keyring key nobody asked for")
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/genesis.json" {
			http.NotFound(w, r)
			return
		}
		w.Write(raw)
	}))
	defer srv.Close()
	home2 := filepath.Join(t.TempDir(), "full2")
	mustCLI(t, "", "init", "--home", home2, "--moniker", "full2", "--genesis", srv.URL+"/genesis.json")
	if got, _ := os.ReadFile(filepath.Join(home2, node.GenesisFile)); string(got) != string(raw) {
		t.Fatal("genesis from a URL differs")
	}
	code, _, errOut := cli(t, "", "init", "--home", filepath.Join(t.TempDir(), "x"), "--moniker", "x", "--genesis", srv.URL+"/nope")
	if code != 1 || !strings.Contains(errOut, "404") || !oneLineError(errOut) {
		t.Fatalf("404 genesis URL: exit %d %q", code, errOut)
	}
}

func TestInitJoinErrors(t *testing.T) {
	clearEnv(t)
	path, _ := networkGenesis(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"chain_id": "x", "nonsense": 1}`), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--genesis", path}, 2, "--moniker is required"},
		{[]string{"--moniker", "m", "--genesis", filepath.Join(t.TempDir(), "missing.json")}, 2, "no such file"},
		{[]string{"--moniker", "m", "--genesis", bad}, 1, "nonsense"},
		{[]string{"--moniker", "m", "--genesis", path, "--chain-id", "other-1"}, 2, `genesis, which is for chain "net-1"`},
		{[]string{"--moniker", "m", "--genesis", path, "--operator", "inf1xyz"}, 2, "--operator makes a new network's genesis"},
		{[]string{"--moniker", "m", "--genesis", path, "--bootstrap", "/ip4/1.2.3.4/tcp/1"}, 2, "/p2p/<peer id>"},
		{[]string{"--moniker", "m"}, 2, "--chain-id (a new network) or --genesis"},
	}
	for _, c := range cases {
		home := filepath.Join(t.TempDir(), "h")
		code, _, errOut := cli(t, "", append([]string{"init", "--home", home}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.want) || !oneLineError(errOut) {
			t.Errorf("init %v: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
		if _, err := os.Stat(filepath.Join(home, node.ConfigFile)); err == nil {
			t.Errorf("init %v failed but wrote a config", c.args)
		}
	}
}

// Run flags override config.toml and are checked before the node opens
// anything.
func TestRunFlagsOverrideConfig(t *testing.T) {
	cfg := node.DefaultConfig("m")
	peer := "/ip4/10.0.0.1/tcp/26656/p2p/12D3KooWLRQLrNtEyXSBeBtSm6TgxhGdFzVs6oFSPj6mnx7BVQ9r"
	set := map[string]bool{"bootstrap": true, "p2p.laddr": true, "api.laddr": true, "agent.key": true}
	o := runOverrides{bootstrap: []string{peer}, laddr: []string{"/ip4/127.0.0.1/tcp/9"}, apiAddr: "127.0.0.1:9", agentKey: "op",
		changed: func(f string) bool { return set[f] }}
	if err := o.apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.P2P.BootstrapPeers[0] != peer || cfg.P2P.ListenAddresses[0] != "/ip4/127.0.0.1/tcp/9" || cfg.API.Address != "127.0.0.1:9" || cfg.Agent.Key != "op" {
		t.Fatalf("overrides not applied: %+v %+v %+v", cfg.P2P, cfg.API, cfg.Agent)
	}
	if all := allInterfaces(node.DefaultConfig("m").P2P.ListenAddresses); len(all) != 2 {
		t.Fatalf("the default listen addresses bind all interfaces, got %v", all)
	}
	if all := allInterfaces(cfg.P2P.ListenAddresses); len(all) != 0 {
		t.Fatalf("127.0.0.1 is not all interfaces: %v", all)
	}

	clearEnv(t)
	path, _ := networkGenesis(t)
	home := filepath.Join(t.TempDir(), "full")
	mustCLI(t, "", "init", "--home", home, "--moniker", "full", "--genesis", path)
	for _, c := range []struct{ flag, value, want string }{
		{"--bootstrap", "12D3KooW", "p2p.bootstrap_peers"},
		{"--p2p.laddr", "0.0.0.0:26656", "p2p.listen_addresses"},
		{"--api.laddr", "26657", "api.address"},
	} {
		code, _, errOut := cli(t, "", "run", "--home", home, c.flag, c.value)
		if code != 2 || !strings.Contains(errOut, c.want) || !oneLineError(errOut) {
			t.Errorf("run %s %s: exit %d %q", c.flag, c.value, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(home, node.StateDir)); err == nil {
		t.Error("a run refused for its flags opened the state store")
	}
}
