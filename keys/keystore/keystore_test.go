package keystore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/inferd/inferd/keys"
)

const pass = "correct horse battery"

// cheap opens a keyring with a low scrypt cost and a seeded random source.
func cheap(t *testing.T, dir string, b Backend) *Keyring {
	t.Helper()
	k, err := Open(dir, b, WithScryptParams(1<<4, 8, 1), WithRand(rand.New(rand.NewSource(7))))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyringDir(t *testing.T) string { return filepath.Join(t.TempDir(), "keyring") }

func TestRoundTrip(t *testing.T) {
	for _, b := range []Backend{BackendFile, BackendTest} {
		t.Run(string(b), func(t *testing.T) {
			k := cheap(t, keyringDir(t), b)
			info, err := k.Add("alice", pass)
			if err != nil {
				t.Fatal(err)
			}
			if info.Name != "alice" || info.Backend != b || info.Address != keys.AddressOf(info.PubKey) {
				t.Fatalf("info %+v", info)
			}
			got, err := k.Get("alice")
			if err != nil {
				t.Fatal(err)
			}
			if got.Address != info.Address || !got.PubKey.Equal(info.PubKey) || got.Backend != b {
				t.Fatalf("Get = %+v, want %+v", got, info)
			}
			priv, err := k.Unlock("alice", pass)
			if err != nil {
				t.Fatal(err)
			}
			if !priv.Public().(keys.PubKey).Equal(info.PubKey) {
				t.Fatal("unlocked key does not match the public key")
			}
			sig := keys.Sign(priv, "c", keys.DomainTx, []byte("x"))
			if !keys.Verify(info.PubKey, "c", keys.DomainTx, []byte("x"), sig) {
				t.Fatal("signature does not verify")
			}
		})
	}
}

func TestFileHoldsNoClearSecret(t *testing.T) {
	dir := keyringDir(t)
	k := cheap(t, dir, BackendFile)
	if _, err := k.Add("alice", pass); err != nil {
		t.Fatal(err)
	}
	priv, err := k.Unlock("alice", pass)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "alice.json"))
	if err != nil {
		t.Fatal(err)
	}
	seed := priv.Seed()
	for _, enc := range []string{string(seed), base64.StdEncoding.EncodeToString(seed), hexs(seed)} {
		if bytes.Contains(data, []byte(enc)) {
			t.Fatalf("key file contains the seed: %s", data)
		}
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f["version"] != float64(1) || f["backend"] != "file" || f["seed"] != nil || f["crypto"] == nil {
		t.Fatalf("unexpected file: %s", data)
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

func TestTestBackendIsMarked(t *testing.T) {
	dir := keyringDir(t)
	k := cheap(t, dir, BackendTest)
	if _, err := k.Add("bob", ""); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "bob.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"backend": "test"`)) || !bytes.Contains(data, []byte("UNENCRYPTED")) {
		t.Fatalf("test key file not clearly marked: %s", data)
	}
}

func TestBackendMismatch(t *testing.T) {
	dir := keyringDir(t)
	if _, err := cheap(t, dir, BackendTest).Add("plain", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := cheap(t, dir, BackendFile).Add("secret", pass); err != nil {
		t.Fatal(err)
	}
	if _, err := cheap(t, dir, BackendFile).Unlock("plain", ""); !errors.Is(err, ErrBackendMismatch) {
		t.Fatalf("file keyring unlocked a test key: %v", err)
	}
	if _, err := cheap(t, dir, BackendTest).Unlock("secret", pass); !errors.Is(err, ErrBackendMismatch) {
		t.Fatalf("test keyring unlocked a file key: %v", err)
	}
	// The zero backend is the file backend, never the test one.
	k, err := Open(dir, "")
	if err != nil || k.Backend() != BackendFile {
		t.Fatalf("Open(\"\") = %v, %v", k.Backend(), err)
	}
	if _, err := Open(dir, "plain"); !errors.Is(err, ErrBadBackend) {
		t.Fatalf("Open(plain) = %v", err)
	}
}

func TestWrongPassphrase(t *testing.T) {
	k := cheap(t, keyringDir(t), BackendFile)
	if _, err := k.Add("alice", pass); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "wrong", pass + " "} {
		if _, err := k.Unlock("alice", p); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("Unlock(%q) = %v, want ErrWrongPassphrase", p, err)
		}
	}
	if _, err := k.Export("alice", "wrong", "x"); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Export with wrong passphrase = %v", err)
	}
	if _, err := k.Add("empty", ""); !errors.Is(err, ErrEmptyPassphrase) {
		t.Errorf("Add with empty passphrase = %v", err)
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	dir := keyringDir(t)
	k := cheap(t, dir, BackendFile)
	if _, err := k.Add("alice", pass); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Import("bob", hexs(bytes.Repeat([]byte{1}, 32)), "", pass); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("keyring dir mode %v, want 0700", st.Mode().Perm())
	}
	for _, n := range []string{"alice", "bob"} {
		st, err := os.Stat(filepath.Join(dir, n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", n, st.Mode().Perm())
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestListSortedAndErrors(t *testing.T) {
	dir := keyringDir(t)
	k := cheap(t, dir, BackendTest)
	if got, err := k.List(); err != nil || len(got) != 0 {
		t.Fatalf("List of a missing dir = %v, %v", got, err)
	}
	for _, n := range []string{"carol", "alice", "bob.2", "Zed"} {
		if _, err := k.Add(n, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Temporary and foreign files are ignored.
	os.WriteFile(filepath.Join(dir, ".tmp-x.json-123"), []byte("junk"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("junk"), 0o600)
	got, err := k.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range got {
		names = append(names, i.Name)
	}
	if strings.Join(names, ",") != "Zed,alice,bob.2,carol" {
		t.Fatalf("List order %v", names)
	}
	// A corrupt file is reported by path; the good keys are still returned.
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte("{"), 0o600)
	got, err = k.List()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), filepath.Join(dir, "broken.json")) || len(got) != 4 {
		t.Fatalf("List with a broken file = %d keys, %v", len(got), err)
	}
}

func TestNamesAndExistence(t *testing.T) {
	k := cheap(t, keyringDir(t), BackendTest)
	for _, bad := range []string{"", "a b", "../x", "a/b", "-x", ".hidden", "é", strings.Repeat("a", 65)} {
		if _, err := k.Add(bad, ""); !errors.Is(err, ErrBadName) {
			t.Errorf("Add(%q) = %v, want ErrBadName", bad, err)
		}
		if _, err := k.Get(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("Get(%q) = %v, want ErrBadName", bad, err)
		}
	}
	for _, good := range []string{"a", "A-b_c.d", "0", strings.Repeat("a", 64)} {
		if err := ValidateName(good); err != nil {
			t.Errorf("ValidateName(%q) = %v", good, err)
		}
	}
	if _, err := k.Add("alice", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Add("alice", ""); !errors.Is(err, ErrExists) {
		t.Errorf("second Add = %v, want ErrExists", err)
	}
	if _, err := k.Import("alice", hexs(make([]byte, 32)), "", ""); !errors.Is(err, ErrExists) {
		t.Errorf("Import over existing = %v, want ErrExists", err)
	}
	for _, f := range []func() error{
		func() error { _, err := k.Get("nobody"); return err },
		func() error { _, err := k.Unlock("nobody", ""); return err },
		func() error { return k.Delete("nobody") },
		func() error { _, err := k.Export("nobody", "", "x"); return err },
	} {
		if err := f(); !errors.Is(err, ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	}
	if err := k.Delete("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get("alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v", err)
	}
}

func TestConcurrentAddOneWins(t *testing.T) {
	k, err := Open(keyringDir(t), BackendTest)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = k.Add("same", "")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrExists):
			t.Errorf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d Adds succeeded, want 1", ok)
	}
}

// rewrite applies edit to the decoded JSON of a key file and writes it back.
func rewrite(t *testing.T, path string, edit func(m map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, _ := json.Marshal(m)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptedFiles(t *testing.T) {
	dir := keyringDir(t)
	k := cheap(t, dir, BackendFile)
	if _, err := k.Add("alice", pass); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "alice.json")
	orig, _ := os.ReadFile(path)
	restore := func() { os.WriteFile(path, orig, 0o600) }

	cases := []struct {
		name string
		edit func()
		want string
		get  bool // Get (no passphrase) already notices
	}{
		{"flipped ciphertext byte", func() {
			rewrite(t, path, func(m map[string]any) {
				c := m["crypto"].(map[string]any)
				ct, _ := base64.StdEncoding.DecodeString(c["ciphertext"].(string))
				ct[3] ^= 1
				c["ciphertext"] = base64.StdEncoding.EncodeToString(ct)
			})
		}, "authentication failed", false},
		{"truncated JSON", func() { os.WriteFile(path, orig[:len(orig)/2], 0o600) }, "not valid JSON", true},
		{"empty file", func() { os.WriteFile(path, nil, 0o600) }, "not valid JSON", true},
		{"address does not match pubkey", func() {
			rewrite(t, path, func(m map[string]any) { m["address"] = keys.Address{1}.String() })
		}, "address does not match", true},
		{"name differs from file name", func() {
			rewrite(t, path, func(m map[string]any) { m["name"] = "mallory" })
		}, `holds key "mallory"`, true},
		{"short nonce", func() {
			rewrite(t, path, func(m map[string]any) { m["crypto"].(map[string]any)["nonce"] = "AAAA" })
		}, "nonce is 3 bytes", false},
		{"huge scrypt cost", func() {
			rewrite(t, path, func(m map[string]any) { m["crypto"].(map[string]any)["n"] = 1 << 30 })
		}, "scrypt N=", false},
		{"clear seed added", func() {
			rewrite(t, path, func(m map[string]any) { m["seed"] = "00" })
		}, "no clear seed", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer restore()
			c.edit()
			_, err := k.Unlock("alice", pass)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Unlock = %v, want ErrCorrupt naming %s and %q", err, path, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			if _, err := k.Get("alice"); (err != nil) != c.get {
				t.Fatalf("Get = %v, want error: %v", err, c.get)
			}
		})
	}
	if _, err := k.Unlock("alice", pass); err != nil {
		t.Fatalf("restored file: %v", err)
	}
	rewrite(t, path, func(m map[string]any) { m["version"] = 2 })
	if _, err := k.Get("alice"); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("version 2: %v", err)
	}
}

// TestTamperedPublicFieldsCaughtByAEAD swaps the clear address and public key
// of alice's file for bob's (consistent, so nothing without the passphrase
// notices) and checks that the AEAD refuses to decrypt: an attacker cannot
// make a key file display an address it does not control and still unlock.
func TestTamperedPublicFieldsCaughtByAEAD(t *testing.T) {
	dir := keyringDir(t)
	k := cheap(t, dir, BackendFile)
	if _, err := k.Add("alice", pass); err != nil {
		t.Fatal(err)
	}
	bob, err := k.Add("bob", pass)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "alice.json")
	rewrite(t, path, func(m map[string]any) {
		m["address"] = bob.Address.String()
		m["pubkey"] = hexs(bob.PubKey)
	})
	if got, err := k.Get("alice"); err != nil || got.Address != bob.Address {
		t.Fatalf("Get = %v, %v (the clear fields are consistent)", got, err)
	}
	if _, err := k.Unlock("alice", pass); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("Unlock of tampered file = %v, want an authentication failure", err)
	}

	// Below the consistency checks: the additional data alone catches a
	// changed address, name or version.
	f, err := k.read("bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(f.Crypto, pass, f.additionalData()); err != nil {
		t.Fatalf("untouched: %v", err)
	}
	for _, edit := range []func(*keyFile){
		func(f *keyFile) { f.Address = keys.Address{9}.String() },
		func(f *keyFile) { f.Name = "mallory" },
		func(f *keyFile) { f.Version = 2 },
		func(f *keyFile) { f.PubKey = hexs(make([]byte, 32)) },
	} {
		g := *f
		edit(&g)
		if _, err := open(g.Crypto, pass, g.additionalData()); err == nil || errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("AEAD accepted altered additional data: %v", err)
		}
	}
}

func TestRenamedFileCaught(t *testing.T) {
	dir := keyringDir(t)
	k := cheap(t, dir, BackendFile)
	if _, err := k.Add("alice", pass); err != nil {
		t.Fatal(err)
	}
	old, nu := filepath.Join(dir, "alice.json"), filepath.Join(dir, "bob.json")
	if err := os.Rename(old, nu); err != nil {
		t.Fatal(err)
	}
	rewrite(t, nu, func(m map[string]any) { m["name"] = "bob" })
	if _, err := k.Unlock("bob", pass); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("renamed key unlocked: %v", err)
	}
}

func TestExportImport(t *testing.T) {
	src := cheap(t, keyringDir(t), BackendFile)
	info, err := src.Add("alice", pass)
	if err != nil {
		t.Fatal(err)
	}
	armored, err := src.Export("alice", pass, "export-pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(armored, "-----BEGIN INFERD PRIVATE KEY-----\n") || !IsArmored(armored) ||
		!strings.Contains(armored, "Version: 1\n") || !strings.Contains(armored, info.Address.String()) {
		t.Fatalf("armor:\n%s", armored)
	}
	hexSeed, err := src.ExportHex("alice", pass)
	if err != nil || len(hexSeed) != 64 {
		t.Fatalf("ExportHex = %q, %v", hexSeed, err)
	}
	if _, err := src.Export("alice", pass, ""); !errors.Is(err, ErrEmptyPassphrase) {
		t.Fatalf("Export with empty export passphrase = %v", err)
	}

	for _, b := range []Backend{BackendFile, BackendTest} {
		dst := cheap(t, keyringDir(t), b)
		for name, text := range map[string]string{
			"armored": "some preamble\n" + armored, "hex": hexSeed, "0xhex": "0x" + hexSeed + "\n",
		} {
			got, err := dst.Import(name, text, "export-pass", pass)
			if err != nil {
				t.Fatalf("%s %s: %v", b, name, err)
			}
			if got.Address != info.Address {
				t.Fatalf("%s %s: address %v, want %v", b, name, got.Address, info.Address)
			}
			if _, err := dst.Unlock(name, pass); err != nil {
				t.Fatalf("%s %s: %v", b, name, err)
			}
		}
	}

	dst := cheap(t, keyringDir(t), BackendTest)
	if _, err := dst.Import("x", armored, "wrong", ""); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong export passphrase: %v", err)
	}
	tampered := strings.Replace(armored, "Pubkey: ", "Pubkey: 00", 1)
	if _, err := dst.Import("x", tampered, "export-pass", ""); !errors.Is(err, ErrBadExport) {
		t.Errorf("tampered armor: %v", err)
	}
	for _, junk := range []string{"", "hello", hexSeed[:62], "-----BEGIN INFERD PRIVATE KEY-----\nbroken"} {
		if _, err := dst.Import("x", junk, "export-pass", ""); !errors.Is(err, ErrBadExport) {
			t.Errorf("Import(%q) = %v, want ErrBadExport", junk, err)
		}
	}
	if _, err := dst.Get("x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed imports left a key: %v", err)
	}
}

func TestImportKeyAndSeededRand(t *testing.T) {
	_, priv, _ := keys.Generate(rand.New(rand.NewSource(1)))
	k := cheap(t, keyringDir(t), BackendTest)
	info, err := k.ImportKey("v", priv, "")
	if err != nil || !info.PubKey.Equal(priv.Public().(keys.PubKey)) {
		t.Fatalf("ImportKey = %v, %v", info, err)
	}
	if _, err := k.ImportKey("w", priv[:10], ""); err == nil {
		t.Fatal("short key accepted")
	}
	// The same seeded source gives the same keys.
	a, _ := cheap(t, keyringDir(t), BackendTest).Add("a", "")
	b, _ := cheap(t, keyringDir(t), BackendTest).Add("a", "")
	if a.Address != b.Address {
		t.Fatal("WithRand is not the source of keys")
	}
}

func TestDefaultCost(t *testing.T) {
	k, err := Open(keyringDir(t), BackendFile)
	if err != nil {
		t.Fatal(err)
	}
	if k.kdf != (scryptParams{N: 1 << 15, R: 8, P: 1}) {
		t.Fatalf("default scrypt %+v", k.kdf)
	}
	for _, bad := range [][3]int{{0, 8, 1}, {3, 8, 1}, {1 << 21, 8, 1}, {16, 0, 1}, {16, 8, 0}} {
		if _, err := Open(k.Dir(), BackendFile, WithScryptParams(bad[0], bad[1], bad[2])); err == nil {
			t.Errorf("WithScryptParams%v accepted", bad)
		}
	}
	if testing.Short() {
		t.Skip("full-cost scrypt")
	}
	if _, err := k.Add("alice", pass); err != nil {
		t.Fatal(err)
	}
	f, err := k.read("alice")
	if err != nil || f.Crypto.N != 1<<15 || f.Crypto.R != 8 || f.Crypto.P != 1 {
		t.Fatalf("file params %+v, %v", f.Crypto, err)
	}
	if _, err := k.Unlock("alice", pass); err != nil {
		t.Fatal(err)
	}
}
