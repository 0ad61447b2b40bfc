package node

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// KeyFile is the on-disk form of the node key and the validator key: a raw
// ed25519 seed in hex, mode 0600 (like CometBFT's key files; protect the
// home directory, or use a remote signer, which is future work).
type KeyFile struct {
	Address string `json:"address"`
	PubKey  string `json:"pub_key"`
	PrivKey string `json:"priv_key"`
}

// GenerateKeyFile writes a new key to path and returns its public key. It
// refuses to overwrite an existing file.
func GenerateKeyFile(path string) (keys.PubKey, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%s already exists; refusing to overwrite a key", path)
	}
	pub, priv, err := keys.Generate(rand.Reader)
	if err != nil {
		return nil, err
	}
	kf := KeyFile{Address: keys.AddressOf(pub).String(), PubKey: hex.EncodeToString(pub), PrivKey: hex.EncodeToString(priv.Seed())}
	b, _ := json.MarshalIndent(kf, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return pub, ledger.WriteFileAtomic(path, append(b, '\n'), 0o600)
}

// LoadKeyFile reads a key written by GenerateKeyFile.
func LoadKeyFile(path string) (keys.PrivKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kf KeyFile
	if err := json.Unmarshal(raw, &kf); err != nil {
		return nil, fmt.Errorf("%s: not a key file: %v", path, err)
	}
	seed, err := hex.DecodeString(kf.PrivKey)
	if err != nil {
		return nil, fmt.Errorf("%s: priv_key is not hex", path)
	}
	priv, err := keys.FromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if hex.EncodeToString(priv.Public().(keys.PubKey)) != kf.PubKey {
		return nil, fmt.Errorf("%s: pub_key does not match priv_key; the file is corrupt", path)
	}
	return priv, nil
}
