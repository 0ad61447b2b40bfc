package spec

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger/contest"
)

// hostile are inputs that cost a parser dearly without the bounds of
// bounds.go, each small enough for a seed; TestParseHostileSpecs grows
// them to MaxSpecBytes.
func hostile(n int) map[string]string {
	return map[string]string{
		"deep inline tables": "a = " + strings.Repeat("{b=", n) + "1" + strings.Repeat("}", n),
		"deep arrays":        "a = " + strings.Repeat("[", n) + strings.Repeat("]", n),
		"deep table header":  "[" + strings.Repeat("a.", n) + "a]\n",
		"deep dotted key":    strings.Repeat("a.", n) + "a = 1\n",
		"many datasets":      strings.Repeat("[[datasets]]\nname = \"x\"\n", n),
		"many list entries":  "[validators]\nlist = [" + strings.Repeat(`"x",`, n) + "]\n",
		"many unknown keys":  manyUnknown(n / 8),
		"huge integer":       "baseline = 1" + strings.Repeat("0", n),
		"huge exponent":      "baseline = 1e" + strings.Repeat("9", n),
		"long address":       `designer = "inf1` + strings.Repeat("q", n) + `"`,
		"long cid":           "[evaluator]\nwasm = \"b" + strings.Repeat("a", n) + "\"\n",
		"long percent":       "[split]\nbuilders_ppm = \"" + strings.Repeat("9", n) + "%\"\n",
		"unterminated":       "name = \"" + strings.Repeat("x", n),
		"brackets in string": "objective = \"" + strings.Repeat("[{.", n) + "\"\n",
	}
}

func manyUnknown(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "zz%d = 1\n", i)
	}
	return b.String()
}

// checkParse is what every input must satisfy: Parse returns, its error
// is a bounded contest.SpecErrors, and an accepted spec is valid and
// survives Format -> Parse unchanged.
func checkParse(t *testing.T, raw []byte) {
	t.Helper()
	s, err := Parse(raw)
	if err != nil {
		var es contest.SpecErrors
		if !errors.As(err, &es) || !errors.Is(err, contest.ErrInvalidSpec) {
			t.Fatalf("error is not a SpecErrors: %v", err)
		}
		if len(es) == 0 || len(es) > MaxSpecErrors+1 {
			t.Fatalf("%d problems listed, want 1..%d", len(es), MaxSpecErrors+1)
		}
		for _, e := range es {
			if e.Field == "" || e.Reason == "" || len(e.Field) > maxReasonBytes+32 || len(e.Reason) > maxReasonBytes+32 {
				t.Fatalf("problem %q: %q: empty or unbounded", e.Field, e.Reason)
			}
		}
		return
	}
	if len(raw) > MaxSpecBytes {
		t.Fatalf("accepted %d bytes", len(raw))
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("accepted an invalid spec: %v", err)
	}
	again, err := Parse([]byte(Format(s)))
	if err != nil {
		t.Fatalf("Format of an accepted spec does not parse: %v\n%s", err, Format(s))
	}
	if string(codec.MustMarshal(again)) != string(codec.MustMarshal(s)) {
		t.Fatalf("Format -> Parse changed the spec:\n%+v\n%+v", s, again)
	}
}

// FuzzParse: a contest spec is written by whoever proposes a contest and
// parsed by validators and the CLI; no TOML text may panic, stall or
// flood the parser.
func FuzzParse(f *testing.F) {
	raw, err := os.ReadFile("example.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	s, err := Parse(raw)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(Format(s)))
	f.Add([]byte(strings.Replace(string(raw), `policy = "all"`, "policy = \"list\"\nlist = [\"inf1qyqszqgpqyqszqgpqyqszqgpqyqszqgphly43t\"]", 1)))
	f.Add([]byte(strings.Replace(string(raw), `quorum_ppm = "66.67%"`, `quorum_ppm = 666700`, 1)))
	f.Add([]byte("name = '''x'''\nobjective = \"\"\"a\\\n b\"\"\"\n"))
	for _, h := range hostile(12) {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkParse(t, raw)
	})
}

// TestParseHostileSpecs: each hostile input class at (or just over) the
// size cap is refused quickly with a bounded error that names the cap.
// Before the bounds, 80 KB of nested inline tables took 90 s to parse and
// produced a 400 MB error.
func TestParseHostileSpecs(t *testing.T) {
	for name, in := range hostile(MaxSpecBytes / 8) {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			checkParse(t, []byte(in))
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
			if _, err := Parse([]byte(in)); err == nil || len(err.Error()) > 16<<10 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
		})
	}
	cases := []struct{ in, want string }{
		{strings.Repeat("#", MaxSpecBytes+1), "MaxSpecBytes"},
		{"a = " + strings.Repeat("{b=", MaxSpecDepth+1) + "1" + strings.Repeat("}", MaxSpecDepth+1), "MaxSpecDepth"},
		{"[" + strings.Repeat("a.", MaxSpecDepth) + "a]", "MaxSpecDepth"},
		{strings.Repeat("[[datasets]]\nname = \"x\"\n", contest.MaxDatasets+1), "limit 16"},
		{"[validators]\nlist = [" + strings.Repeat(`"x",`, contest.MaxListValidators+1) + "]", "limit 200"},
		{manyUnknown(100), "MaxSpecErrors"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.40q...: got %v, want an error naming %s", c.in, err, c.want)
		}
	}
}

// TestDepthCheckLetsValidSpecsThrough: the pre-check does not refuse
// what the decoder would accept within the cap: brackets, braces and dots
// inside strings and comments do not count.
func TestDepthCheckLetsValidSpecsThrough(t *testing.T) {
	for _, in := range []string{
		"a = \"[[[[[[[[[[{{{{{{{{......\"\n",
		"a = '[[[[[[[[[[[[[[[[[[[[['\n",
		"a = \"\"\"\n[[[[[[[[[[[[\n\"\"\"\n",
		"a = '''\n{{{{{{{{{{{{{{{{\n'''\n",
		"# [[[[[[[[[[[[[[[[[[[[[[[[[[\n",
		"a = \"\\\"[[[[[[[[[[[[[[[[[[\"\n",
		"a = [[[1.5, 2.5], [3.5]], [1.5e3, 2.25]]\n",
		"a.b.c = 1\n[x.y]\nz = [{p = 1}]\n",
	} {
		if fe := checkBounds([]byte(in)); fe != nil {
			t.Errorf("%q: %v", in, fe)
		}
	}
	raw, _ := os.ReadFile("example.toml")
	if fe := checkBounds(raw); fe != nil {
		t.Errorf("example.toml: %v", fe)
	}
}
