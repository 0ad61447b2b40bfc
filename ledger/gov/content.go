package gov

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger"
)

// MaxParamChanges bounds the changes of one param_change proposal.
const MaxParamChanges = 32

// textContent is a signalling proposal: its text is its title and
// description, and passing it changes nothing.
type textContent struct{}

func (textContent) ValidateContent(_ *ledger.Context, raw []byte) error {
	if len(raw) != 0 {
		return fmt.Errorf("a text proposal carries no value (%d bytes given); put the text in the title and description", len(raw))
	}
	return nil
}

func (textContent) ExecuteContent(*ledger.Context, []byte) error { return nil }

// NewParamChange encodes a param_change content.
func NewParamChange(changes ...ParamChange) Content {
	return Content{Kind: KindParamChange, Value: codec.MustMarshal(ParamChangeContent{Changes: changes})}
}

// NewText is a text content.
func NewText() Content { return Content{Kind: KindText} }

// paramChangeContent applies ParamChangeContent through each module's
// ledger.ParamModule.SetParam.
//
// Validation at submit time runs the changes on a branch of the state that
// is then dropped (ledger.Context.Branch): SetParam is the only code that
// knows a module's rules (ranges, relations between fields), so trying it
// is the one check that cannot drift from execution.
type paramChangeContent struct{ m *Module }

// DecodeParamChange decodes the value of a param_change content (for the
// API and CLI; it does not check the changes).
func DecodeParamChange(c Content) (ParamChangeContent, error) {
	var pc ParamChangeContent
	if c.Kind != KindParamChange {
		return pc, fmt.Errorf("%w: kind is %q, not %q", ErrInvalidContent, c.Kind, KindParamChange)
	}
	if err := codec.Unmarshal(c.Value, &pc); err != nil {
		return pc, fmt.Errorf("%w: not a canonical ParamChangeContent: %v", ErrInvalidContent, err)
	}
	return pc, nil
}

func (c paramChangeContent) decode(raw []byte) ([]ParamChange, error) {
	var pc ParamChangeContent
	if err := codec.Unmarshal(raw, &pc); err != nil {
		return nil, fmt.Errorf("not a canonical ParamChangeContent: %v", err)
	}
	if len(pc.Changes) == 0 || len(pc.Changes) > MaxParamChanges {
		return nil, fmt.Errorf("%d changes; a param_change proposal has 1 to %d", len(pc.Changes), MaxParamChanges)
	}
	for i, ch := range pc.Changes {
		if _, ok := c.m.params[ch.Module]; !ok {
			return nil, fmt.Errorf("change %d: module %q has no governable parameters (known: %s)", i, ch.Module, strings.Join(c.m.paramModuleNames(), ", "))
		}
		if err := ledger.CheckJSONBounds(ch.Value, ledger.MaxParamValueBytes, ledger.MaxParamValueDepth); err != nil {
			return nil, fmt.Errorf("change %d (%s.%.64s): %v", i, ch.Module, ch.Key, err)
		}
		if !json.Valid(ch.Value) {
			return nil, fmt.Errorf("change %d (%s.%s): value %q is not valid JSON", i, ch.Module, ch.Key, ch.Value)
		}
	}
	return pc.Changes, nil
}

func (m *Module) paramModuleNames() []string {
	out := make([]string, 0, len(m.params))
	for n := range m.params {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (c paramChangeContent) ValidateContent(ctx *ledger.Context, raw []byte) error {
	changes, err := c.decode(raw)
	if err != nil {
		return err
	}
	// A trial run on a branch that is then dropped: the changes are
	// checked by the modules themselves and nothing is written.
	trial, _ := ctx.Branch()
	return c.m.applyChanges(trial, changes)
}

func (c paramChangeContent) ExecuteContent(ctx *ledger.Context, raw []byte) error {
	changes, err := c.decode(raw)
	if err != nil {
		return err
	}
	branch, commit := ctx.Branch()
	if err := c.m.applyChanges(branch, changes); err != nil {
		return err
	}
	commit()
	return nil
}

// applyChanges sets each parameter in order, stopping at the first
// failure. Callers run it on a branch so a failure leaves nothing behind.
func (m *Module) applyChanges(ctx *ledger.Context, changes []ParamChange) error {
	for i, ch := range changes {
		pm := m.params[ch.Module]
		var cur map[string]json.RawMessage
		if err := json.Unmarshal(pm.ParamsJSON(ctx), &cur); err != nil {
			return fmt.Errorf("change %d: module %s's parameters are not a JSON object: %v", i, ch.Module, err)
		}
		if _, ok := cur[ch.Key]; !ok {
			known := make([]string, 0, len(cur))
			for k := range cur {
				known = append(known, k)
			}
			sort.Strings(known)
			return fmt.Errorf("change %d: module %s has no parameter %q (known: %s)", i, ch.Module, ch.Key, strings.Join(known, ", "))
		}
		if err := pm.SetParam(ctx, ch.Key, ch.Value); err != nil {
			return fmt.Errorf("change %d (%s.%s = %s): %w", i, ch.Module, ch.Key, ch.Value, err)
		}
	}
	return nil
}
