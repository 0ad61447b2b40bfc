package main

import (
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
)

// keys add prints a mnemonic once; keys add --recover of those words gives
// the same address, in another keyring, with the file backend too.
func TestKeysMnemonicAddAndRecover(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	out := decode[keysAddJSON](t, mustCLI(t, "", "keys", "add", "alice", "--home", home, "--keyring-backend", "test", "-o", "json"))
	if n := len(strings.Fields(out.Mnemonic)); n != 24 {
		t.Fatalf("mnemonic of %d words: %q", n, out.Mnemonic)
	}
	code, text, errOut := cli(t, "", "keys", "add", "bob", "--home", home, "--keyring-backend", "test")
	if code != 0 || !strings.Contains(errOut, "Write this mnemonic down") || strings.Contains(text, "Write this mnemonic") {
		t.Fatalf("keys add text: %d out %q err %q", code, text, errOut)
	}
	other := t.TempDir()
	// The file backend: the mnemonic, then the passphrase, one line each.
	rec := decode[keysAddJSON](t, mustCLI(t, strings.ToUpper(out.Mnemonic)+"\n"+"a long passphrase\n",
		"keys", "add", "alice2", "--recover", "--home", other, "-o", "json"))
	if rec.Address != out.Address || rec.Mnemonic != "" {
		t.Fatalf("recovered %s (mnemonic %q), want %s", rec.Address, rec.Mnemonic, out.Address)
	}
	t.Setenv(envMnemonic, out.Mnemonic)
	if rec := decode[keysAddJSON](t, mustCLI(t, "", "keys", "add", "alice3", "--recover", "--home", other, "--keyring-backend", "test", "-o", "json")); rec.Address != out.Address {
		t.Fatalf("recovered from $%s: %s", envMnemonic, rec.Address)
	}
	t.Setenv(envMnemonic, "")
	// A mistyped last word that breaks the checksum (checked, not hoped:
	// a swap passes the 8-bit checksum once in 256).
	words := strings.Fields(out.Mnemonic)
	for _, w := range []string{"zoo", "abandon", "ability", "able", "about"} {
		words[23] = w
		if _, err := keys.FromMnemonic(strings.Join(words, " "), ""); err != nil {
			break
		}
	}
	code, _, errOut = cli(t, strings.Join(words, " ")+"\n", "keys", "add", "bad", "--recover", "--home", other, "--keyring-backend", "test")
	if code != 2 || !strings.Contains(errOut, "not a valid BIP-39 mnemonic") || !oneLineError(errOut) {
		t.Fatalf("bad mnemonic: %d %q", code, errOut)
	}
	if s := decode[keysAddJSON](t, mustCLI(t, "", "keys", "add", "quiet", "--no-backup", "--home", home, "--keyring-backend", "test", "-o", "json")); s.Mnemonic != "" {
		t.Fatal("--no-backup printed the mnemonic")
	}
}
