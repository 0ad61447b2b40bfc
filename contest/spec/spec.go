// Package spec reads a contest spec from TOML into a contest.Spec (the
// canonical form a contest/create proposal carries), and writes one back.
//
// Every problem is reported by its field path as written in the file
// ("split", "datasets[1].cid", "validators.quorum_ppm"): unknown fields,
// values of the wrong type, required fields that are absent, and every
// rule of contest.Spec.Validate. Fields ending in _ppm (and tolerance.ppm)
// take either an integer in parts per million (500000) or a percent
// string with up to four decimals ("50%", "12.5%"). Scores (baseline,
// min_improvement, tolerance.absolute) are integers in micro-units of
// the metric (an accuracy of 0.8 is 800000). Addresses are bech32 "inf1…",
// CIDs are strings, a sealed dataset's commitment is 64 hex digits.
//
// See example.toml for a complete, commented spec.
package spec

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/contest"
)

// ratio is a _ppm field: an integer ppm or a "NN.NNNN%" string.
type ratio struct {
	ppm ledger.PPM
	err error
}

// UnmarshalTOML keeps a bad value's error for the field-named report.
func (r *ratio) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x < 0 || x > int64(ledger.PPMOne) {
			r.err = fmt.Errorf("%d ppm is outside 0..1000000", x)
		} else {
			r.ppm = ledger.PPM(x)
		}
	case string:
		r.ppm, r.err = ParsePercent(x)
	default:
		r.err = fmt.Errorf("%v (%T): want an integer in ppm or a percent string like \"12.5%%\"", v, v)
	}
	return nil
}

// ParsePercent parses "12.5%" (at most four decimals, 0..100%) into ppm.
func ParsePercent(s string) (ledger.PPM, error) {
	t := strings.TrimSpace(s)
	if !strings.HasSuffix(t, "%") {
		return 0, fmt.Errorf("%s: a percent string ends with %% (or give an integer in ppm)", echo(s))
	}
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	whole, frac, _ := strings.Cut(t, ".")
	if len(frac) > 4 {
		return 0, fmt.Errorf("%s: at most four decimals (1 ppm = 0.0001%%)", echo(s))
	}
	frac += strings.Repeat("0", 4-len(frac))
	w, err1 := strconv.ParseUint(whole, 10, 32)
	f, err2 := strconv.ParseUint(frac, 10, 32)
	if err1 != nil || err2 != nil || whole == "" {
		return 0, fmt.Errorf("%s is not a percentage", echo(s))
	}
	v := w*10_000 + f
	if v > uint64(ledger.PPMOne) {
		return 0, fmt.Errorf("%s is above 100%%", echo(s))
	}
	return ledger.PPM(v), nil
}

// file mirrors the TOML document.
type file struct {
	Name           string `toml:"name"`
	Objective      string `toml:"objective"`
	Designer       string `toml:"designer"`
	Metric         string `toml:"metric"`
	Direction      string `toml:"direction"`
	Baseline       int64  `toml:"baseline"`
	MinImprovement int64  `toml:"min_improvement"`
	CommitDeposit  uint64 `toml:"commit_deposit"` // uinf; optional
	Evaluator      struct {
		Builtin string `toml:"builtin"`
		Wasm    string `toml:"wasm"`
	} `toml:"evaluator"`
	Datasets []struct {
		Name       string `toml:"name"`
		CID        string `toml:"cid"`
		Policy     string `toml:"policy"`
		Commitment string `toml:"commitment"`
	} `toml:"datasets"`
	Validators struct {
		Policy    string   `toml:"policy"`
		TopN      uint64   `toml:"top_n"`
		List      []string `toml:"list"`
		QuorumPPM ratio    `toml:"quorum_ppm"`
	} `toml:"validators"`
	Reward struct {
		Curve    string `toml:"curve"`
		K        uint64 `toml:"k"`
		RatioPPM ratio  `toml:"ratio_ppm"`
	} `toml:"reward"`
	Split struct {
		BuildersPPM   ratio `toml:"builders_ppm"`
		DesignerPPM   ratio `toml:"designer_ppm"`
		ValidatorsPPM ratio `toml:"validators_ppm"`
	} `toml:"split"`
	Schedule struct {
		RoundLengthBlocks  uint64 `toml:"round_length_blocks"`
		CommitBlocks       uint64 `toml:"commit_blocks"`
		RevealBlocks       uint64 `toml:"reveal_blocks"`
		AttestCommitBlocks uint64 `toml:"attest_commit_blocks"`
		AttestRevealBlocks uint64 `toml:"attest_reveal_blocks"`
	} `toml:"schedule"`
	Tolerance struct {
		PPM      ratio  `toml:"ppm"`
		Absolute uint64 `toml:"absolute"`
	} `toml:"tolerance"`
}

var lastKeyRe = regexp.MustCompile(`last key "([^"]+)"`)

// required are the keys that must be present even where their zero value
// would pass validation (a baseline of 0 must be said, not assumed).
var required = []string{"baseline", "min_improvement", "tolerance", "split", "schedule", "validators", "reward", "evaluator"}

// Load reads and checks the spec at path.
func Load(path string) (contest.Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return contest.Spec{}, err
	}
	return Parse(raw)
}

// Parse reads and checks a TOML spec. The error, if any, is a
// contest.SpecErrors listing every problem with its field (at most
// MaxSpecErrors of them, then a count of the rest). Input over
// MaxSpecBytes, nested deeper than MaxSpecDepth, or with more datasets or
// listed validators than contest allows is refused before any per-entry
// work, so parsing a hostile spec costs time linear in its (capped) size.
func Parse(raw []byte) (contest.Spec, error) {
	var f file
	var es contest.SpecErrors
	add := func(field, format string, a ...any) {
		es = append(es, &contest.FieldError{Field: clip(field), Reason: clip(fmt.Sprintf(format, a...))})
	}
	if fe := checkBounds(raw); fe != nil {
		return contest.Spec{}, contest.SpecErrors{fe}
	}
	md, err := toml.Decode(string(raw), &f)
	if err != nil {
		var pe toml.ParseError
		field := "toml"
		if errors.As(err, &pe) {
			if pe.LastKey != "" {
				field = pe.LastKey
			}
			add(field, "line %d: %s", pe.Position.Line, pe.Message)
		} else {
			msg := strings.TrimPrefix(err.Error(), "toml: ")
			if m := lastKeyRe.FindStringSubmatch(msg); m != nil {
				field = m[1]
			}
			add(field, "%s", msg)
		}
		return contest.Spec{}, capErrors(es)
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		unknown = append(unknown, k.String())
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		add(k, "unknown field")
	}
	for _, k := range required {
		if !md.IsDefined(k) {
			add(k, "missing")
		}
	}
	s := contest.Spec{
		Name: f.Name, Objective: f.Objective, Metric: f.Metric, Direction: f.Direction,
		Baseline: f.Baseline, MinImprovement: f.MinImprovement, CommitDeposit: f.CommitDeposit,
		Evaluator:  contest.Evaluator{Builtin: f.Evaluator.Builtin, Wasm: f.Evaluator.Wasm},
		Validators: contest.ValidatorPolicy{Policy: f.Validators.Policy, TopN: f.Validators.TopN},
		Reward:     contest.RewardCurve{Curve: f.Reward.Curve, K: f.Reward.K},
		Schedule: contest.Schedule{
			RoundLengthBlocks: f.Schedule.RoundLengthBlocks, CommitBlocks: f.Schedule.CommitBlocks, RevealBlocks: f.Schedule.RevealBlocks,
			AttestCommitBlocks: f.Schedule.AttestCommitBlocks, AttestRevealBlocks: f.Schedule.AttestRevealBlocks,
		},
		Tolerance: contest.Tolerance{Absolute: f.Tolerance.Absolute},
	}
	if f.Designer != "" {
		a, err := keys.ParseAddress(f.Designer)
		if err != nil {
			add("designer", "%v", err)
		}
		s.Designer = a
	}
	if len(f.Datasets) > contest.MaxDatasets {
		add("datasets", "%d datasets, limit %d", len(f.Datasets), contest.MaxDatasets)
		return contest.Spec{}, capErrors(es)
	}
	if len(f.Validators.List) > contest.MaxListValidators {
		add("validators.list", "%d operators, limit %d", len(f.Validators.List), contest.MaxListValidators)
		return contest.Spec{}, capErrors(es)
	}
	for i, d := range f.Datasets {
		ds := contest.Dataset{Name: d.Name, CID: d.CID, Policy: d.Policy}
		if d.Commitment != "" {
			c, err := hex.DecodeString(d.Commitment)
			if err != nil {
				add(fmt.Sprintf("datasets[%d].commitment", i), "not hex: %v", err)
			}
			ds.Commitment = c
		}
		s.Datasets = append(s.Datasets, ds)
	}
	for i, a := range f.Validators.List {
		addr, err := keys.ParseAddress(a)
		if err != nil {
			add(fmt.Sprintf("validators.list[%d]", i), "%v", err)
		}
		s.Validators.List = append(s.Validators.List, addr)
	}
	ratios := []struct {
		field string
		r     ratio
		dst   *ledger.PPM
	}{
		{"validators.quorum_ppm", f.Validators.QuorumPPM, &s.Validators.QuorumPPM},
		{"reward.ratio_ppm", f.Reward.RatioPPM, &s.Reward.RatioPPM},
		{"split.builders_ppm", f.Split.BuildersPPM, &s.Split.BuildersPPM},
		{"split.designer_ppm", f.Split.DesignerPPM, &s.Split.DesignerPPM},
		{"split.validators_ppm", f.Split.ValidatorsPPM, &s.Split.ValidatorsPPM},
		{"tolerance.ppm", f.Tolerance.PPM, &s.Tolerance.PPM},
	}
	for _, r := range ratios {
		if r.r.err != nil {
			add(r.field, "%v", r.r.err)
		}
		*r.dst = r.r.ppm
	}
	es = append(es, s.Problems()...)
	if len(es) > 0 {
		return s, capErrors(es)
	}
	return s, nil
}

// Format writes s as TOML in the layout Load reads (ratios in ppm).
func Format(s contest.Spec) string {
	var b strings.Builder
	q := strconv.Quote
	fmt.Fprintf(&b, "name = %s\nobjective = %s\ndesigner = %s\nmetric = %s\ndirection = %s\nbaseline = %d\nmin_improvement = %d\n",
		q(s.Name), q(s.Objective), q(s.Designer.String()), q(s.Metric), q(s.Direction), s.Baseline, s.MinImprovement)
	if s.CommitDeposit > 0 {
		fmt.Fprintf(&b, "commit_deposit = %d\n", s.CommitDeposit)
	}
	b.WriteString("\n[evaluator]\n")
	if s.Evaluator.Builtin != "" {
		fmt.Fprintf(&b, "builtin = %s\n", q(s.Evaluator.Builtin))
	}
	if s.Evaluator.Wasm != "" {
		fmt.Fprintf(&b, "wasm = %s\n", q(s.Evaluator.Wasm))
	}
	for _, d := range s.Datasets {
		fmt.Fprintf(&b, "\n[[datasets]]\nname = %s\npolicy = %s\n", q(d.Name), q(d.Policy))
		if d.CID != "" {
			fmt.Fprintf(&b, "cid = %s\n", q(d.CID))
		}
		if len(d.Commitment) > 0 {
			fmt.Fprintf(&b, "commitment = %s\n", q(hex.EncodeToString(d.Commitment)))
		}
	}
	v := s.Validators
	fmt.Fprintf(&b, "\n[validators]\npolicy = %s\nquorum_ppm = %d\n", q(v.Policy), v.QuorumPPM)
	if v.TopN != 0 {
		fmt.Fprintf(&b, "top_n = %d\n", v.TopN)
	}
	if len(v.List) > 0 {
		ls := make([]string, len(v.List))
		for i, a := range v.List {
			ls[i] = q(a.String())
		}
		fmt.Fprintf(&b, "list = [%s]\n", strings.Join(ls, ", "))
	}
	fmt.Fprintf(&b, "\n[reward]\ncurve = %s\n", q(s.Reward.Curve))
	if s.Reward.K != 0 || s.Reward.RatioPPM != 0 {
		fmt.Fprintf(&b, "k = %d\nratio_ppm = %d\n", s.Reward.K, s.Reward.RatioPPM)
	}
	fmt.Fprintf(&b, "\n[split]\nbuilders_ppm = %d\ndesigner_ppm = %d\nvalidators_ppm = %d\n", s.Split.BuildersPPM, s.Split.DesignerPPM, s.Split.ValidatorsPPM)
	sc := s.Schedule
	fmt.Fprintf(&b, "\n[schedule]\nround_length_blocks = %d\ncommit_blocks = %d\nreveal_blocks = %d\nattest_commit_blocks = %d\nattest_reveal_blocks = %d\n",
		sc.RoundLengthBlocks, sc.CommitBlocks, sc.RevealBlocks, sc.AttestCommitBlocks, sc.AttestRevealBlocks)
	fmt.Fprintf(&b, "\n[tolerance]\nppm = %d\nabsolute = %d\n", s.Tolerance.PPM, s.Tolerance.Absolute)
	return b.String()
}
