package ledger

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/inferd/inferd/keys"
)

// Genesis is the JSON document every node of a network starts from.
type Genesis struct {
	ChainID     string                     `json:"chain_id"`
	GenesisTime time.Time                  `json:"genesis_time"`
	Accounts    []GenesisAccount           `json:"accounts"`
	Validators  []GenesisValidator         `json:"validators"`
	Params      map[string]json.RawMessage `json:"params,omitempty"`
}

// GenesisAccount is an initial balance.
type GenesisAccount struct {
	Address keys.Address `json:"address"`
	Balance uint64       `json:"balance"`
}

// GenesisValidator is an initial validator with its self-bond (minted at
// genesis as bonded stake, on top of the account balances).
type GenesisValidator struct {
	Operator   keys.Address `json:"operator"`
	ConsPubKey HexBytes     `json:"cons_pubkey"`
	Moniker    string       `json:"moniker"`
	SelfBond   uint64       `json:"self_bond"`
	Commission PPM          `json:"commission_ppm"`
}

// HexBytes is a byte slice that appears as hex in JSON.
type HexBytes []byte

// MarshalText implements encoding.TextMarshaler.
func (h HexBytes) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *HexBytes) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("not hex: %v", err)
	}
	*h = v
	return nil
}

// GenesisError names the field of the genesis document that is wrong.
type GenesisError struct {
	Field  string
	Reason string
}

func (e *GenesisError) Error() string { return fmt.Sprintf("genesis: %s: %s", e.Field, e.Reason) }

// GenesisErr builds a GenesisError.
func GenesisErr(field, format string, a ...any) error {
	return &GenesisError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

var chainIDRe = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,47}$`)

// ValidateChainID checks the form of a chain id.
func ValidateChainID(id string) error {
	if len(id) > 48 {
		return GenesisErr("chain_id", "%d bytes, want 1-48", len(id))
	}
	if !chainIDRe.MatchString(id) {
		return GenesisErr("chain_id", "%q must be 1-48 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// ValidateBasic checks what needs no module: chain id, time, accounts and
// validators (their fields, duplicates, and that the total fits in uint64).
func (g *Genesis) ValidateBasic() error {
	if err := ValidateChainID(g.ChainID); err != nil {
		return err
	}
	if g.GenesisTime.IsZero() {
		return GenesisErr("genesis_time", "missing; use an RFC 3339 time such as 2026-01-01T00:00:00Z")
	}
	var total uint64
	seen := map[keys.Address]int{}
	for i, a := range g.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		if a.Address.IsZero() {
			return GenesisErr(f+".address", "missing")
		}
		if j, dup := seen[a.Address]; dup {
			return GenesisErr(f+".address", "%s is a duplicate of accounts[%d]; merge the two entries", a.Address, j)
		}
		seen[a.Address] = i
		var err error
		if total, err = Add(total, a.Balance); err != nil {
			return GenesisErr(f+".balance", "total supply overflows uint64")
		}
	}
	if len(g.Validators) == 0 {
		return GenesisErr("validators", "empty; a network needs at least one validator (see 'inferd genesis add-validator')")
	}
	cons := map[string]int{}
	ops := map[keys.Address]int{}
	for i, v := range g.Validators {
		f := fmt.Sprintf("validators[%d]", i)
		if v.Operator.IsZero() {
			return GenesisErr(f+".operator", "missing")
		}
		if j, dup := ops[v.Operator]; dup {
			return GenesisErr(f+".operator", "%s already operates validators[%d]", v.Operator, j)
		}
		ops[v.Operator] = i
		if len(v.ConsPubKey) != 32 {
			return GenesisErr(f+".cons_pubkey", "is %d bytes, want a 32-byte ed25519 key in hex", len(v.ConsPubKey))
		}
		if j, dup := cons[string(v.ConsPubKey)]; dup {
			return GenesisErr(f+".cons_pubkey", "same consensus key as validators[%d]", j)
		}
		cons[string(v.ConsPubKey)] = i
		if v.SelfBond == 0 {
			return GenesisErr(f+".self_bond", "is zero; a validator needs stake to have voting power")
		}
		if !v.Commission.Valid() {
			return GenesisErr(f+".commission_ppm", "%d is above 1000000 (100%%)", v.Commission)
		}
		if strings.TrimSpace(v.Moniker) == "" || len(v.Moniker) > 64 {
			return GenesisErr(f+".moniker", "must be 1-64 characters")
		}
		var err error
		if total, err = Add(total, v.SelfBond); err != nil {
			return GenesisErr(f+".self_bond", "total supply overflows uint64")
		}
	}
	return nil
}

// LoadGenesis reads and decodes a genesis file, refusing unknown fields.
func LoadGenesis(path string) (*Genesis, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read genesis: %w", err)
	}
	return ParseGenesis(raw)
}

// ParseGenesis decodes a genesis document, refusing unknown fields.
func ParseGenesis(raw []byte) (*Genesis, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var g Genesis
	if err := dec.Decode(&g); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return nil, GenesisErr(ute.Field, "has type %s, want %s", ute.Value, ute.Type)
		}
		return nil, fmt.Errorf("genesis: not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("genesis: trailing data after the JSON document")
	}
	return &g, nil
}

// Save writes the genesis as indented JSON with mode 0644.
func (g *Genesis) Save(path string) error {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'), 0o644)
}

// WriteFileAtomic writes via a temporary file, fsync, rename and an fsync
// of the directory, so a crash leaves the old file or the new one, never a
// torn one, and the new one survives a power cut once this returns.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
