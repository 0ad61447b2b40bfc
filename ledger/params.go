package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// validatable is implemented by parameter sets with rules across fields.
type validatable interface{ Validate() error }

// ApplyParamJSON returns a copy of cur with the JSON field key set to value.
// It refuses unknown keys and values of the wrong type, and, when T has a
// Validate method, a result that breaks it (ErrInvalidMsg). Used by every
// module's SetParam, which then only stores the result.
func ApplyParamJSON[T any](cur T, key string, value json.RawMessage) (T, error) {
	var zero T
	raw, err := json.Marshal(cur)
	if err != nil {
		return zero, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return zero, err
	}
	if _, ok := fields[key]; !ok {
		known := make([]string, 0, len(fields))
		for k := range fields {
			known = append(known, k)
		}
		sort.Strings(known)
		return zero, fmt.Errorf("%w: unknown parameter %q (known: %s)", ErrInvalidMsg, key, strings.Join(known, ", "))
	}
	fields[key] = value
	raw, err = json.Marshal(fields)
	if err != nil {
		return zero, fmt.Errorf("%w: parameter %s: %v", ErrInvalidMsg, key, err)
	}
	var out T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return zero, fmt.Errorf("%w: parameter %s: value %s: %v", ErrInvalidMsg, key, value, err)
	}
	if v, ok := any(out).(validatable); ok {
		if err := v.Validate(); err != nil {
			return zero, fmt.Errorf("%w: %v", ErrInvalidMsg, err)
		}
	}
	return out, nil
}

// DecodeParams decodes a module's params from genesis JSON over defaults,
// refusing unknown fields; a missing section keeps the defaults.
func DecodeParams[T any](g *Genesis, module string, defaults T) (T, error) {
	raw, ok := g.Params[module]
	if !ok || len(raw) == 0 {
		return defaults, nil
	}
	out := defaults
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return defaults, GenesisErr("params."+module, "%v", err)
	}
	return out, nil
}
