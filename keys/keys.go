// Package keys holds inferd's identities: ed25519 key pairs, bech32 addresses
// with the "inf" prefix, and signatures bound to a chain id and a domain.
// It is a leaf package (standard library, x/crypto, a bech32 codec and
// curve25519-voi for faster signature checks),
// so that ledger, consensus and the CLI can all use it. Safe for concurrent use.
package keys

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

// AddressPrefix is the human-readable part of every account address.
const AddressPrefix = "inf"

// AddressLen is the length of an address: the first 20 bytes of sha256(pubkey).
const AddressLen = 20

// Errors returned when parsing keys and addresses.
var (
	ErrBadAddress = errors.New("keys: invalid address")
	ErrBadPubKey  = errors.New("keys: invalid public key")
	ErrBadSig     = errors.New("keys: invalid signature")
)

// Address identifies an account: the first 20 bytes of sha256(ed25519 pubkey).
type Address [AddressLen]byte

// PubKey is an ed25519 public key.
type PubKey = ed25519.PublicKey

// PrivKey is an ed25519 private key.
type PrivKey = ed25519.PrivateKey

// AddressOf derives the address of a public key.
func AddressOf(pub PubKey) Address {
	sum := sha256.Sum256(pub)
	var a Address
	copy(a[:], sum[:AddressLen])
	return a
}

// String renders the address in bech32 with the "inf" prefix.
func (a Address) String() string {
	conv, err := bech32.ConvertBits(a[:], 8, 5, true)
	if err != nil {
		panic(err) // cannot happen for 20 bytes
	}
	s, err := bech32.Encode(AddressPrefix, conv)
	if err != nil {
		panic(err)
	}
	return s
}

// IsZero reports whether a is the all-zero address (never a real account).
func (a Address) IsZero() bool { return a == Address{} }

// Hex is the raw hex form, used in store keys and logs.
func (a Address) Hex() string { return hex.EncodeToString(a[:]) }

// ParseAddress parses a bech32 "inf1..." address.
func ParseAddress(s string) (Address, error) {
	var a Address
	hrp, data, err := bech32.Decode(s)
	if err != nil {
		return a, fmt.Errorf("%w %q: %v (an address looks like inf1...)", ErrBadAddress, s, err)
	}
	if hrp != AddressPrefix {
		return a, fmt.Errorf("%w %q: prefix is %q, want %q", ErrBadAddress, s, hrp, AddressPrefix)
	}
	raw, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil {
		return a, fmt.Errorf("%w %q: %v", ErrBadAddress, s, err)
	}
	if len(raw) != AddressLen {
		return a, fmt.Errorf("%w %q: %d bytes, want %d", ErrBadAddress, s, len(raw), AddressLen)
	}
	copy(a[:], raw)
	return a, nil
}

// MarshalText makes addresses appear in bech32 form in JSON and TOML.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses the bech32 form.
func (a *Address) UnmarshalText(b []byte) error {
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// MarshalBinary keeps the canonical (CBOR) encoding compact: 20 raw bytes.
func (a Address) MarshalBinary() ([]byte, error) { return a[:], nil }

// UnmarshalBinary is the inverse of MarshalBinary.
func (a *Address) UnmarshalBinary(b []byte) error {
	if len(b) != AddressLen {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadAddress, len(b), AddressLen)
	}
	copy(a[:], b)
	return nil
}

// Generate makes a new key pair from the entropy source r (crypto/rand.Reader
// in production; a seeded reader in tests).
func Generate(r io.Reader) (PubKey, PrivKey, error) {
	return ed25519.GenerateKey(r)
}

// FromSeed rebuilds a private key from its 32-byte seed.
func FromSeed(seed []byte) (PrivKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keys: seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePubKey checks the length of a raw public key.
func ParsePubKey(b []byte) (PubKey, error) {
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadPubKey, len(b), ed25519.PublicKeySize)
	}
	return PubKey(b), nil
}

// Signing domains keep a signature made for one purpose from being valid for
// another (a transaction signature is never a valid vote signature).
const (
	DomainTx       = "inferd/tx"
	DomainVote     = "inferd/vote"
	DomainProposal = "inferd/proposal"
)

// SignBytes is what is actually signed: the chain id and the domain, each
// length-prefixed, then the canonical encoding of the payload. Binding the
// chain id means a transaction for one network is invalid on every other.
func SignBytes(chainID, domain string, payload []byte) []byte {
	out := make([]byte, 0, 2*binary.MaxVarintLen64+len(chainID)+len(domain)+len(payload))
	out = binary.AppendUvarint(out, uint64(len(chainID)))
	out = append(out, chainID...)
	out = binary.AppendUvarint(out, uint64(len(domain)))
	out = append(out, domain...)
	return append(out, payload...)
}

// Sign signs payload for chainID in domain.
func Sign(priv PrivKey, chainID, domain string, payload []byte) []byte {
	return ed25519.Sign(priv, SignBytes(chainID, domain, payload))
}

// Verify checks a signature made by Sign.
func Verify(pub PubKey, chainID, domain string, payload, sig []byte) bool {
	return verifyRaw(pub, SignBytes(chainID, domain, payload), sig)
}
