package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// validatable is implemented by parameter sets with rules across fields.
type validatable interface{ Validate() error }

// ParamError names the parameter that is wrong by its JSON name; every
// module's parameter validation returns one, so that genesis errors and
// refused param_change proposals point at the field.
type ParamError struct {
	Field  string
	Reason string
}

func (e *ParamError) Error() string { return e.Field + ": " + e.Reason }

// ParamErr is a *ParamError with a formatted reason.
func ParamErr(field, format string, a ...any) error {
	return &ParamError{Field: field, Reason: fmt.Sprintf(format, a...)}
}

// GenesisParams decodes a module's params from genesis over defaults
// (DecodeParams) and validates them; a *ParamError is reported as
// params.<module>.<field>.
func GenesisParams[T validatable](g *Genesis, module string, defaults T) (T, error) {
	p, err := DecodeParams(g, module, defaults)
	if err != nil {
		return p, err
	}
	if err := p.Validate(); err != nil {
		var pe *ParamError
		if errors.As(err, &pe) {
			return p, GenesisErr("params."+module+"."+pe.Field, "%s", pe.Reason)
		}
		return p, GenesisErr("params."+module, "%v", err)
	}
	return p, nil
}

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

// Bounds of a JSON parameter value carried by a transaction (a gov
// param_change): every governable parameter is a number, string or bool,
// so a value needs neither size nor nesting.
const (
	MaxParamValueBytes = 1 << 10
	MaxParamValueDepth = 4
)

// CheckJSONBounds refuses raw longer than maxBytes or with arrays and
// objects nested deeper than maxDepth, before any JSON decoder sees it
// (a scan that skips strings; malformed JSON is left to the decoder).
func CheckJSONBounds(raw []byte, maxBytes, maxDepth int) error {
	if len(raw) > maxBytes {
		return fmt.Errorf("JSON value of %d bytes, limit %d", len(raw), maxBytes)
	}
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth++; depth > maxDepth {
				return fmt.Errorf("JSON value nested more than %d deep", maxDepth)
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return nil
}
