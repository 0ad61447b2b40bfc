package keystore

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/inferd/inferd/keys"
)

// Backend says how key files are protected.
type Backend string

const (
	// BackendFile encrypts each seed with a passphrase. The default.
	BackendFile Backend = "file"
	// BackendTest stores seeds unencrypted. It must be chosen explicitly.
	BackendTest Backend = "test"
)

// ParseBackend parses "file" or "test".
func ParseBackend(s string) (Backend, error) {
	switch b := Backend(s); b {
	case BackendFile, BackendTest:
		return b, nil
	}
	return "", fmt.Errorf("%w %q: want %q or %q", ErrBadBackend, s, BackendFile, BackendTest)
}

// Errors. They are wrapped with the key name or file path; test them with
// errors.Is.
var (
	ErrBadName            = errors.New("keystore: invalid key name")
	ErrBadBackend         = errors.New("keystore: unknown keyring backend")
	ErrExists             = errors.New("keystore: key already exists")
	ErrNotFound           = errors.New("keystore: key not found")
	ErrWrongPassphrase    = errors.New("keystore: wrong passphrase")
	ErrEmptyPassphrase    = errors.New("keystore: empty passphrase")
	ErrCorrupt            = errors.New("keystore: corrupted key file")
	ErrUnsupportedVersion = errors.New("keystore: unsupported key file version")
	ErrBackendMismatch    = errors.New("keystore: key stored with another backend")
	ErrBadExport          = errors.New("keystore: not an inferd exported key")
)

// Scrypt cost parameters of new files and exports (2^15 * 8 * 128 bytes =
// 32 MiB of memory, tens of milliseconds per derivation).
const (
	DefaultScryptN = 1 << 15
	DefaultScryptR = 8
	DefaultScryptP = 1
)

// MaxNameLen is the longest key name.
const MaxNameLen = 64

// Info describes a key without its secret.
type Info struct {
	Name    string
	Address keys.Address
	PubKey  keys.PubKey
	Backend Backend // how the key's file is protected
}

// Keyring is a directory of key files. See the package comment.
type Keyring struct {
	dir     string
	backend Backend
	rand    io.Reader
	kdf     scryptParams
}

// Option configures a Keyring in Open.
type Option func(*Keyring) error

// WithRand sets the source of seeds, salts and nonces. Default:
// crypto/rand.Reader. Tests pass a seeded reader.
func WithRand(r io.Reader) Option {
	return func(k *Keyring) error {
		if r == nil {
			return errors.New("keystore: WithRand(nil)")
		}
		k.rand = r
		return nil
	}
}

// WithScryptParams sets the scrypt cost of keys written by this Keyring.
// Default: N=2^15, r=8, p=1. Lower it only in tests; files record their own
// parameters, so any Keyring reads them.
func WithScryptParams(n, r, p int) Option {
	return func(k *Keyring) error {
		sp := scryptParams{N: n, R: r, P: p}
		if err := sp.validate(); err != nil {
			return err
		}
		k.kdf = sp
		return nil
	}
}

// Open returns the keyring in dir using backend ("" means BackendFile). The
// directory is created, mode 0700, by the first Add or Import.
func Open(dir string, backend Backend, opts ...Option) (*Keyring, error) {
	if backend == "" {
		backend = BackendFile
	}
	if _, err := ParseBackend(string(backend)); err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("keystore: empty keyring directory")
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("keystore: keyring path %s is not a directory", dir)
	}
	k := &Keyring{
		dir:     dir,
		backend: backend,
		rand:    rand.Reader,
		kdf:     scryptParams{N: DefaultScryptN, R: DefaultScryptR, P: DefaultScryptP},
	}
	for _, o := range opts {
		if err := o(k); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Dir is the keyring directory.
func (k *Keyring) Dir() string { return k.dir }

// Backend is the backend the keyring was opened with.
func (k *Keyring) Backend() Backend { return k.backend }

// ValidateName checks a key name: 1 to 64 ASCII letters, digits, '-', '_'
// or '.', starting with a letter or a digit.
func ValidateName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w %q: it must be 1 to %d characters long", ErrBadName, name, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return fmt.Errorf("%w %q: it must start with a letter or a digit", ErrBadName, name)
		}
		if !alnum && c != '-' && c != '_' && c != '.' {
			return fmt.Errorf("%w %q: use only letters, digits, '-', '_' and '.'", ErrBadName, name)
		}
	}
	return nil
}

const fileExt = ".json"

func (k *Keyring) path(name string) string { return filepath.Join(k.dir, name+fileExt) }

// Add creates a key from the keyring's random source and stores it under
// name, encrypted with passphrase (ignored by BackendTest).
func (k *Keyring) Add(name, passphrase string) (Info, error) {
	if err := ValidateName(name); err != nil {
		return Info{}, err
	}
	if err := k.checkNew(name, passphrase); err != nil {
		return Info{}, err
	}
	_, priv, err := keys.Generate(k.rand)
	if err != nil {
		return Info{}, fmt.Errorf("keystore: generating key: %w", err)
	}
	defer wipe(priv)
	return k.store(name, priv, passphrase)
}

// ImportKey stores priv under name, encrypted with passphrase (ignored by
// BackendTest).
func (k *Keyring) ImportKey(name string, priv keys.PrivKey, passphrase string) (Info, error) {
	if err := ValidateName(name); err != nil {
		return Info{}, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return Info{}, fmt.Errorf("keystore: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if err := k.checkNew(name, passphrase); err != nil {
		return Info{}, err
	}
	return k.store(name, priv, passphrase)
}

// Import stores under name the key in text, which is what Export (armored,
// decrypted with exportPassphrase) or ExportHex (hex seed; exportPassphrase
// is ignored) produced. The new file is encrypted with passphrase (ignored by
// BackendTest).
func (k *Keyring) Import(name, text, exportPassphrase, passphrase string) (Info, error) {
	if err := ValidateName(name); err != nil {
		return Info{}, err
	}
	if err := k.checkNew(name, passphrase); err != nil {
		return Info{}, err
	}
	var priv keys.PrivKey
	var err error
	if IsArmored(text) {
		priv, err = decodeArmor(text, exportPassphrase)
	} else {
		priv, err = decodeHex(text)
	}
	if err != nil {
		return Info{}, err
	}
	defer wipe(priv)
	return k.store(name, priv, passphrase)
}

// checkNew fails early, before any costly work, if name is taken or the
// passphrase is unusable.
func (k *Keyring) checkNew(name, passphrase string) error {
	if k.backend == BackendFile && passphrase == "" {
		return fmt.Errorf("%w for new key %q: the file backend encrypts keys with a passphrase", ErrEmptyPassphrase, name)
	}
	if _, err := os.Lstat(k.path(name)); err == nil {
		return fmt.Errorf("%w: %q in %s", ErrExists, name, k.dir)
	}
	return nil
}

func (k *Keyring) store(name string, priv keys.PrivKey, passphrase string) (Info, error) {
	pub := priv.Public().(keys.PubKey)
	info := Info{Name: name, Address: keys.AddressOf(pub), PubKey: pub, Backend: k.backend}
	f := keyFile{
		Version: fileVersion,
		Name:    name,
		Backend: k.backend,
		Address: info.Address.String(),
		PubKey:  hex.EncodeToString(pub),
	}
	seed := priv.Seed()
	defer wipe(seed)
	switch k.backend {
	case BackendTest:
		f.Warning = testWarning
		f.Seed = hex.EncodeToString(seed)
	default:
		box, err := seal(k.rand, k.kdf, passphrase, seed, f.additionalData())
		if err != nil {
			return Info{}, err
		}
		f.Crypto = box
	}
	data, err := f.marshal()
	if err != nil {
		return Info{}, err
	}
	if err := k.mkdir(); err != nil {
		return Info{}, err
	}
	if err := writeNew(k.dir, k.path(name), data); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Info{}, fmt.Errorf("%w: %q in %s", ErrExists, name, k.dir)
		}
		return Info{}, fmt.Errorf("keystore: writing key %q: %w", name, err)
	}
	return info, nil
}

func (k *Keyring) mkdir() error {
	if _, err := os.Stat(k.dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return fmt.Errorf("keystore: creating keyring directory: %w", err)
	}
	return os.Chmod(k.dir, 0o700)
}

// Get returns the public description of a key; it needs no passphrase.
func (k *Keyring) Get(name string) (Info, error) {
	f, err := k.read(name)
	if err != nil {
		return Info{}, err
	}
	return f.info(), nil
}

// List returns every key in the keyring, sorted by name. Files that cannot be
// read are reported together in the error (wrapping ErrCorrupt or
// ErrUnsupportedVersion); the returned keys are valid even then.
func (k *Keyring) List() ([]Info, error) {
	ents, err := os.ReadDir(k.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: reading keyring: %w", err)
	}
	var out []Info
	var errs []error
	for _, e := range ents {
		fn := e.Name()
		name, ok := strings.CutSuffix(fn, fileExt)
		if !ok || strings.HasPrefix(fn, ".") || e.IsDir() {
			continue // temporary files, editor backups, anything else
		}
		if ValidateName(name) != nil {
			errs = append(errs, corrupt(filepath.Join(k.dir, fn), "the file name is not a valid key name"))
			continue
		}
		f, err := k.read(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, f.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

// Delete removes a key. It needs no passphrase and works on corrupted files.
func (k *Keyring) Delete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := os.Remove(k.path(name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %q in %s", ErrNotFound, name, k.dir)
		}
		return fmt.Errorf("keystore: deleting key %q: %w", name, err)
	}
	syncDir(k.dir)
	return nil
}

// Unlock decrypts a key. A file written by the other backend is refused
// (ErrBackendMismatch): a file keyring never uses an unencrypted key.
func (k *Keyring) Unlock(name, passphrase string) (keys.PrivKey, error) {
	f, err := k.read(name)
	if err != nil {
		return nil, err
	}
	if f.Backend != k.backend {
		return nil, fmt.Errorf("%w: key %q is stored with the %s backend, the keyring was opened with the %s backend",
			ErrBackendMismatch, name, f.Backend, k.backend)
	}
	var seed []byte
	switch f.Backend {
	case BackendTest:
		seed, err = hex.DecodeString(f.Seed)
		if err != nil || len(seed) != seedLen {
			return nil, corrupt(k.path(name), "the seed is not 32 bytes of hex")
		}
	default:
		seed, err = open(f.Crypto, passphrase, f.additionalData())
		switch {
		case errors.Is(err, ErrWrongPassphrase):
			return nil, fmt.Errorf("%w for key %q", ErrWrongPassphrase, name)
		case err != nil:
			return nil, corrupt(k.path(name), err.Error())
		}
	}
	defer wipe(seed)
	priv, err := keys.FromSeed(seed)
	if err != nil {
		return nil, corrupt(k.path(name), err.Error())
	}
	if !priv.Public().(keys.PubKey).Equal(f.pub) {
		return nil, corrupt(k.path(name), "the seed does not match the public key")
	}
	return priv, nil
}

// Export returns the key as armored text, its seed encrypted under
// exportPassphrase; passphrase unlocks it (ignored by BackendTest).
func (k *Keyring) Export(name, passphrase, exportPassphrase string) (string, error) {
	if exportPassphrase == "" {
		return "", fmt.Errorf("%w: an export is always encrypted", ErrEmptyPassphrase)
	}
	priv, err := k.Unlock(name, passphrase)
	if err != nil {
		return "", err
	}
	defer wipe(priv)
	return k.ArmorKey(priv, exportPassphrase)
}

// ArmorKey is Export for a key already unlocked: it encrypts priv's seed
// under exportPassphrase with the keyring's scrypt cost and random source.
func (k *Keyring) ArmorKey(priv keys.PrivKey, exportPassphrase string) (string, error) {
	if exportPassphrase == "" {
		return "", fmt.Errorf("%w: an export is always encrypted", ErrEmptyPassphrase)
	}
	if len(priv) != ed25519.PrivateKeySize {
		return "", fmt.Errorf("keystore: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	return encodeArmor(k.rand, k.kdf, priv, exportPassphrase)
}

// ExportHex returns the key's seed in hex, unencrypted. Callers must make
// the user confirm that they want the secret in clear.
func (k *Keyring) ExportHex(name, passphrase string) (string, error) {
	priv, err := k.Unlock(name, passphrase)
	if err != nil {
		return "", err
	}
	defer wipe(priv)
	return hex.EncodeToString(priv.Seed()), nil
}

// read loads and checks the clear part of a key file.
func (k *Keyring) read(name string) (*keyFile, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	p := k.path(name)
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q in %s", ErrNotFound, name, k.dir)
	}
	if err != nil {
		return nil, fmt.Errorf("keystore: reading key %q: %w", name, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keystore: reading key %q: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, corrupt(p, fmt.Sprintf("larger than %d bytes", maxFileSize))
	}
	return parseKeyFile(p, name, data)
}

func corrupt(path, reason string) error {
	return fmt.Errorf("%w %s: %s", ErrCorrupt, path, reason)
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
