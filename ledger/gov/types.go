package gov

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Name is the module name and its store prefix.
const Name = "gov"

// Message types.
const (
	MsgTypeSubmitProposal = "gov/submit_proposal"
	MsgTypeDeposit        = "gov/deposit"
	MsgTypeVote           = "gov/vote"
)

// Built-in content kinds.
const (
	KindText        = "text"
	KindParamChange = "param_change"
)

// Size limits of a proposal's text.
const (
	MaxTitleBytes       = 140
	MaxDescriptionBytes = 10_000
	MaxKindBytes        = 64
)

// Sentinel errors of the gov module. Handlers wrap them with detail;
// callers test with errors.Is.
var (
	ErrUnknownProposal   = errors.New("unknown proposal")
	ErrNotVotingPeriod   = errors.New("proposal is not in its voting period")
	ErrNotDepositPeriod  = errors.New("proposal is not in its deposit period")
	ErrInvalidVoteOption = errors.New("invalid vote option")
	ErrInvalidContent    = errors.New("invalid proposal content")
	ErrDepositTooSmall   = errors.New("deposit too small")
)

// VoteOption is a voter's choice. The zero value is not a valid option.
type VoteOption uint8

// Vote options.
const (
	OptionYes     VoteOption = 1
	OptionNo      VoteOption = 2
	OptionAbstain VoteOption = 3
	OptionVeto    VoteOption = 4 // "no with veto"
)

var optionNames = map[VoteOption]string{OptionYes: "yes", OptionNo: "no", OptionAbstain: "abstain", OptionVeto: "veto"}

// Valid reports whether o is one of the four options.
func (o VoteOption) Valid() bool { return o >= OptionYes && o <= OptionVeto }

func (o VoteOption) String() string {
	if s, ok := optionNames[o]; ok {
		return s
	}
	return fmt.Sprintf("option(%d)", uint8(o))
}

// MarshalText renders the option as yes, no, abstain or veto.
func (o VoteOption) MarshalText() ([]byte, error) {
	if !o.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrInvalidVoteOption, uint8(o))
	}
	return []byte(o.String()), nil
}

// UnmarshalText parses yes, no, abstain or veto.
func (o *VoteOption) UnmarshalText(b []byte) error {
	v, err := ParseVoteOption(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// ParseVoteOption parses yes, no, abstain or veto (the CLI's spelling).
func ParseVoteOption(s string) (VoteOption, error) {
	for o, n := range optionNames {
		if n == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("%w: %q (want yes, no, abstain or veto)", ErrInvalidVoteOption, s)
}

// Status is where a proposal is in its life.
type Status uint8

// Proposal statuses. DepositPeriod and VotingPeriod are active; the others
// are final.
const (
	StatusDepositPeriod Status = 1 // waiting for min_deposit
	StatusVotingPeriod  Status = 2
	StatusPassed        Status = 3 // passed and its content executed
	StatusRejected      Status = 4 // no quorum, all abstained, or threshold not reached
	StatusVetoed        Status = 5 // deposits burned
	StatusFailed        Status = 6 // passed, but executing its content failed
	StatusExpired       Status = 7 // min_deposit not reached in time; deposits burned
)

var statusNames = map[Status]string{
	StatusDepositPeriod: "deposit_period", StatusVotingPeriod: "voting_period", StatusPassed: "passed",
	StatusRejected: "rejected", StatusVetoed: "vetoed", StatusFailed: "failed", StatusExpired: "expired",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// MarshalText renders the status name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Active reports whether the proposal still takes deposits or votes.
func (s Status) Active() bool { return s == StatusDepositPeriod || s == StatusVotingPeriod }

// Content is what a proposal does when it passes: Kind selects a
// ContentHandler and Value is that kind's canonical encoding (empty for
// "text", a ParamChangeContent for "param_change").
type Content struct {
	_     struct{} `cbor:",toarray"`
	Kind  string   `json:"kind"`
	Value []byte   `json:"value,omitempty"`
}

// ParamChangeContent changes parameters of modules that implement
// ledger.ParamModule, in order, all or nothing.
type ParamChangeContent struct {
	_       struct{}      `cbor:",toarray"`
	Changes []ParamChange `json:"changes"`
}

// ParamChange sets one parameter (by its JSON name) to a JSON value.
type ParamChange struct {
	_      struct{}        `cbor:",toarray"`
	Module string          `json:"module"`
	Key    string          `json:"key"`
	Value  json.RawMessage `json:"value"` // JSON, e.g. `250` or `"abc"`
}

// MsgSubmitProposal creates a proposal; InitialDeposit (> 0) leaves the
// sender's balance into escrow.
type MsgSubmitProposal struct {
	_              struct{} `cbor:",toarray"`
	Title          string
	Description    string
	Content        Content
	InitialDeposit uint64
}

// MsgDeposit adds Amount to a proposal in its deposit period.
type MsgDeposit struct {
	_          struct{} `cbor:",toarray"`
	ProposalID uint64
	Amount     uint64
}

// MsgVote casts (or replaces) the sender's vote on a proposal in its voting
// period.
type MsgVote struct {
	_          struct{} `cbor:",toarray"`
	ProposalID uint64
	Option     VoteOption
}

// TallyResult is the stake behind each option, in uinf, and the bonded
// total it is measured against.
type TallyResult struct {
	_           struct{} `cbor:",toarray"`
	Yes         uint64   `json:"yes"`
	No          uint64   `json:"no"`
	Abstain     uint64   `json:"abstain"`
	Veto        uint64   `json:"veto"`
	TotalBonded uint64   `json:"total_bonded"`
}

// Voted is the stake that voted, abstentions included.
func (t TallyResult) Voted() uint64 {
	return ledger.MustAdd(ledger.MustAdd(t.Yes, t.No), ledger.MustAdd(t.Abstain, t.Veto))
}

// Proposal is a governance proposal and its outcome.
type Proposal struct {
	_            struct{}     `cbor:",toarray"`
	ID           uint64       `json:"id"`
	Proposer     keys.Address `json:"proposer"`
	Title        string       `json:"title"`
	Description  string       `json:"description"`
	Content      Content      `json:"content"`
	Status       Status       `json:"status"`
	SubmitTime   int64        `json:"submit_time"`      // unix ns
	DepositEnd   int64        `json:"deposit_end"`      // unix ns
	TotalDeposit uint64       `json:"total_deposit"`    // uinf
	VotingStart  int64        `json:"voting_start"`     // unix ns; 0 before voting
	VotingEnd    int64        `json:"voting_end"`       // unix ns; 0 before voting
	FinalTally   TallyResult  `json:"final_tally"`      // set when voting ends
	Result       string       `json:"result,omitempty"` // why it ended as it did
}

// Vote is one voter's ballot.
type Vote struct {
	ProposalID uint64       `json:"proposal_id"`
	Voter      keys.Address `json:"voter"`
	Option     VoteOption   `json:"option"`
}

// Deposit is one depositor's escrowed total on a proposal.
type Deposit struct {
	ProposalID uint64       `json:"proposal_id"`
	Depositor  keys.Address `json:"depositor"`
	Amount     uint64       `json:"amount"`
}

// Params of the gov module.
type Params struct {
	// MinDeposit is the total deposit (uinf) that moves a proposal into
	// its voting period.
	MinDeposit uint64 `json:"min_deposit"`
	// MaxDepositPeriodSeconds is how long a proposal may wait for
	// MinDeposit before it expires and its deposits are burned.
	MaxDepositPeriodSeconds uint64 `json:"max_deposit_period_s"`
	// VotingPeriodSeconds is the length of the voting period.
	VotingPeriodSeconds uint64 `json:"voting_period_s"`
	// Quorum is the share of the total bonded stake that must vote
	// (abstentions count).
	Quorum ledger.PPM `json:"quorum_ppm"`
	// Threshold: a proposal passes when yes / (yes + no + veto) > Threshold.
	Threshold ledger.PPM `json:"threshold_ppm"`
	// VetoThreshold: a proposal is vetoed when veto / voted > VetoThreshold.
	VetoThreshold ledger.PPM `json:"veto_threshold_ppm"`
}

// MaxPeriodSeconds bounds both periods (10 years), so that end times fit
// in int64 nanoseconds.
const MaxPeriodSeconds = 10 * 365 * 24 * 3600

// DefaultParams are the production defaults, used when genesis has no gov
// section: 1000 INF minimum deposit, two-day deposit and voting periods,
// Cosmos SDK's quorum 33.4%, threshold 50% and veto 33.4%.
func DefaultParams() Params {
	return Params{
		MinDeposit:              1000 * ledger.UinfPerINF,
		MaxDepositPeriodSeconds: 2 * 24 * 3600,
		VotingPeriodSeconds:     2 * 24 * 3600,
		Quorum:                  334_000,
		Threshold:               500_000,
		VetoThreshold:           334_000,
	}
}

// Validate checks a parameter set; the error names the JSON field.
func (p Params) Validate() error {
	switch {
	case p.MinDeposit == 0:
		return fieldErr("min_deposit", "must be at least 1 uinf")
	case p.MaxDepositPeriodSeconds == 0 || p.MaxDepositPeriodSeconds > MaxPeriodSeconds:
		return fieldErr("max_deposit_period_s", "%d must be between 1 and %d (10 years)", p.MaxDepositPeriodSeconds, MaxPeriodSeconds)
	case p.VotingPeriodSeconds == 0 || p.VotingPeriodSeconds > MaxPeriodSeconds:
		return fieldErr("voting_period_s", "%d must be between 1 and %d (10 years)", p.VotingPeriodSeconds, MaxPeriodSeconds)
	case !p.Quorum.Valid():
		return fieldErr("quorum_ppm", "%d is above 1000000 (100%%)", p.Quorum)
	case !p.Threshold.Valid():
		return fieldErr("threshold_ppm", "%d is above 1000000 (100%%)", p.Threshold)
	case !p.VetoThreshold.Valid():
		return fieldErr("veto_threshold_ppm", "%d is above 1000000 (100%%)", p.VetoThreshold)
	}
	return nil
}

// ParamError names the invalid parameter.
type ParamError = ledger.ParamError

var fieldErr = ledger.ParamErr
