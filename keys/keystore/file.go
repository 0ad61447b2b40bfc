package keystore

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"

	"github.com/inferd/inferd/keys"
)

// fileVersion is the version of the key file format this package writes and
// reads. A new version gets a new number; old ones stay readable.
const fileVersion = 1

const (
	seedLen     = ed25519.SeedSize
	saltLen     = 16
	checkLen    = 32
	maxFileSize = 64 << 10

	kdfScrypt     = "scrypt"
	cipherXChaCha = "xchacha20-poly1305"

	testWarning = "UNENCRYPTED: test keyring backend, for scripts and devnets only; never hold real funds with this key"
)

// keyFile is the JSON stored in <dir>/<name>.json (version 1).
type keyFile struct {
	Version int     `json:"version"`
	Name    string  `json:"name"`
	Backend Backend `json:"backend"`
	Address string  `json:"address"` // bech32 inf1...
	PubKey  string  `json:"pubkey"`  // hex, 32 bytes
	Warning string  `json:"warning,omitempty"`
	Seed    string  `json:"seed,omitempty"`   // hex, BackendTest only
	Crypto  *sealed `json:"crypto,omitempty"` // BackendFile only

	pub  keys.PubKey
	addr keys.Address
}

// sealed is a seed encrypted under a passphrase; []byte fields are base64.
type sealed struct {
	KDF        string `json:"kdf"` // "scrypt"
	N          int    `json:"n"`
	R          int    `json:"r"`
	P          int    `json:"p"`
	Salt       []byte `json:"salt"`
	Check      []byte `json:"check"`  // tells a wrong passphrase from a tampered file
	Cipher     string `json:"cipher"` // "xchacha20-poly1305"
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

func (f *keyFile) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("keystore: encoding key file: %w", err)
	}
	return append(b, '\n'), nil
}

func (f *keyFile) info() Info {
	return Info{Name: f.Name, Address: f.addr, PubKey: f.pub, Backend: f.Backend}
}

// additionalData is what the AEAD authenticates besides the seed.
func (f *keyFile) additionalData() []byte {
	return lengthPrefixed("inferd/keystore", strconv.Itoa(f.Version), f.Name, string(f.Backend), f.Address, f.PubKey)
}

func lengthPrefixed(fields ...string) []byte {
	var out []byte
	for _, s := range fields {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return out
}

// parseKeyFile decodes data read from path, which must hold key name, and
// checks everything that can be checked without the passphrase.
func parseKeyFile(path, name string, data []byte) (*keyFile, error) {
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, corrupt(path, "not valid JSON: "+err.Error())
	}
	switch {
	case f.Version == 0:
		return nil, corrupt(path, "no version field")
	case f.Version != fileVersion:
		return nil, fmt.Errorf("%w %d in %s: this inferd reads version %d; use a newer inferd",
			ErrUnsupportedVersion, f.Version, path, fileVersion)
	case f.Name != name:
		return nil, corrupt(path, fmt.Sprintf("it holds key %q, not %q", f.Name, name))
	}
	pub, err := hex.DecodeString(f.PubKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, corrupt(path, "the public key is not 32 bytes of hex")
	}
	addr, err := keys.ParseAddress(f.Address)
	if err != nil {
		return nil, corrupt(path, "the address is invalid")
	}
	if addr != keys.AddressOf(pub) {
		return nil, corrupt(path, "the address does not match the public key")
	}
	f.pub, f.addr = pub, addr
	switch f.Backend {
	case BackendFile:
		if f.Crypto == nil || f.Seed != "" {
			return nil, corrupt(path, "a file-backend key must have a crypto section and no clear seed")
		}
	case BackendTest:
		if f.Crypto != nil || f.Seed == "" {
			return nil, corrupt(path, "a test-backend key must have a clear seed and no crypto section")
		}
	default:
		return nil, corrupt(path, fmt.Sprintf("unknown backend %q", f.Backend))
	}
	return &f, nil
}

type scryptParams struct{ N, R, P int }

// validate bounds the cost so a crafted file cannot exhaust memory or time.
func (s scryptParams) validate() error {
	switch {
	case s.N < 2 || s.N&(s.N-1) != 0 || s.N > 1<<20:
		return fmt.Errorf("keystore: scrypt N=%d: want a power of two from 2 to 2^20", s.N)
	case s.R < 1 || s.R > 32:
		return fmt.Errorf("keystore: scrypt r=%d: want 1 to 32", s.R)
	case s.P < 1 || s.P > 16:
		return fmt.Errorf("keystore: scrypt p=%d: want 1 to 16", s.P)
	case uint64(s.N)*uint64(s.R)*128 > 1<<30:
		return fmt.Errorf("keystore: scrypt N=%d r=%d needs more than 1 GiB", s.N, s.R)
	}
	return nil
}

// derive returns the cipher key and the passphrase check value.
func derive(passphrase string, salt []byte, sp scryptParams) (key, check []byte, err error) {
	dk, err := scrypt.Key([]byte(passphrase), salt, sp.N, sp.R, sp.P, 64)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(append([]byte("inferd/keystore/check"), dk[32:]...))
	wipe(dk[32:])
	return dk[:32], sum[:], nil
}

// seal encrypts secret under passphrase, authenticating ad.
func seal(r io.Reader, sp scryptParams, passphrase string, secret, ad []byte) (*sealed, error) {
	salt := make([]byte, saltLen)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(r, salt); err != nil {
		return nil, fmt.Errorf("keystore: reading randomness: %w", err)
	}
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("keystore: reading randomness: %w", err)
	}
	key, check, err := derive(passphrase, salt, sp)
	if err != nil {
		return nil, fmt.Errorf("keystore: scrypt: %w", err)
	}
	defer wipe(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: cipher: %w", err)
	}
	return &sealed{
		KDF: kdfScrypt, N: sp.N, R: sp.R, P: sp.P, Salt: salt, Check: check,
		Cipher: cipherXChaCha, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, secret, ad),
	}, nil
}

// open decrypts s. It returns ErrWrongPassphrase if the passphrase does not
// match, and another error (the caller reports a corrupted file) if the
// parameters are malformed or authentication fails with the right passphrase.
func open(s *sealed, passphrase string, ad []byte) ([]byte, error) {
	sp := scryptParams{N: s.N, R: s.R, P: s.P}
	switch {
	case s.KDF != kdfScrypt:
		return nil, fmt.Errorf("unknown kdf %q", s.KDF)
	case s.Cipher != cipherXChaCha:
		return nil, fmt.Errorf("unknown cipher %q", s.Cipher)
	case sp.validate() != nil:
		return nil, sp.validate()
	case len(s.Salt) != saltLen:
		return nil, fmt.Errorf("salt is %d bytes, want %d", len(s.Salt), saltLen)
	case len(s.Check) != checkLen:
		return nil, fmt.Errorf("check is %d bytes, want %d", len(s.Check), checkLen)
	case len(s.Nonce) != chacha20poly1305.NonceSizeX:
		return nil, fmt.Errorf("nonce is %d bytes, want %d", len(s.Nonce), chacha20poly1305.NonceSizeX)
	case len(s.Ciphertext) != seedLen+chacha20poly1305.Overhead:
		return nil, fmt.Errorf("ciphertext is %d bytes, want %d", len(s.Ciphertext), seedLen+chacha20poly1305.Overhead)
	}
	key, check, err := derive(passphrase, s.Salt, sp)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %v", err)
	}
	defer wipe(key)
	if subtle.ConstantTimeCompare(check, s.Check) != 1 {
		return nil, ErrWrongPassphrase
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	seed, err := aead.Open(nil, s.Nonce, s.Ciphertext, ad)
	if err != nil {
		return nil, errors.New("authentication failed with the right passphrase: the name, address, public key or ciphertext was altered")
	}
	return seed, nil
}

// writeNew atomically creates path with data, mode 0600, failing with an
// error wrapping fs.ErrExist if path exists.
func writeNew(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link, or on failure
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// A hard link never replaces an existing file, even when another
	// process races for the same name.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return err
		}
		// No hard links on this file system: check, then rename.
		if _, serr := os.Lstat(path); serr == nil {
			return fmt.Errorf("%s: %w", path, os.ErrExist)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return err
		}
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename or removal in dir durable. Best effort: some
// platforms cannot fsync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
