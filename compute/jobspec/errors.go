package jobspec

import (
	"fmt"
	"strings"
)

// FieldError is one bad field: its path in the spec (as "resources.memory"
// or "inputs[1].path") and what is wrong with it and what is expected.
type FieldError struct {
	Path    string
	Problem string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Problem
	}
	return e.Path + ": " + e.Problem
}

// Errors is every problem found in a spec, in the order of the spec's
// fields. Parse and Validate return it (as error) when it is not empty.
type Errors []FieldError

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return fmt.Sprintf("job spec: %d problem(s): %s", len(es), strings.Join(parts, "; "))
}

// collector gathers field errors; a path reported once is not reported
// again (a field that failed to parse is not also "missing").
type collector struct {
	errs Errors
	seen map[string]bool
}

func (c *collector) add(path, format string, a ...any) {
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if c.seen[path] {
		return
	}
	c.seen[path] = true
	c.errs = append(c.errs, FieldError{Path: path, Problem: fmt.Sprintf(format, a...)})
}

func (c *collector) bad(path string) bool { return c.seen[path] }

func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}
