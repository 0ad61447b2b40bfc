package jobspec

import (
	"fmt"

	"github.com/inferd/inferd/codec"
)

// Encode returns the canonical encoding of a valid spec (codec's
// deterministic CBOR): one spec, one byte string, one hash.
func Encode(s *Spec) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return codec.Marshal(s)
}

// Decode reads a canonical encoding and validates the spec in it. Input
// that is not canonical, has unknown keys or is over MaxSpecBytes is
// refused.
func Decode(data []byte) (*Spec, error) {
	if len(data) > MaxSpecBytes {
		return nil, fmt.Errorf("job spec: encoding is %d bytes; at most %d", len(data), MaxSpecBytes)
	}
	var s Spec
	if err := codec.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("job spec: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}
