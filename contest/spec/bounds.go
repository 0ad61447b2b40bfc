package spec

import (
	"fmt"
	"unicode/utf8"

	"github.com/inferd/inferd/ledger/contest"
)

// Input bounds of Parse. A spec is written by a contest designer and parsed
// by every validator that checks the proposal, so what it may cost to parse
// is capped before the TOML decoder sees it: BurntSushi/toml spends time
// quadratic in the nesting of inline tables (80 KB of "{b={b=..." took 90 s
// and a 400 MB error before these caps), and every unknown key, list entry
// and echoed value would otherwise become part of the error.
const (
	// MaxSpecBytes bounds the TOML text. The largest valid spec (a 4 KiB
	// objective, 16 datasets, a list of 200 validators) is under 20 KiB;
	// the contest/create transaction that carries it is at most
	// ledger.MaxTxBytes (64 KiB) anyway.
	MaxSpecBytes = 64 << 10
	// MaxSpecDepth bounds nesting: open brackets ([ and {) plus the dots
	// of the key or number being read. A valid spec needs 2 ([validators]
	// list = [...]).
	MaxSpecDepth = 8
	// MaxSpecErrors bounds the problems listed; the rest are counted in a
	// last entry named "spec".
	MaxSpecErrors = 32
	// maxEchoBytes bounds a value quoted back in an error message.
	maxEchoBytes = 80
	// maxReasonBytes bounds one problem's text (a TOML parse error may
	// quote a 60 KB number).
	maxReasonBytes = 240
)

// checkBounds refuses raw over MaxSpecBytes or nested deeper than
// MaxSpecDepth. It is a lexer only as far as it must be: it skips comments
// and the four kinds of TOML strings (where brackets and dots mean
// nothing), and counts, outside them, the brackets open and the dots since
// the last '=', ',', bracket or newline. Malformed TOML it lets through: the
// decoder reports that with a line number.
func checkBounds(raw []byte) *contest.FieldError {
	if len(raw) > MaxSpecBytes {
		return &contest.FieldError{Field: "spec", Reason: fmt.Sprintf("%d bytes, limit %d (MaxSpecBytes)", len(raw), MaxSpecBytes)}
	}
	depth, dots, line := 0, 0, 1
	tooDeep := func() *contest.FieldError {
		return &contest.FieldError{Field: "spec", Reason: fmt.Sprintf("line %d: nested more than %d deep (MaxSpecDepth: brackets, braces and dotted keys)", line, MaxSpecDepth)}
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '\n':
			line++
			dots = 0
		case '#':
			for i < len(raw) && raw[i] != '\n' {
				i++
			}
			i-- // the newline is counted by the loop
		case '"', '\'':
			end, lines := skipString(raw, i)
			line += lines
			i = end - 1
		case '[', '{':
			depth++
			dots = 0
			if depth > MaxSpecDepth {
				return tooDeep()
			}
		case ']', '}':
			depth = max(depth-1, 0)
			dots = 0
		case '=', ',':
			dots = 0
		case '.':
			dots++
			if depth+dots > MaxSpecDepth {
				return tooDeep()
			}
		}
	}
	return nil
}

// skipString returns the index just past the string starting at raw[i]
// (or len(raw) if it never ends) and the newlines it spans. Basic strings
// (in double quotes, single or tripled) have backslash escapes; literal
// ones (in single quotes, single or tripled) do not.
func skipString(raw []byte, i int) (end, lines int) {
	q := raw[i]
	multi := i+2 < len(raw) && raw[i+1] == q && raw[i+2] == q
	j := i + 1
	if multi {
		j = i + 3
	}
	for j < len(raw) {
		c := raw[j]
		switch {
		case c == '\\' && q == '"':
			if j+1 < len(raw) && raw[j+1] == '\n' {
				lines++
			}
			j += 2
			continue
		case c == '\n' && !multi:
			return j, lines // unterminated: the newline ends it (the caller counts it)
		case c == '\n':
			lines++
		case c == q && !multi:
			return j + 1, lines
		case c == q && j+2 < len(raw) && raw[j+1] == q && raw[j+2] == q:
			// A closing delimiter may be followed by up to two more quotes
			// that belong to the string ("""a"""" is a" with a quote).
			k := j + 3
			for n := 0; n < 2 && k < len(raw) && raw[k] == q; n++ {
				k++
			}
			return k, lines
		}
		j++
	}
	return len(raw), lines
}

// echo quotes s for an error message, cut to maxEchoBytes.
func echo(s string) string {
	if len(s) <= maxEchoBytes {
		return fmt.Sprintf("%q", s)
	}
	cut := maxEchoBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:cut], len(s))
}

// capErrors keeps the first MaxSpecErrors problems and counts the rest.
func capErrors(es contest.SpecErrors) contest.SpecErrors {
	if len(es) <= MaxSpecErrors {
		return es
	}
	more := len(es) - MaxSpecErrors
	out := append(contest.SpecErrors(nil), es[:MaxSpecErrors]...)
	return append(out, &contest.FieldError{Field: "spec", Reason: fmt.Sprintf("%d more problems not listed (MaxSpecErrors %d)", more, MaxSpecErrors)})
}

// clip cuts a problem's text to maxReasonBytes.
func clip(s string) string {
	if len(s) <= maxReasonBytes {
		return s
	}
	cut := maxReasonBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:cut], len(s))
}
