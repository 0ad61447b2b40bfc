package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
)

func init() { register(newKeysCmd) }

// envHome overrides the default home directory ($HOME/.inferd).
const envHome = "INFERD_HOME"

// maxImportSize bounds what 'keys import' reads.
const maxImportSize = 64 << 10

// keysArgs holds the flags shared by every 'keys' subcommand.
type keysArgs struct {
	home    string // --home; "" means $INFERD_HOME, else $HOME/.inferd
	backend string // --keyring-backend
	output  string // -o
}

func newKeysCmd() *cobra.Command {
	a := &keysArgs{}
	c := &cobra.Command{
		Use:   "keys",
		Short: "Manage the account keys in the local keyring",
		Long: `Manage the account keys in the keyring at <home>/keyring/.

The file backend (default) encrypts every key with a passphrase. The
passphrase is prompted for on a terminal, read from INFERD_KEYRING_PASSPHRASE,
or read from the first line of stdin when stdin is not a terminal. The test
backend stores keys unencrypted, for scripts and devnets only.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for 'inferd keys' (see 'inferd keys --help')", args[0])
			}
			return c.Help()
		},
	}
	pf := c.PersistentFlags()
	pf.StringVar(&a.home, "home", "", "home directory of the node (default $"+envHome+", else $HOME/.inferd)")
	pf.StringVar(&a.backend, "keyring-backend", string(keystore.BackendFile),
		"keyring backend: file (encrypted with a passphrase) or test (UNENCRYPTED, devnets only)")
	pf.StringVarP(&a.output, "output", "o", "text", "output format: text (or table) or json")
	c.AddCommand(
		newKeysAddCmd(a), newKeysListCmd(a), newKeysShowCmd(a),
		newKeysDeleteCmd(a), newKeysExportCmd(a), newKeysImportCmd(a),
	)
	return c
}

func newKeysAddCmd(a *keysArgs) *cobra.Command {
	f := &keysAddFlags{}
	c := &cobra.Command{
		Use:   "add NAME [--recover] [--no-backup]",
		Short: "Create a key from a new BIP-39 mnemonic (printed once), or recover one from its mnemonic",
		Long: `Create a key and print its name, address and public key. The key is derived
from a new 24-word BIP-39 mnemonic, printed once (on stderr; in the JSON with
-o json): write it down, it recovers the key anywhere with --recover.

--recover asks for the mnemonic (a hidden prompt on a terminal, else the first
line of stdin, or $` + envMnemonic + `), then for the new key's passphrase.
Derivation: BIP-39 seed, then SLIP-10 ed25519 at m/44'/1'/0'/0'/0'
(docs/cli-keys.md).`,
		Args: keysNArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error { return runKeysAdd(a, args[0], f) },
	}
	c.Flags().BoolVar(&f.recover, "recover", false, "recover the key from its BIP-39 mnemonic instead of making a new one")
	c.Flags().BoolVar(&f.noBackup, "no-backup", false, "do not print the new key's mnemonic")
	return c
}

func newKeysListCmd(a *keysArgs) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the keys in the keyring (no passphrase needed)",
		Args:  keysNArgs(),
		RunE:  func(*cobra.Command, []string) error { return runKeysList(a) },
	}
}

func runKeysList(a *keysArgs) error {
	kr, err := a.open("")
	if err != nil {
		return err
	}
	infos, listErr := kr.List()
	if a.output == "json" {
		out := make([]keysInfoJSON, 0, len(infos))
		for _, i := range infos {
			out = append(out, keysToJSON(i))
		}
		if err := keysPrintJSON(out); err != nil {
			return err
		}
	} else if len(infos) == 0 {
		if listErr == nil {
			fmt.Fprintf(stderr, "No keys in %s; create one with 'inferd keys add NAME'.\n", kr.Dir())
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tADDRESS\tBACKEND")
		for _, i := range infos {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", i.Name, i.Address, i.Backend)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if listErr != nil {
		return fmt.Errorf("%v; restore those files from a backup or remove them with 'inferd keys delete NAME --yes'", listErr)
	}
	return nil
}

func newKeysShowCmd(a *keysArgs) *cobra.Command {
	var addressOnly bool
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "Print a key's name, address and public key (no passphrase needed)",
		Args:  keysNArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			kr, err := a.open(args[0])
			if err != nil {
				return err
			}
			info, err := kr.Get(args[0])
			if err != nil {
				return a.explain(err, args[0])
			}
			if addressOnly {
				fmt.Fprintln(stdout, info.Address)
				return nil
			}
			return a.printInfo(info)
		},
	}
	c.Flags().BoolVar(&addressOnly, "address", false, "print only the address")
	return c
}

func newKeysDeleteCmd(a *keysArgs) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a key from the keyring (asks for confirmation unless --yes)",
		Args:  keysNArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			return runKeysDelete(a, args[0], yes)
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking for confirmation")
	return c
}

func runKeysDelete(a *keysArgs, name string, yes bool) error {
	kr, err := a.open(name)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("key %q", name)
	info, err := kr.Get(name)
	switch {
	case err == nil:
		what = fmt.Sprintf("key %q (%s)", name, info.Address)
	case errors.Is(err, keystore.ErrCorrupt), errors.Is(err, keystore.ErrUnsupportedVersion):
		// Deleting a file that cannot be read is allowed.
	default:
		return a.explain(err, name)
	}
	if !yes {
		ps := newPassSource()
		if !ps.terminal() {
			return usagef("refusing to delete %s without confirmation: stdin is not a terminal; pass --yes", what)
		}
		ok, err := ps.confirm(fmt.Sprintf("Delete %s? Without a backup it is lost.", what))
		if err != nil {
			return fmt.Errorf("reading the confirmation: %v", err)
		}
		if !ok {
			return fmt.Errorf("%s was not deleted: you did not confirm with 'y'", what)
		}
	}
	if err := kr.Delete(name); err != nil {
		return a.explain(err, name)
	}
	if a.output == "json" {
		return keysPrintJSON(map[string]any{"name": name, "deleted": true})
	}
	fmt.Fprintf(stdout, "Deleted %s.\n", what)
	return nil
}

func newKeysExportCmd(a *keysArgs) *cobra.Command {
	var hexOut, unsafe bool
	c := &cobra.Command{
		Use:   "export NAME",
		Short: "Print a key as armored text encrypted under an export passphrase",
		Long: `Print a key as armored text ("-----BEGIN INFERD PRIVATE KEY-----"), its seed
encrypted under an export passphrase (prompted for twice, or read from
INFERD_EXPORT_PASSPHRASE, or from the next line of stdin). 'inferd keys import'
reads it back. --unarmored-hex --unsafe prints the raw seed in hex instead.
The output is always text; -o is ignored.`,
		Args: keysNArgs("NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			if hexOut && !unsafe {
				return usagef("--unarmored-hex prints the secret key unencrypted; add --unsafe to confirm")
			}
			return runKeysExport(a, args[0], hexOut)
		},
	}
	c.Flags().BoolVar(&hexOut, "unarmored-hex", false, "print the unencrypted seed in hex (needs --unsafe)")
	c.Flags().BoolVar(&unsafe, "unsafe", false, "confirm --unarmored-hex")
	return c
}

func runKeysExport(a *keysArgs, name string, hexOut bool) error {
	kr, err := a.open(name)
	if err != nil {
		return err
	}
	info, err := kr.Get(name)
	if err != nil {
		return a.explain(err, name)
	}
	if err := a.checkBackend(kr, info); err != nil {
		return err
	}
	ps := newPassSource()
	pass := ""
	if info.Backend == keystore.BackendFile {
		if pass, err = ps.get(envKeyringPassphrase, fmt.Sprintf("the passphrase of key %q", name), false); err != nil {
			return err
		}
	}
	var out string
	if hexOut {
		out, err = kr.ExportHex(name, pass)
	} else {
		// Unlock first so a wrong passphrase is reported before asking for
		// the export passphrase.
		priv, err := kr.Unlock(name, pass)
		if err != nil {
			return a.explain(err, name)
		}
		exportPass, err := ps.get(envExportPassphrase, "a passphrase to encrypt the export", true)
		if err != nil {
			return err
		}
		if out, err = kr.ArmorKey(priv, exportPass); err != nil {
			return err
		}
	}
	if err != nil {
		return a.explain(err, name)
	}
	fmt.Fprint(stdout, out)
	if hexOut {
		fmt.Fprintln(stdout)
	}
	return nil
}

func newKeysImportCmd(a *keysArgs) *cobra.Command {
	return &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Store under NAME a key that 'inferd keys export' wrote to FILE ('-' for stdin)",
		Long: `Store under NAME a key that 'inferd keys export' wrote to FILE ('-' reads
stdin). FILE holds the armored text, decrypted with the export passphrase
(INFERD_EXPORT_PASSPHRASE, a prompt, or the next line of stdin), or a hex seed.
The file backend then asks for a passphrase for the new key
(INFERD_KEYRING_PASSPHRASE, a prompt twice, or the next line of stdin).`,
		Args: keysNArgs("NAME", "FILE"),
		RunE: func(_ *cobra.Command, args []string) error { return runKeysImport(a, args[0], args[1]) },
	}
}

func runKeysImport(a *keysArgs, name, file string) error {
	kr, err := a.open(name)
	if err != nil {
		return err
	}
	if err := keysEnsureFree(kr, name); err != nil {
		return a.explain(err, name)
	}
	ps := newPassSource()
	var r io.Reader = stdin
	if ps.lines != nil {
		r = ps.lines // share the buffer with later passphrase lines
	}
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("cannot open the key file: %v; pass the file that 'inferd keys export' wrote", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportSize+1))
	if err != nil {
		return fmt.Errorf("reading %s: %v", file, err)
	}
	if len(data) > maxImportSize {
		return fmt.Errorf("%s is larger than %d bytes; pass the file that 'inferd keys export' wrote", file, maxImportSize)
	}
	text := string(data)
	exportPass := ""
	if keystore.IsArmored(text) {
		if exportPass, err = ps.get(envExportPassphrase, "the export passphrase", false); err != nil {
			return err
		}
	}
	pass := ""
	if kr.Backend() == keystore.BackendFile {
		if pass, err = ps.get(envKeyringPassphrase, fmt.Sprintf("the passphrase for new key %q", name), true); err != nil {
			return err
		}
	}
	info, err := kr.Import(name, text, exportPass, pass)
	if err != nil {
		return a.explain(err, name)
	}
	return a.printInfo(info)
}

// loadSigner unlocks key name in the keyring under home (default as for
// --home) with backend ("" means file), asking for the passphrase as the
// 'keys' commands do: INFERD_KEYRING_PASSPHRASE, a terminal prompt, or the
// first line of stdin. Transaction commands use it to sign.
func loadSigner(home, backend, name string) (keys.PrivKey, keys.Address, error) {
	if backend == "" {
		backend = string(keystore.BackendFile)
	}
	a := &keysArgs{home: home, backend: backend, output: "text"}
	kr, err := a.open(name)
	if err != nil {
		return nil, keys.Address{}, err
	}
	info, err := kr.Get(name)
	if err != nil {
		return nil, keys.Address{}, a.explain(err, name)
	}
	if err := a.checkBackend(kr, info); err != nil {
		return nil, keys.Address{}, err
	}
	pass := ""
	if info.Backend == keystore.BackendFile {
		if pass, err = newPassSource().get(envKeyringPassphrase, fmt.Sprintf("the passphrase of key %q", name), false); err != nil {
			return nil, keys.Address{}, err
		}
	}
	priv, err := kr.Unlock(name, pass)
	if err != nil {
		return nil, keys.Address{}, a.explain(err, name)
	}
	return priv, info.Address, nil
}

// keysHome resolves --home: the flag, else $INFERD_HOME, else $HOME/.inferd.
func keysHome(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if v := os.Getenv(envHome); v != "" {
		return v, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find your home directory (%v); pass --home DIR or set %s", err, envHome)
	}
	return filepath.Join(h, ".inferd"), nil
}

// open checks the shared flags and the key name ("" when the command takes
// none) and opens the keyring.
func (a *keysArgs) open(name string) (*keystore.Keyring, error) {
	if a.output == "table" { // the query commands' word for it
		a.output = "text"
	}
	if a.output != "text" && a.output != "json" {
		return nil, usagef("-o %q: want text (or table) or json", a.output)
	}
	b, err := keystore.ParseBackend(a.backend)
	if err != nil {
		return nil, usagef("--keyring-backend %q: want file (encrypted) or test (unencrypted, devnets only)", a.backend)
	}
	if name != "" {
		if err := keystore.ValidateName(name); err != nil {
			return nil, usageError{err}
		}
	}
	home, err := keysHome(a.home)
	if err != nil {
		return nil, err
	}
	kr, err := keystore.Open(filepath.Join(home, "keyring"), b)
	if err != nil {
		return nil, fmt.Errorf("%v; check --home or %s", err, envHome)
	}
	return kr, nil
}

// checkBackend refuses, before any passphrase is asked for, a key that the
// keyring's backend will not unlock.
func (a *keysArgs) checkBackend(kr *keystore.Keyring, info keystore.Info) error {
	if info.Backend == kr.Backend() {
		return nil
	}
	return a.explain(fmt.Errorf("%w: key %q is stored with the %s backend, not %s",
		keystore.ErrBackendMismatch, info.Name, info.Backend, kr.Backend()), info.Name)
}

// explain adds to a keystore error what the user can do about it.
func (a *keysArgs) explain(err error, name string) error {
	var hint string
	switch {
	case errors.Is(err, keystore.ErrBadName):
		return usageError{err}
	case errors.Is(err, keystore.ErrNotFound):
		hint = "run 'inferd keys list' to see the keys there, and check --home and " + envHome
	case errors.Is(err, keystore.ErrExists):
		hint = fmt.Sprintf("choose another name, or first remove the old key with 'inferd keys delete %s'", name)
	case errors.Is(err, keystore.ErrWrongPassphrase):
		hint = "try again, and check " + envKeyringPassphrase + " or " + envExportPassphrase + " if set"
	case errors.Is(err, keystore.ErrCorrupt):
		hint = fmt.Sprintf("restore the file from a backup, or remove it with 'inferd keys delete %s --yes' and import the key again", name)
	case errors.Is(err, keystore.ErrBackendMismatch):
		other := keystore.BackendTest
		if a.backend == string(keystore.BackendTest) {
			other = keystore.BackendFile
		}
		hint = fmt.Sprintf("pass --keyring-backend %s to use it", other)
	case errors.Is(err, keystore.ErrBadExport):
		hint = "pass the file that 'inferd keys export' wrote"
	case errors.Is(err, keystore.ErrEmptyPassphrase):
		hint = "give a passphrase, or pass --keyring-backend test for an unencrypted devnet key"
	default:
		return err
	}
	return fmt.Errorf("%w; %s", err, hint)
}

// keysEnsureFree fails with ErrExists if name is taken, before any
// passphrase is asked for.
func keysEnsureFree(kr *keystore.Keyring, name string) error {
	_, err := kr.Get(name)
	switch {
	case errors.Is(err, keystore.ErrNotFound):
		return nil
	case err == nil, errors.Is(err, keystore.ErrCorrupt), errors.Is(err, keystore.ErrUnsupportedVersion):
		return fmt.Errorf("%w: %q in %s", keystore.ErrExists, name, kr.Dir())
	default:
		return err
	}
}

// keysNArgs accepts exactly the named positional arguments.
func keysNArgs(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		want := "no arguments"
		if len(names) > 0 {
			want = fmt.Sprint(names)
		}
		return usagef("'%s' takes %s, got %d argument(s) (see '%s --help')", c.CommandPath(), want, len(args), c.CommandPath())
	}
}

// keysInfoJSON is how a key appears with -o json.
type keysInfoJSON struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	PubKey  string `json:"pubkey"` // hex
	Backend string `json:"backend"`
}

func keysToJSON(i keystore.Info) keysInfoJSON {
	return keysInfoJSON{Name: i.Name, Address: i.Address.String(), PubKey: hex.EncodeToString(i.PubKey), Backend: string(i.Backend)}
}

func keysPrintJSON(v any) error {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *keysArgs) printInfo(i keystore.Info) error {
	if a.output == "json" {
		return keysPrintJSON(keysToJSON(i))
	}
	fmt.Fprintf(stdout, "name:    %s\naddress: %s\npubkey:  %x\nbackend: %s\n", i.Name, i.Address, []byte(i.PubKey), i.Backend)
	return nil
}

func keysBackupNote(i keystore.Info) {
	if i.Backend == keystore.BackendTest {
		fmt.Fprintln(stderr, "Warning: this key is stored UNENCRYPTED (test backend); never hold real funds with it.")
		return
	}
	fmt.Fprintf(stderr, "Back up this key with 'inferd keys export %s': without the file and its passphrase it cannot be recovered.\n", i.Name)
}
