package compute

import (
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// ProviderKey is the store key of provider a; its value is the canonical
// CBOR of Provider (DecodeProvider), for proofs (docs/light.md).
func ProviderKey(a keys.Address) []byte { return provKey(a) }

// DecodeProvider decodes a value stored at a ProviderKey, refusing any
// encoding but the canonical one.
func DecodeProvider(raw []byte) (Provider, error) {
	var p Provider
	if err := codec.Unmarshal(raw, &p); err != nil {
		return Provider{}, fmt.Errorf("compute: provider record: %w", err)
	}
	return p, nil
}
