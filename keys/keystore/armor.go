package keystore

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/inferd/inferd/keys"
)

// ArmorType is the PEM block type of an exported key.
const ArmorType = "INFERD PRIVATE KEY"

// exportVersion is the version of the armored export format.
const exportVersion = 1

// IsArmored reports whether text holds an armored export (as opposed to a
// hex seed).
func IsArmored(text string) bool {
	return strings.Contains(text, "-----BEGIN "+ArmorType+"-----")
}

func exportAD(address, pubkey string) []byte {
	return lengthPrefixed("inferd/export", strconv.Itoa(exportVersion), address, pubkey)
}

// encodeArmor encrypts priv's seed under passphrase into a PEM block whose
// headers carry the version, the address, the public key and the cipher
// parameters, and whose body is the ciphertext.
func encodeArmor(r io.Reader, sp scryptParams, priv keys.PrivKey, passphrase string) (string, error) {
	pub := priv.Public().(keys.PubKey)
	addr := keys.AddressOf(pub).String()
	pubHex := hex.EncodeToString(pub)
	seed := priv.Seed()
	defer wipe(seed)
	box, err := seal(r, sp, passphrase, seed, exportAD(addr, pubHex))
	if err != nil {
		return "", err
	}
	b64 := base64.StdEncoding.EncodeToString
	block := &pem.Block{
		Type: ArmorType,
		Headers: map[string]string{
			"Version":  strconv.Itoa(exportVersion),
			"Address":  addr,
			"Pubkey":   pubHex,
			"Kdf":      box.KDF,
			"Scrypt-N": strconv.Itoa(box.N),
			"Scrypt-R": strconv.Itoa(box.R),
			"Scrypt-P": strconv.Itoa(box.P),
			"Salt":     b64(box.Salt),
			"Check":    b64(box.Check),
			"Cipher":   box.Cipher,
			"Nonce":    b64(box.Nonce),
		},
		Bytes: box.Ciphertext,
	}
	var buf bytes.Buffer
	if err := pem.Encode(&buf, block); err != nil {
		return "", fmt.Errorf("keystore: encoding export: %w", err)
	}
	return buf.String(), nil
}

func decodeArmor(text, passphrase string) (keys.PrivKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(text)))
	if block == nil || block.Type != ArmorType {
		return nil, fmt.Errorf("%w: no %q block could be decoded", ErrBadExport, ArmorType)
	}
	h := block.Headers
	if v := h["Version"]; v != strconv.Itoa(exportVersion) {
		return nil, fmt.Errorf("%w: version %q, this inferd reads version %d", ErrBadExport, v, exportVersion)
	}
	pub, err := hex.DecodeString(h["Pubkey"])
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: the Pubkey header is not 32 bytes of hex", ErrBadExport)
	}
	if addr, err := keys.ParseAddress(h["Address"]); err != nil || addr != keys.AddressOf(pub) {
		return nil, fmt.Errorf("%w: the Address header does not match the Pubkey header", ErrBadExport)
	}
	box := &sealed{KDF: h["Kdf"], Cipher: h["Cipher"], Ciphertext: block.Bytes}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"Scrypt-N", &box.N}, {"Scrypt-R", &box.R}, {"Scrypt-P", &box.P}} {
		if *f.dst, err = strconv.Atoi(h[f.name]); err != nil {
			return nil, fmt.Errorf("%w: the %s header is not a number", ErrBadExport, f.name)
		}
	}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"Salt", &box.Salt}, {"Check", &box.Check}, {"Nonce", &box.Nonce}} {
		if *f.dst, err = base64.StdEncoding.DecodeString(h[f.name]); err != nil {
			return nil, fmt.Errorf("%w: the %s header is not base64", ErrBadExport, f.name)
		}
	}
	seed, err := open(box, passphrase, exportAD(h["Address"], h["Pubkey"]))
	if errors.Is(err, ErrWrongPassphrase) {
		return nil, fmt.Errorf("%w for the exported key (the export passphrase)", ErrWrongPassphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadExport, err)
	}
	defer wipe(seed)
	priv := ed25519.NewKeyFromSeed(seed)
	if !priv.Public().(keys.PubKey).Equal(keys.PubKey(pub)) {
		return nil, fmt.Errorf("%w: the seed does not match the Pubkey header", ErrBadExport)
	}
	return priv, nil
}

// decodeHex accepts a 32-byte seed, or a 64-byte ed25519 private key (seed
// then public key), in hex, optionally prefixed with 0x.
func decodeHex(text string) (keys.PrivKey, error) {
	s := strings.TrimPrefix(strings.Join(strings.Fields(text), ""), "0x")
	raw, err := hex.DecodeString(s)
	if err != nil || (len(raw) != ed25519.SeedSize && len(raw) != ed25519.PrivateKeySize) {
		return nil, fmt.Errorf("%w: want an armored %q block or a 64-character hex seed", ErrBadExport, ArmorType)
	}
	defer wipe(raw)
	priv := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
	if len(raw) == ed25519.PrivateKeySize && !bytes.Equal(raw[ed25519.SeedSize:], priv[ed25519.SeedSize:]) {
		wipe(priv)
		return nil, fmt.Errorf("%w: the 64-byte private key's public half does not match its seed", ErrBadExport)
	}
	return priv, nil
}
