package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
)

// cli runs inferd with args and input on stdin, capturing what it prints.
// Tests using it must not run in parallel: it swaps package variables.
func cli(t *testing.T, input string, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	oldOut, oldErr, oldIn := stdout, stderr, stdin
	stdout, stderr, stdin = &o, &e, strings.NewReader(input)
	defer func() { stdout, stderr, stdin = oldOut, oldErr, oldIn }()
	code = run(args)
	return code, o.String(), e.String()
}

// mustCLI runs inferd and fails the test on a non-zero exit.
func mustCLI(t *testing.T, input string, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, input, args...)
	if code != 0 {
		t.Fatalf("inferd %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// clearEnv makes passphrases and the home come only from what a test sets.
func clearEnv(t *testing.T) {
	t.Setenv(envKeyringPassphrase, "")
	t.Setenv(envExportPassphrase, "")
	t.Setenv(envHome, "")
}

// secretForms are the encodings under which a seed must never be printed.
func secretForms(seed []byte) []string {
	return []string{
		hex.EncodeToString(seed), strings.ToUpper(hex.EncodeToString(seed)),
		base64.StdEncoding.EncodeToString(seed), base64.RawURLEncoding.EncodeToString(seed),
		hex.EncodeToString(seed[:16]), hex.EncodeToString(seed[16:]),
	}
}

func TestKeysTestBackend(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	kb := []string{"--home", home, "--keyring-backend", "test"}
	keysCmd := func(args ...string) []string { return append(append([]string{"keys"}, args...), kb...) }

	addOut := mustCLI(t, "", keysCmd("add", "alice")...)
	for _, want := range []string{"name:    alice\n", "address: inf1", "pubkey:  ", "backend: test\n"} {
		if !strings.Contains(addOut, want) {
			t.Fatalf("add output lacks %q:\n%s", want, addOut)
		}
	}
	mustCLI(t, "", keysCmd("add", "bob")...)

	var shown keysInfoJSON
	if err := json.Unmarshal([]byte(mustCLI(t, "", keysCmd("show", "alice", "-o", "json")...)), &shown); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSpace(mustCLI(t, "", keysCmd("show", "alice", "--address")...))
	if addr != shown.Address || !strings.Contains(addOut, addr) {
		t.Fatalf("show --address %q, json %+v", addr, shown)
	}
	pubRaw, _ := hex.DecodeString(shown.PubKey)
	pub := keys.PubKey(pubRaw)
	if keys.AddressOf(pub).String() != addr {
		t.Fatal("address does not belong to the public key")
	}

	var listed []keysInfoJSON
	if err := json.Unmarshal([]byte(mustCLI(t, "", keysCmd("list", "-o", "json")...)), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0].Name != "alice" || listed[1].Name != "bob" || listed[0] != shown {
		t.Fatalf("list: %+v", listed)
	}
	listText := mustCLI(t, "", keysCmd("list")...)
	if !strings.HasPrefix(listText, "NAME") || !strings.Contains(listText, addr) {
		t.Fatalf("list text:\n%s", listText)
	}

	// The secret only ever appears in export output.
	hexSeed := strings.TrimSpace(mustCLI(t, "", keysCmd("export", "alice", "--unarmored-hex", "--unsafe")...))
	seed, err := hex.DecodeString(hexSeed)
	if err != nil || len(seed) != 32 {
		t.Fatalf("export hex %q", hexSeed)
	}
	priv, _ := keys.FromSeed(seed)
	if !priv.Public().(keys.PubKey).Equal(pub) {
		t.Fatal("exported seed does not match the public key")
	}
	for _, out := range []string{addOut, listText, mustCLI(t, "", keysCmd("show", "alice")...), mustCLI(t, "", keysCmd("list", "-o", "json")...)} {
		for _, s := range secretForms(seed) {
			if strings.Contains(out, s) {
				t.Fatalf("output contains the secret:\n%s", out)
			}
		}
	}

	// Armored export and import, the export passphrase on stdin.
	armored := mustCLI(t, "export passphrase\n", keysCmd("export", "alice")...)
	if !strings.HasPrefix(armored, "-----BEGIN INFERD PRIVATE KEY-----\n") {
		t.Fatalf("export:\n%s", armored)
	}
	file := filepath.Join(t.TempDir(), "alice.key")
	os.WriteFile(file, []byte(armored), 0o600)
	imp := mustCLI(t, "export passphrase\n", keysCmd("import", "alice2", file, "-o", "json")...)
	if !strings.Contains(imp, addr) {
		t.Fatalf("import printed %s", imp)
	}
	// The hex form imports too, from stdin.
	mustCLI(t, hexSeed+"\n", keysCmd("import", "alice3", "-")...)
	if got := strings.TrimSpace(mustCLI(t, "", keysCmd("show", "alice3", "--address")...)); got != addr {
		t.Fatalf("hex import gave %s", got)
	}

	mustCLI(t, "", keysCmd("delete", "bob", "--yes")...)
	if code, _, _ := cli(t, "", keysCmd("show", "bob")...); code == 0 {
		t.Fatal("bob still there after delete")
	}

	// loadSigner needs no passphrase for a test key.
	p, a, err := loadSigner(home, "test", "alice")
	if err != nil || a.String() != addr || !p.Equal(priv) {
		t.Fatalf("loadSigner = %v, %v", a, err)
	}
}

func TestKeysFileBackendEnvPassphrase(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	t.Setenv(envKeyringPassphrase, "correct horse battery")
	out := mustCLI(t, "", "keys", "add", "val", "--home", home, "-o", "json")
	var info keysInfoJSON
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Backend != "file" {
		t.Fatalf("add: %s %v", out, err)
	}
	data, err := os.ReadFile(filepath.Join(home, "keyring", "val.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(home, "keyring", "val.json")); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}

	priv, addr, err := loadSigner(home, "", "val")
	if err != nil || addr.String() != info.Address {
		t.Fatalf("loadSigner = %v, %v", addr, err)
	}
	for _, s := range secretForms(priv.Seed()) {
		if strings.Contains(out, s) || strings.Contains(string(data), s) {
			t.Fatal("secret printed by add or stored in clear")
		}
	}
	show := mustCLI(t, "", "keys", "show", "val", "--home", home)
	for _, s := range secretForms(priv.Seed()) {
		if strings.Contains(show, s) {
			t.Fatal("secret printed by show")
		}
	}

	// Export under an export passphrase from the environment, import into a
	// test keyring elsewhere.
	t.Setenv(envExportPassphrase, "export passphrase")
	armored := mustCLI(t, "", "keys", "export", "val", "--home", home)
	file := filepath.Join(t.TempDir(), "val.key")
	os.WriteFile(file, []byte(armored), 0o600)
	other := t.TempDir()
	mustCLI(t, "", "keys", "import", "val", file, "--home", other, "--keyring-backend", "test")
	if p, a, err := loadSigner(other, "test", "val"); err != nil || a != addr || !p.Equal(priv) {
		t.Fatalf("imported key: %v %v", a, err)
	}

	// A wrong passphrase: one line, exit 1, the sentinel underneath.
	t.Setenv(envKeyringPassphrase, "wrong passphrase")
	code, stdoutText, errText := cli(t, "", "keys", "export", "val", "--home", home)
	if code != 1 || stdoutText != "" || !oneLineError(errText) || !strings.Contains(errText, "wrong passphrase") {
		t.Fatalf("wrong passphrase: exit %d, %q %q", code, stdoutText, errText)
	}
	if _, _, err := loadSigner(home, "file", "val"); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("loadSigner with a wrong passphrase = %v", err)
	}
}

func TestKeysPassphraseFromStdin(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	mustCLI(t, "from stdin 123\r\nignored\n", "keys", "add", "k", "--home", home)
	// loadSigner reads the first line of stdin.
	func() {
		old := stdin
		defer func() { stdin = old }()
		stdin = strings.NewReader("from stdin 123\n")
		if _, _, err := loadSigner(home, "", "k"); err != nil {
			t.Fatal(err)
		}
		stdin = strings.NewReader("")
		_, _, err := loadSigner(home, "", "k")
		if err == nil || !strings.Contains(err.Error(), envKeyringPassphrase) {
			t.Fatalf("loadSigner with empty stdin = %v", err)
		}
	}()
	// export: the keyring passphrase, then the export passphrase.
	armored := mustCLI(t, "from stdin 123\nexport passphrase\n", "keys", "export", "k", "--home", home)
	if !keystore.IsArmored(armored) {
		t.Fatalf("export:\n%s", armored)
	}
	// A short new passphrase is refused.
	code, _, errText := cli(t, "short\n", "keys", "add", "k2", "--home", home)
	if code != 1 || !oneLineError(errText) || !strings.Contains(errText, "too short") {
		t.Fatalf("short passphrase: %d %q", code, errText)
	}
}

func TestKeysHomeFromEnv(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	t.Setenv(envHome, home)
	mustCLI(t, "", "keys", "add", "x", "--keyring-backend", "test")
	if _, err := os.Stat(filepath.Join(home, "keyring", "x.json")); err != nil {
		t.Fatal(err)
	}
}

func oneLineError(s string) bool {
	return strings.HasPrefix(s, "Error: ") && strings.Count(s, "\n") == 1 && strings.HasSuffix(s, "\n")
}

func TestKeysErrors(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	h := []string{"--home", home, "--keyring-backend", "test"}
	mustCLI(t, "", append([]string{"keys", "add", "alice"}, h...)...)
	mustCLI(t, "", "keys", "add", "enc", "--home", home, "--keyring-backend", "test")

	cases := []struct {
		name  string
		args  []string
		input string
		code  int
		want  string
	}{
		{"bad name", []string{"keys", "add", "no/slash"}, "", 2, "invalid key name"},
		{"long name", []string{"keys", "show", strings.Repeat("a", 65)}, "", 2, "1 to 64"},
		{"duplicate", []string{"keys", "add", "alice"}, "", 1, "already exists"},
		{"duplicate import", []string{"keys", "import", "alice", "/nonexistent"}, "", 1, "already exists"},
		{"missing show", []string{"keys", "show", "nobody"}, "", 1, "not found"},
		{"missing delete", []string{"keys", "delete", "nobody", "--yes"}, "", 1, "not found"},
		{"missing export", []string{"keys", "export", "nobody"}, "", 1, "not found"},
		{"missing file", []string{"keys", "import", "new", "/nonexistent/key"}, "", 1, "cannot open the key file"},
		{"junk import", []string{"keys", "import", "new", "-"}, "not a key\n", 1, "not an inferd exported key"},
		{"no name", []string{"keys", "add"}, "", 2, "takes [NAME]"},
		{"extra arg", []string{"keys", "show", "a", "b"}, "", 2, "got 2 argument(s)"},
		{"unknown subcommand", []string{"keys", "frobnicate"}, "", 2, "unknown command"},
		{"bad output", []string{"keys", "list", "-o", "yaml"}, "", 2, "want text (or table) or json"},
		{"delete without tty", []string{"keys", "delete", "alice"}, "y\n", 2, "pass --yes"},
		{"hex without unsafe", []string{"keys", "export", "alice", "--unarmored-hex"}, "", 2, "--unsafe"},
		{"unknown flag", []string{"keys", "list", "--nope"}, "", 2, "unknown flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errText := cli(t, c.input, append(c.args, h...)...)
			if code != c.code || out != "" || !oneLineError(errText) || !strings.Contains(errText, c.want) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want one line with %q)", code, c.code, out, errText, c.want)
			}
		})
	}

	// Backend choices: an unknown one, and a test key used with the file
	// backend (refused before any passphrase is asked for).
	code, _, errText := cli(t, "", "keys", "list", "--home", home, "--keyring-backend", "plain")
	if code != 2 || !oneLineError(errText) {
		t.Fatalf("bad backend: %d %q", code, errText)
	}
	code, _, errText = cli(t, "", "keys", "export", "alice", "--home", home)
	if code != 1 || !oneLineError(errText) || !strings.Contains(errText, "--keyring-backend test") {
		t.Fatalf("test key with file backend: %d %q", code, errText)
	}
	if _, _, err := loadSigner(home, "", "alice"); !errors.Is(err, keystore.ErrBackendMismatch) {
		t.Fatalf("loadSigner of a test key with the file backend = %v", err)
	}
	// No passphrase anywhere for a file key.
	code, _, errText = cli(t, "", "keys", "add", "nopass", "--home", home)
	if code != 1 || !oneLineError(errText) || !strings.Contains(errText, envKeyringPassphrase) {
		t.Fatalf("no passphrase: %d %q", code, errText)
	}

	// A corrupted file: named in the error, other keys still listed.
	bad := filepath.Join(home, "keyring", "broken.json")
	os.WriteFile(bad, []byte(`{"version": 1, "name": "bro`), 0o600)
	code, out, errText := cli(t, "", "keys", "list", "--home", home)
	if code != 1 || !strings.Contains(out, "alice") || !oneLineError(errText) || !strings.Contains(errText, bad) {
		t.Fatalf("corrupt list: %d %q %q", code, out, errText)
	}
	code, _, errText = cli(t, "", "keys", "show", "broken", "--home", home)
	if code != 1 || !oneLineError(errText) || !strings.Contains(errText, bad) || !strings.Contains(errText, "delete broken --yes") {
		t.Fatalf("corrupt show: %d %q", code, errText)
	}
	mustCLI(t, "", "keys", "delete", "broken", "--yes", "--home", home)
}
