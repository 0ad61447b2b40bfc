package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node"
)

func TestInitWritesAHome(t *testing.T) {
	clearEnv(t)
	home := filepath.Join(t.TempDir(), "n1")
	out := mustCLI(t, "", "init", "--home", home, "--chain-id", "dev-1", "--moniker", "one", "--keyring-backend", "test")
	if !strings.Contains(out, "dev-1") {
		t.Fatalf("init output: %s", out)
	}
	for _, f := range []string{node.ConfigFile, node.GenesisFile, node.NodeKeyFile, node.ValidatorKeyFile} {
		st, err := os.Stat(filepath.Join(home, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if strings.HasSuffix(f, "key.json") && st.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if _, err := node.LoadConfig(home); err != nil {
		t.Fatal(err)
	}
	g, err := ledger.LoadGenesis(filepath.Join(home, node.GenesisFile))
	if err != nil || len(g.Validators) != 1 || g.ChainID != "dev-1" {
		t.Fatalf("genesis %+v %v", g, err)
	}
	// The validator key in the genesis is the one in the key file.
	priv, err := node.LoadKeyFile(filepath.Join(home, node.ValidatorKeyFile))
	if err != nil || string(priv.Public().(keys.PubKey)) != string(g.Validators[0].ConsPubKey) {
		t.Fatalf("validator key mismatch: %v", err)
	}
	before, _ := os.ReadFile(filepath.Join(home, node.GenesisFile))
	code, _, errOut := cli(t, "", "init", "--home", home, "--chain-id", "dev-1", "--moniker", "one", "--keyring-backend", "test")
	if code == 0 || !strings.Contains(errOut, "already initialised") || !oneLineError(errOut) {
		t.Fatalf("second init: exit %d, %q", code, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(home, node.GenesisFile))
	if string(before) != string(after) {
		t.Fatal("second init changed the genesis")
	}
	mustCLI(t, "", "genesis", "validate", "--home", home)
}

func TestGenesisCommands(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	h1, h2 := filepath.Join(dir, "n1"), filepath.Join(dir, "n2")
	mustCLI(t, "", "init", "--home", h1, "--chain-id", "dev-1", "--moniker", "one", "--keyring-backend", "test")
	mustCLI(t, "", "init", "--home", h2, "--chain-id", "dev-1", "--moniker", "two", "--keyring-backend", "test")
	mustCLI(t, "", "keys", "add", "bob", "--home", h1, "--keyring-backend", "test")
	mustCLI(t, "", "genesis", "add-account", "bob", "5.5inf", "--home", h1, "--keyring-backend", "test")
	mustCLI(t, "", "genesis", "add-validator", "--home", h1, "--keyring-backend", "test", "--operator", "bob",
		"--validator-key", filepath.Join(h2, node.ValidatorKeyFile), "--moniker", "two", "--self-bond", "100inf")
	g, _ := ledger.LoadGenesis(filepath.Join(h1, node.GenesisFile))
	if len(g.Accounts) != 2 || g.Accounts[1].Balance != 5_500_000 || len(g.Validators) != 2 || g.Validators[1].SelfBond != 100_000_000 {
		t.Fatalf("genesis after edits: %+v", g)
	}
	before, _ := os.ReadFile(filepath.Join(h1, node.GenesisFile))
	other := keys.Address{9}.String()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"genesis", "add-account", "bob", "1inf"}, "already has an account"},
		{[]string{"genesis", "add-account", "bob", "12x"}, "want a number"},
		{[]string{"genesis", "add-account", "bob", "0.0000001inf"}, "fraction"},
		{[]string{"genesis", "add-account", "nobody", "1inf"}, "nobody"},
		{[]string{"genesis", "add-validator", "--operator", other, "--validator-key", filepath.Join(h2, node.ValidatorKeyFile), "--moniker", "again"}, "cons_pubkey"},
		{[]string{"genesis", "add-validator", "--operator", "bob", "--cons-pubkey", "abcd", "--moniker", "x"}, "64 hex"},
		{[]string{"genesis", "add-validator", "--operator", other, "--cons-pubkey", strings.Repeat("ab", 32), "--moniker", "x", "--self-bond", "0"}, "self_bond"},
		{[]string{"genesis", "add-validator", "--operator", "bob", "--cons-pubkey", strings.Repeat("ab", 32), "--moniker", "x", "--commission", "120%"}, "100%"},
	} {
		args := append(c.args, "--home", h1, "--keyring-backend", "test")
		code, _, errOut := cli(t, "", args...)
		if code == 0 || !strings.Contains(errOut, c.want) || !oneLineError(errOut) {
			t.Errorf("inferd %v: exit %d, stderr %q; want a one-line error mentioning %q", c.args, code, errOut, c.want)
		}
	}
	after, _ := os.ReadFile(filepath.Join(h1, node.GenesisFile))
	if string(before) != string(after) {
		t.Fatal("a refused edit changed the genesis file")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(strings.Replace(string(before), `"chain_id": "dev-1"`, `"chain_id": "bad id!"`, 1)), 0o644)
	code, _, errOut := cli(t, "", "genesis", "validate", bad)
	if code == 0 || !strings.Contains(errOut, "chain_id") {
		t.Fatalf("validate of a bad genesis: exit %d %q", code, errOut)
	}
}
