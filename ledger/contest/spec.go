package contest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Built-in evaluators the network runs (contest/eval implements them).
var BuiltinEvaluators = []string{"mlp-accuracy", "mlp-mse"}

// Enumerations of the spec, as spelled in TOML and JSON.
const (
	DirectionMaximize = "maximize"
	DirectionMinimize = "minimize"

	PolicyPublic = "public"
	PolicySealed = "sealed"

	ValidatorsAll  = "all"
	ValidatorsTopN = "top_n"
	ValidatorsList = "list"

	CurveWinnerTakeAll = "winner_take_all"
	CurveTopKGeometric = "top_k_geometric"
	CurveProportional  = "proportional"
)

// Limits of a spec.
const (
	MaxNameBytes      = 64
	MaxObjectiveBytes = 4096
	MaxMetricBytes    = 64
	MaxDatasets       = 16
	MaxListValidators = 200
	MaxTopN           = 1000
	MaxRewardK        = 32
	MaxRoundBlocks    = 1_000_000
	MaxCommitDeposit  = 1_000_000 * ledger.UinfPerINF
	// MaxCIDBytes bounds a CID string (a CIDv1 of a sha2-256 digest in
	// base32 is 59 characters; 128 leaves room for longer digests).
	MaxCIDBytes = 128
)

// Spec defines a contest. It travels as canonical CBOR in a contest/create
// proposal and is stored with the contest.
type Spec struct {
	_              struct{}        `cbor:",toarray"`
	Name           string          `json:"name"`
	Objective      string          `json:"objective"`
	Designer       keys.Address    `json:"designer"`
	Evaluator      Evaluator       `json:"evaluator"`
	Datasets       []Dataset       `json:"datasets"`
	Metric         string          `json:"metric"`
	Direction      string          `json:"direction"` // maximize | minimize
	Baseline       int64           `json:"baseline"`  // micro-units of the metric
	MinImprovement int64           `json:"min_improvement"`
	Validators     ValidatorPolicy `json:"validators"`
	Reward         RewardCurve     `json:"reward"`
	Split          Split           `json:"split"`
	Schedule       Schedule        `json:"schedule"`
	Tolerance      Tolerance       `json:"tolerance"`
	// CommitDeposit (uinf) is taken with every commit and returned with
	// its reveal; the deposits of commits never revealed are burned when
	// the round freezes, so filling a round with empty commits costs.
	CommitDeposit uint64 `json:"commit_deposit,omitempty"`
}

// Evaluator is either a built-in (by name) or a WebAssembly module (by CID).
type Evaluator struct {
	_       struct{} `cbor:",toarray"`
	Builtin string   `json:"builtin,omitempty"`
	Wasm    string   `json:"wasm,omitempty"` // CID
}

// Dataset is an input of the evaluation. A public dataset carries its
// CID; a sealed one carries Commitment = sha256(CID bytes || salt) and the
// designer reveals the CID with contest/reveal_dataset.
type Dataset struct {
	_          struct{}        `cbor:",toarray"`
	Name       string          `json:"name"`
	CID        string          `json:"cid,omitempty"`
	Policy     string          `json:"policy"` // public | sealed
	Commitment ledger.HexBytes `json:"commitment,omitempty"`
}

// ValidatorPolicy says who evaluates: every bonded validator, the top N by
// stake, or the bonded validators of a list; Quorum is the share of the
// set's stake whose attestations make a score count.
type ValidatorPolicy struct {
	_         struct{}       `cbor:",toarray"`
	Policy    string         `json:"policy"` // all | top_n | list
	TopN      uint64         `json:"top_n,omitempty"`
	List      []keys.Address `json:"list,omitempty"`
	QuorumPPM ledger.PPM     `json:"quorum_ppm"`
}

// RewardCurve divides the builders' share among a round's breakthroughs.
type RewardCurve struct {
	_        struct{}   `cbor:",toarray"`
	Curve    string     `json:"curve"` // winner_take_all | top_k_geometric | proportional
	K        uint64     `json:"k,omitempty"`
	RatioPPM ledger.PPM `json:"ratio_ppm,omitempty"`
}

// Split divides each round's fresh pool; the three parts sum to 100%.
type Split struct {
	_             struct{}   `cbor:",toarray"`
	BuildersPPM   ledger.PPM `json:"builders_ppm"`
	DesignerPPM   ledger.PPM `json:"designer_ppm"`
	ValidatorsPPM ledger.PPM `json:"validators_ppm"`
}

// Schedule is a round's timeline in blocks: the four windows follow each
// other from the round's first block and must fit in RoundLengthBlocks.
type Schedule struct {
	_                  struct{} `cbor:",toarray"`
	RoundLengthBlocks  uint64   `json:"round_length_blocks"`
	CommitBlocks       uint64   `json:"commit_blocks"`
	RevealBlocks       uint64   `json:"reveal_blocks"`
	AttestCommitBlocks uint64   `json:"attest_commit_blocks"`
	AttestRevealBlocks uint64   `json:"attest_reveal_blocks"`
}

// Tolerance says when a validator's score agrees with the median: within
// PPM of the median's magnitude, or within Absolute micro-units.
type Tolerance struct {
	_        struct{}   `cbor:",toarray"`
	PPM      ledger.PPM `json:"ppm"`
	Absolute uint64     `json:"absolute"`
}

// FieldError is one problem of a spec, named by its field path as written
// in TOML and JSON ("split", "datasets[1].cid").
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes every FieldError an ErrInvalidSpec.
func (e *FieldError) Unwrap() error { return ErrInvalidSpec }

// SpecErrors is every problem of a spec.
type SpecErrors []*FieldError

func (es SpecErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return ErrInvalidSpec.Error() + ": " + strings.Join(parts, "; ")
}

// Unwrap lets errors.Is and errors.As see ErrInvalidSpec and each field.
func (es SpecErrors) Unwrap() []error {
	out := make([]error, 0, len(es)+1)
	out = append(out, ErrInvalidSpec)
	for _, e := range es {
		out = append(out, e)
	}
	return out
}

// Validate checks the spec and returns nil or a SpecErrors listing every
// problem, each naming its field.
func (s *Spec) Validate() error {
	if p := s.Problems(); len(p) > 0 {
		return p
	}
	return nil
}

// Problems lists every problem of the spec, in field order.
func (s *Spec) Problems() SpecErrors {
	var es SpecErrors
	add := func(field, format string, a ...any) {
		es = append(es, &FieldError{Field: field, Reason: fmt.Sprintf(format, a...)})
	}
	text := func(field, v string, max int) {
		switch {
		case strings.TrimSpace(v) == "":
			add(field, "missing")
		case len(v) > max:
			add(field, "%d bytes, limit %d", len(v), max)
		case !utf8.ValidString(v):
			add(field, "not valid UTF-8")
		}
	}
	text("name", s.Name, MaxNameBytes)
	text("objective", s.Objective, MaxObjectiveBytes)
	if s.Designer.IsZero() {
		add("designer", "missing (the address paid the designer's share)")
	}
	s.checkEvaluator(add)
	s.checkDatasets(add)
	text("metric", s.Metric, MaxMetricBytes)
	if s.Direction != DirectionMaximize && s.Direction != DirectionMinimize {
		add("direction", "%q; want %q or %q", s.Direction, DirectionMaximize, DirectionMinimize)
	}
	if s.Baseline < -MaxScore || s.Baseline > MaxScore {
		add("baseline", "%d is outside ±%d", s.Baseline, int64(MaxScore))
	}
	if s.MinImprovement < 0 || s.MinImprovement > MaxScore {
		add("min_improvement", "%d must be 0..%d", s.MinImprovement, int64(MaxScore))
	}
	s.checkValidators(add)
	s.checkReward(add)
	sp := s.Split
	if !sp.BuildersPPM.Valid() || !sp.DesignerPPM.Valid() || !sp.ValidatorsPPM.Valid() ||
		uint64(sp.BuildersPPM)+uint64(sp.DesignerPPM)+uint64(sp.ValidatorsPPM) != uint64(ledger.PPMOne) {
		add("split", "builders_ppm + designer_ppm + validators_ppm = %d, want 1000000",
			uint64(sp.BuildersPPM)+uint64(sp.DesignerPPM)+uint64(sp.ValidatorsPPM))
	}
	s.checkSchedule(add)
	if s.CommitDeposit > MaxCommitDeposit {
		add("commit_deposit", "%d uinf is above the %d uinf cap", s.CommitDeposit, uint64(MaxCommitDeposit))
	}
	if !s.Tolerance.PPM.Valid() {
		add("tolerance.ppm", "%d is above 1000000 (100%%)", s.Tolerance.PPM)
	}
	if s.Tolerance.Absolute > MaxScore {
		add("tolerance.absolute", "%d is above %d", s.Tolerance.Absolute, uint64(MaxScore))
	}
	return es
}

type addFunc func(field, format string, a ...any)

func (s *Spec) checkEvaluator(add addFunc) {
	e := s.Evaluator
	switch {
	case e.Builtin == "" && e.Wasm == "":
		add("evaluator", "missing: set builtin (one of %s) or wasm (a CID)", strings.Join(BuiltinEvaluators, ", "))
	case e.Builtin != "" && e.Wasm != "":
		add("evaluator", "set builtin or wasm, not both")
	case e.Builtin != "":
		if !isBuiltin(e.Builtin) {
			add("evaluator.builtin", "unknown evaluator %q (known: %s)", e.Builtin, strings.Join(BuiltinEvaluators, ", "))
		}
	default:
		if _, err := ParseCID(e.Wasm); err != nil {
			add("evaluator.wasm", "%v", err)
		}
	}
}

func isBuiltin(name string) bool {
	for _, b := range BuiltinEvaluators {
		if b == name {
			return true
		}
	}
	return false
}

func (s *Spec) checkDatasets(add addFunc) {
	if len(s.Datasets) == 0 {
		add("datasets", "missing: at least one dataset")
	}
	if len(s.Datasets) > MaxDatasets {
		add("datasets", "%d datasets, limit %d", len(s.Datasets), MaxDatasets)
		return // not one problem per entry of a list that is over its cap
	}
	seen := map[string]bool{}
	for i, d := range s.Datasets {
		f := fmt.Sprintf("datasets[%d]", i)
		switch {
		case strings.TrimSpace(d.Name) == "":
			add(f+".name", "missing")
		case len(d.Name) > MaxNameBytes:
			add(f+".name", "%d bytes, limit %d", len(d.Name), MaxNameBytes)
		case seen[d.Name]:
			add(f+".name", "%q is used twice", d.Name)
		}
		seen[d.Name] = true
		switch d.Policy {
		case PolicyPublic:
			if d.CID == "" {
				add(f+".cid", "missing (a public dataset is named by its CID)")
			} else if _, err := ParseCID(d.CID); err != nil {
				add(f+".cid", "%v", err)
			}
			if len(d.Commitment) != 0 {
				add(f+".commitment", "only a sealed dataset has a commitment")
			}
		case PolicySealed:
			if d.CID != "" {
				add(f+".cid", "a sealed dataset's CID stays secret: give its commitment instead")
			}
			if len(d.Commitment) != 32 {
				add(f+".commitment", "%d bytes; want the 32-byte sha256(CID bytes || salt)", len(d.Commitment))
			}
		default:
			add(f+".policy", "%q; want %q or %q", d.Policy, PolicyPublic, PolicySealed)
		}
	}
}

func (s *Spec) checkValidators(add addFunc) {
	v := s.Validators
	switch v.Policy {
	case ValidatorsAll:
	case ValidatorsTopN:
		if v.TopN == 0 || v.TopN > MaxTopN {
			add("validators.top_n", "%d must be 1..%d", v.TopN, MaxTopN)
		}
	case ValidatorsList:
		if len(v.List) == 0 || len(v.List) > MaxListValidators {
			add("validators.list", "%d operators; a list policy names 1..%d", len(v.List), MaxListValidators)
			break // not one problem per entry of a list that is over its cap
		}
		seen := map[keys.Address]bool{}
		for i, a := range v.List {
			if a.IsZero() || seen[a] {
				add(fmt.Sprintf("validators.list[%d]", i), "zero or repeated address")
			}
			seen[a] = true
		}
	default:
		add("validators.policy", "%q; want %q, %q or %q", v.Policy, ValidatorsAll, ValidatorsTopN, ValidatorsList)
	}
	if v.Policy != ValidatorsTopN && v.TopN != 0 {
		add("validators.top_n", "only the top_n policy takes top_n")
	}
	if v.Policy != ValidatorsList && len(v.List) != 0 {
		add("validators.list", "only the list policy takes a list")
	}
	if v.QuorumPPM == 0 || !v.QuorumPPM.Valid() {
		add("validators.quorum_ppm", "%d must be 1..1000000", v.QuorumPPM)
	}
}

func (s *Spec) checkReward(add addFunc) {
	r := s.Reward
	switch r.Curve {
	case CurveWinnerTakeAll, CurveProportional:
		if r.K != 0 || r.RatioPPM != 0 {
			add("reward", "k and ratio_ppm belong to the %s curve only", CurveTopKGeometric)
		}
	case CurveTopKGeometric:
		if r.K == 0 || r.K > MaxRewardK {
			add("reward.k", "%d must be 1..%d", r.K, MaxRewardK)
		}
		if r.RatioPPM == 0 || !r.RatioPPM.Valid() {
			add("reward.ratio_ppm", "%d must be 1..1000000", r.RatioPPM)
		}
	default:
		add("reward.curve", "%q; want %q, %q or %q", r.Curve, CurveWinnerTakeAll, CurveTopKGeometric, CurveProportional)
	}
}

func (s *Spec) checkSchedule(add addFunc) {
	sc := s.Schedule
	windows := []struct {
		name string
		v    uint64
	}{
		{"schedule.commit_blocks", sc.CommitBlocks}, {"schedule.reveal_blocks", sc.RevealBlocks},
		{"schedule.attest_commit_blocks", sc.AttestCommitBlocks}, {"schedule.attest_reveal_blocks", sc.AttestRevealBlocks},
	}
	var sum uint64
	ok := true
	for _, w := range windows {
		if w.v == 0 || w.v > MaxRoundBlocks {
			add(w.name, "%d must be 1..%d", w.v, MaxRoundBlocks)
			ok = false
		}
		sum += w.v
	}
	if sc.RoundLengthBlocks == 0 || sc.RoundLengthBlocks > MaxRoundBlocks {
		add("schedule.round_length_blocks", "%d must be 1..%d", sc.RoundLengthBlocks, MaxRoundBlocks)
	} else if ok && sum > sc.RoundLengthBlocks {
		add("schedule", "commit + reveal + attest_commit + attest_reveal = %d blocks, longer than round_length_blocks %d", sum, sc.RoundLengthBlocks)
	}
}

// ParseCID parses a CID and refuses the empty CID.
func ParseCID(s string) (cid.Cid, error) {
	if s == "" {
		return cid.Undef, fmt.Errorf("%w: empty", ErrBadCID)
	}
	if len(s) > MaxCIDBytes {
		return cid.Undef, fmt.Errorf("%w: %d characters, limit %d", ErrBadCID, len(s), MaxCIDBytes)
	}
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%w: %q: %v", ErrBadCID, s, err)
	}
	return c, nil
}

// IsSpecError reports whether err is a spec problem.
func IsSpecError(err error) bool { return errors.Is(err, ErrInvalidSpec) }
