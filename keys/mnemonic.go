package keys

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"strings"

	bip39 "github.com/cosmos/go-bip39"
)

// MnemonicPath is the SLIP-10 path of an account key derived from a
// mnemonic: m/44'/1'/0'/0'/0' (SLIP-44 coin type 1, "testnet, all coins",
// until INF has a registered coin type; changing it would change every
// recovered address, so it is fixed). ed25519 allows hardened steps only.
var MnemonicPath = []uint32{44, 1, 0, 0, 0}

// ErrBadMnemonic is returned for words that are not a BIP-39 mnemonic.
var ErrBadMnemonic = errors.New("not a valid BIP-39 mnemonic")

// NewMnemonic makes a 24-word English BIP-39 mnemonic from 256 bits of
// crypto/rand entropy.
func NewMnemonic() (string, error) {
	e, err := bip39.NewEntropy(256)
	if err != nil {
		return "", err
	}
	return bip39.NewMnemonic(e)
}

// FromMnemonic derives the account key of a BIP-39 mnemonic (12 to 24
// English words; case and spacing do not matter) and an optional BIP-39
// passphrase: seed = BIP-39 seed (PBKDF2-HMAC-SHA512), key = SLIP-10
// ed25519 at MnemonicPath. The same words give the same key everywhere.
func FromMnemonic(mnemonic, passphrase string) (PrivKey, error) {
	words := strings.Join(strings.Fields(strings.ToLower(mnemonic)), " ")
	if !bip39.IsMnemonicValid(words) {
		return nil, ErrBadMnemonic
	}
	seed, err := bip39.NewSeedWithErrorChecking(words, passphrase)
	if err != nil {
		return nil, ErrBadMnemonic
	}
	k, _ := slip10(seed, MnemonicPath)
	return FromSeed(k)
}

// slip10 derives the ed25519 private key and chain code at a path of
// hardened indexes (SLIP-0010).
func slip10(seed []byte, path []uint32) (key, chain []byte) {
	mac := hmac.New(sha512.New, []byte("ed25519 seed"))
	mac.Write(seed)
	I := mac.Sum(nil)
	key, chain = I[:32], I[32:]
	for _, i := range path {
		data := make([]byte, 0, 37)
		data = append(data, 0)
		data = append(data, key...)
		data = binary.BigEndian.AppendUint32(data, i|0x80000000)
		mac := hmac.New(sha512.New, chain)
		mac.Write(data)
		I := mac.Sum(nil)
		key, chain = I[:32], I[32:]
	}
	return key, chain
}
