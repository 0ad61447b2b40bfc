//go:build !linux

package wasmrun

import "errors"

// reserve is only implemented on Linux; elsewhere memories are Go slices.
func reserve(uint64) ([]byte, error) {
	return nil, errors.New("wasmrun: no reserved mappings on this OS")
}

func unreserve([]byte) {}
