package staking

import (
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// ValidatorKey is the store key of the validator operated by op; its value
// is the canonical CBOR of Validator (DecodeValidator), for proofs
// (docs/light.md).
func ValidatorKey(op keys.Address) []byte { return cat(valPrefix, op[:]) }

// DecodeValidator decodes a value stored at a ValidatorKey, refusing any
// encoding but the canonical one.
func DecodeValidator(raw []byte) (Validator, error) {
	var v Validator
	if err := codec.Unmarshal(raw, &v); err != nil {
		return Validator{}, fmt.Errorf("staking: validator record: %w", err)
	}
	return v, nil
}
