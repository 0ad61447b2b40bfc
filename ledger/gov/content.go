package gov

import (
	"bytes"
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
// Validation at submit time runs the changes for real and then restores
// every changed parameter to its previous JSON value, newest first, and
// checks that each touched module's ParamsJSON is byte-for-byte what it
// was. SetParam is the only code that knows a module's rules (ranges,
// relations between fields), so trying it is the one check that cannot
// drift from execution; the restore is exact for modules that keep their
// parameters in one record written from the parameter struct (bank,
// staking, gov). The ledger offers modules no discardable sub-context; if
// it gains one, ValidateContent should run the changes there instead.
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
	before := map[string][]byte{}
	var order []string
	for _, ch := range changes {
		if _, ok := before[ch.Module]; !ok {
			before[ch.Module] = c.m.params[ch.Module].ParamsJSON(ctx)
			order = append(order, ch.Module)
		}
	}
	rollback, err := c.m.applyChanges(ctx, changes)
	if err != nil {
		return err
	}
	if err := rollback(); err != nil {
		return err
	}
	for _, name := range order {
		if !bytes.Equal(before[name], c.m.params[name].ParamsJSON(ctx)) {
			return fmt.Errorf("module %s's parameters cannot be restored exactly after a trial change, so the change cannot be checked", name)
		}
	}
	return nil
}

func (c paramChangeContent) ExecuteContent(ctx *ledger.Context, raw []byte) error {
	changes, err := c.decode(raw)
	if err != nil {
		return err
	}
	_, err = c.m.applyChanges(ctx, changes)
	return err
}

// applyChanges sets each parameter in order. When one fails, the ones
// already set are restored (newest first) and the error is returned, so
// the parameters are left as they were. On success it returns the
// function that restores them.
func (m *Module) applyChanges(ctx *ledger.Context, changes []ParamChange) (rollback func() error, err error) {
	type step struct {
		pm          ledger.ParamModule
		module, key string
		old         json.RawMessage
	}
	var done []step
	rollback = func() error {
		for i := len(done) - 1; i >= 0; i-- {
			s := done[i]
			if err := s.pm.SetParam(ctx, s.key, s.old); err != nil {
				return fmt.Errorf("restoring %s.%s to %s: %w", s.module, s.key, s.old, err)
			}
		}
		return nil
	}
	for i, ch := range changes {
		pm := m.params[ch.Module]
		var cur map[string]json.RawMessage
		if err := json.Unmarshal(pm.ParamsJSON(ctx), &cur); err != nil {
			return nil, restoreThen(rollback, fmt.Errorf("change %d: module %s's parameters are not a JSON object: %v", i, ch.Module, err))
		}
		old, ok := cur[ch.Key]
		if !ok {
			known := make([]string, 0, len(cur))
			for k := range cur {
				known = append(known, k)
			}
			sort.Strings(known)
			return nil, restoreThen(rollback, fmt.Errorf("change %d: module %s has no parameter %q (known: %s)", i, ch.Module, ch.Key, strings.Join(known, ", ")))
		}
		if err := pm.SetParam(ctx, ch.Key, ch.Value); err != nil {
			return nil, restoreThen(rollback, fmt.Errorf("change %d (%s.%s = %s): %w", i, ch.Module, ch.Key, ch.Value, err))
		}
		done = append(done, step{pm: pm, module: ch.Module, key: ch.Key, old: old})
	}
	return rollback, nil
}

// restoreThen rolls back and returns err. A value a module accepted a
// moment ago that it now refuses breaks the ParamModule contract; state
// would be left half-changed, so that panics (a message handler's panic
// fails only its transaction; in end-block it stops the node on every
// machine alike).
func restoreThen(rollback func() error, err error) error {
	if rerr := rollback(); rerr != nil {
		panic(fmt.Sprintf("gov: cannot undo a parameter change: %v", rerr))
	}
	return err
}
