package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node"
)

func TestShowNodeIDAndValidator(t *testing.T) {
	clearEnv(t)
	home := filepath.Join(t.TempDir(), "n")
	mustCLI(t, "", "init", "--home", home, "--chain-id", "dev-1", "--moniker", "one", "--keyring-backend", "test")
	priv, _ := node.LoadKeyFile(filepath.Join(home, node.NodeKeyFile))
	pid, _ := node.PeerIDOf(priv)
	if got := strings.TrimSpace(mustCLI(t, "", "show-node-id", "--home", home)); got != pid.String() {
		t.Fatalf("show-node-id %q, want %s", got, pid)
	}
	g, _ := ledger.LoadGenesis(filepath.Join(home, node.GenesisFile))
	v := decode[validatorKeyView](t, mustCLI(t, "", "show-validator", "--home", home))
	if v.Address != keys.AddressOf(keys.PubKey(g.Validators[0].ConsPubKey)) || v.PubKey != strings.ToLower(hexText(g.Validators[0].ConsPubKey)) {
		t.Fatalf("show-validator %+v, genesis %x", v, g.Validators[0].ConsPubKey)
	}
	if out := mustCLI(t, "", "show-validator", "--home", home, "-o", "text"); !strings.Contains(out, "pub_key: "+v.PubKey) {
		t.Fatalf("show-validator -o text: %q", out)
	}
	code, _, errOut := cli(t, "", "show-node-id", "--home", filepath.Join(t.TempDir(), "none"))
	if code != 1 || !strings.Contains(errOut, "inferd init") {
		t.Fatalf("no home: %d %q", code, errOut)
	}
}

func TestUnsafeResetAll(t *testing.T) {
	clearEnv(t)
	home := filepath.Join(t.TempDir(), "n")
	mustCLI(t, "", "init", "--home", home, "--chain-id", "dev-1", "--moniker", "one", "--keyring-backend", "test")
	for _, d := range []string{node.StateDir, node.BlocksDir} {
		os.MkdirAll(filepath.Join(home, d), 0o700)
		os.WriteFile(filepath.Join(home, d, "x"), []byte("x"), 0o600)
	}
	os.WriteFile(filepath.Join(home, node.WALFile), []byte("wal"), 0o600)
	s, err := content.Open(filepath.Join(home, content.Dir))
	if err != nil {
		t.Fatal(err)
	}
	// Held open, as by a running node: refused, nothing removed.
	code, _, errOut := cli(t, "", "unsafe-reset-all", "--home", home)
	if code != 1 || !strings.Contains(errOut, "running") {
		t.Fatalf("reset of a running node: %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(home, node.WALFile)); err != nil {
		t.Fatal("a refused reset removed the WAL")
	}
	s.Close()
	mustCLI(t, "", "unsafe-reset-all", "--home", home)
	for _, f := range []string{node.StateDir, node.BlocksDir, node.WALFile} {
		if _, err := os.Stat(filepath.Join(home, f)); err == nil {
			t.Errorf("%s survived the reset", f)
		}
	}
	for _, f := range []string{content.Dir, node.ConfigFile, node.GenesisFile, node.NodeKeyFile, node.ValidatorKeyFile} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Errorf("%s was removed: %v", f, err)
		}
	}
	mustCLI(t, "", "unsafe-reset-all", "--home", home, "--content")
	if _, err := os.Stat(filepath.Join(home, content.Dir)); err == nil {
		t.Error("--content kept data/content")
	}
}

// A node API without a p2p host (the test backend) answers id and swarm
// peers with a clear error.
func TestIDWithoutHost(t *testing.T) {
	clearEnv(t)
	_, url := testNode(t)
	code, _, errOut := cli(t, "", "swarm", "peers", "--node", url)
	if code != 1 || !strings.Contains(errOut, "no p2p host") || !oneLineError(errOut) {
		t.Fatalf("swarm peers: %d %q", code, errOut)
	}
}
