package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/ledger/contest"
)

func TestExampleLoads(t *testing.T) {
	s, err := Load("example.toml")
	if err != nil {
		t.Fatalf("example.toml: %v", err)
	}
	if s.Name != "mnist-mlp" || s.Split.BuildersPPM != 700_000 || s.Validators.QuorumPPM != 666_700 || s.Reward.RatioPPM != 500_000 ||
		len(s.Datasets) != 2 || len(s.Datasets[1].Commitment) != 32 || s.Schedule.RoundLengthBlocks != 600 || s.Baseline != 800_000 {
		t.Errorf("%+v", s)
	}
	// Format writes what Parse reads back, and the spec encodes canonically.
	again, err := Parse([]byte(Format(s)))
	if err != nil {
		t.Fatalf("formatted: %v\n%s", err, Format(s))
	}
	if string(codec.MustMarshal(again)) != string(codec.MustMarshal(s)) {
		t.Errorf("round trip differs:\n%+v\n%+v", s, again)
	}
}

// edit returns example.toml with old replaced by new (which must occur).
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	raw, err := os.ReadFile("example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), old) {
		t.Fatalf("example.toml has no %q", old)
	}
	return []byte(strings.Replace(string(raw), old, new, 1))
}

func TestErrorsNameTheField(t *testing.T) {
	cases := []struct{ old, new, field string }{
		{`name = "mnist-mlp"`, ``, "name"},
		{`cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"`, `cid = "bafkNOTACID"`, "datasets[0].cid"},
		{`designer_ppm = "10%"`, `designer_ppm = "9%"`, "split"},
		{`builtin = "mlp-accuracy"`, `builtin = "bleu"`, "evaluator.builtin"},
		{`baseline = 800000`, ``, "baseline"},
		{`metric = "accuracy"`, "metric = \"accuracy\"\nmetrik = 1", "metrik"},
		{`k = 3`, "k = 3\ncolour = \"red\"", "reward.colour"},
		{`quorum_ppm = "66.67%"`, `quorum_ppm = "66.666666%"`, "validators.quorum_ppm"},
		{`quorum_ppm = "66.67%"`, `quorum_ppm = 2000000`, "validators.quorum_ppm"},
		{`designer = "inf1qyqszqgpqyqszqgpqyqszqgpqyqszqgphly43t"`, `designer = "inf1nope"`, "designer"},
		{`commit_blocks = 200`, `commit_blocks = 400`, "schedule"},
		{`policy = "all"`, `policy = "everyone"`, "validators.policy"},
		{`baseline = 800000`, `baseline = "high"`, "baseline"},
	}
	for _, c := range cases {
		_, err := Parse(edit(t, c.old, c.new))
		var es contest.SpecErrors
		if !errors.As(err, &es) || !errors.Is(err, contest.ErrInvalidSpec) {
			t.Errorf("%s: got %v", c.field, err)
			continue
		}
		found := false
		for _, e := range es {
			found = found || e.Field == c.field
		}
		if !found {
			t.Errorf("%s: not named in %v", c.field, err)
		}
	}
}

func TestEveryProblemListed(t *testing.T) {
	raw := edit(t, `name = "mnist-mlp"`, `name = ""`)
	raw = []byte(strings.Replace(string(raw), `direction = "maximize"`, `direction = "up"`, 1))
	raw = []byte(strings.Replace(string(raw), `validators_ppm = "20%"`, `validators_ppm = "25%"`, 1))
	_, err := Parse(raw)
	var es contest.SpecErrors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
	if !strings.Contains(err.Error(), "split: builders_ppm + designer_ppm + validators_ppm = 1050000, want 1000000") {
		t.Errorf("%v", err)
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]uint64{"50%": 500_000, "12.5%": 125_000, "0.0001%": 1, "100%": 1_000_000, " 7 %": 70_000} {
		got, err := ParsePercent(in)
		if err != nil || uint64(got) != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	for _, in := range []string{"50", "100.0001%", "-1%", "1.23456%", "%", "abc%"} {
		if _, err := ParsePercent(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml")); err == nil {
		t.Fatal("no error")
	}
}
