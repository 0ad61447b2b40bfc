// Package codec is the one canonical encoding of inferd: everything that is
// hashed or signed goes through Marshal, and everything that arrives from the
// network goes through Unmarshal, which refuses any input that is not already
// in canonical form (so one value has exactly one encoding and one hash).
//
// The encoding is CBOR with RFC 8949 core deterministic encoding rules
// (shortest integer forms, sorted map keys, definite lengths, no floats in
// consensus data by convention). Safe for concurrent use.
package codec

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// ErrNotCanonical is returned by Unmarshal for input that decodes but is not
// the canonical encoding of the value it decodes to.
var ErrNotCanonical = errors.New("codec: input is not in canonical encoding")

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

// Limits bound the work an adversarial input can cause while decoding.
const (
	MaxNestedLevels = 16
	MaxArrayElems   = 1 << 20
	MaxMapPairs     = 1 << 16
)

func init() {
	eo := cbor.CoreDetEncOptions()
	eo.Time = cbor.TimeUnixDynamic
	var err error
	encMode, err = eo.EncMode()
	if err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   MaxNestedLevels,
		MaxArrayElements:  MaxArrayElems,
		MaxMapPairs:       MaxMapPairs,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Marshal returns the canonical encoding of v.
func Marshal(v any) ([]byte, error) {
	return encMode.Marshal(v)
}

// MustMarshal is Marshal for values whose types are known to encode (the
// project's own structs); a failure there is a programming error.
func MustMarshal(v any) []byte {
	b, err := encMode.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("codec: marshal %T: %v", v, err))
	}
	return b
}

// Unmarshal decodes data into v and checks that data is exactly the canonical
// encoding of the decoded value. Trailing bytes, unknown fields, duplicate map
// keys, indefinite lengths and non-shortest forms are all rejected.
func Unmarshal(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("codec: decode %T: %w", v, err)
	}
	again, err := encMode.Marshal(v)
	if err != nil {
		return fmt.Errorf("codec: re-encode %T: %w", v, err)
	}
	if !bytes.Equal(again, data) {
		return ErrNotCanonical
	}
	return nil
}

// UnmarshalTrusted decodes data that this process wrote itself (its own
// store), skipping the canonical re-encoding check.
func UnmarshalTrusted(data []byte, v any) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("codec: decode %T: %w", v, err)
	}
	return nil
}

// RawMessage is an encoded value carried inside another, decoded later by
// whoever knows its type.
type RawMessage = cbor.RawMessage
