package contest

import (
	"errors"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Name is the module name and its store prefix.
const Name = "contest"

// Message types.
const (
	MsgTypeCommit        = "contest/commit"
	MsgTypeReveal        = "contest/reveal"
	MsgTypeRevealDataset = "contest/reveal_dataset"
	MsgTypeAttestCommit  = "contest/attest_commit"
	MsgTypeAttestReveal  = "contest/attest_reveal"
)

// Gov content kinds registered by New.
const (
	KindCreate = "contest/create" // value: canonical CBOR Spec
	KindRetire = "contest/retire" // value: canonical CBOR RetireContent
)

// Bounds that keep a round's work (and its end-block) small.
const (
	// MaxSubmissionsPerRound caps commits in one round of one contest.
	MaxSubmissionsPerRound = 1024
	// MaxCommitsPerBuilder caps one sender's commits in one round, so that
	// one account cannot fill a round.
	MaxCommitsPerBuilder = 16
	// MaxScore bounds the magnitude of every score, baseline and
	// improvement (micro-units), so that differences and products fit.
	MaxScore = 1_000_000_000_000_000
	// MinSaltBytes and MaxSaltBytes bound commit salts.
	MinSaltBytes = 16
	MaxSaltBytes = 64
	// LeaderboardSize is how many agreed submissions the detail query lists.
	LeaderboardSize = 100
)

// Sentinel errors. Handlers wrap them with detail; test with errors.Is.
var (
	ErrInvalidSpec       = errors.New("invalid contest spec")
	ErrUnknownContest    = errors.New("unknown contest")
	ErrNotLive           = errors.New("contest is not live")
	ErrWrongRound        = errors.New("not the current round")
	ErrOutsideWindow     = errors.New("outside its window")
	ErrDuplicateCommit   = errors.New("commit hash already submitted")
	ErrRoundFull         = errors.New("round has reached its submission cap")
	ErrTooManyCommits    = errors.New("sender has reached its commit cap for this round")
	ErrNoCommit          = errors.New("no matching commit")
	ErrAlreadyRevealed   = errors.New("already revealed")
	ErrBadCID            = errors.New("invalid CID")
	ErrBadSalt           = errors.New("invalid salt")
	ErrNotDesigner       = errors.New("sender is not the contest designer")
	ErrBadDataset        = errors.New("invalid dataset reveal")
	ErrNotInSet          = errors.New("sender is not in the contest's validator set for this round")
	ErrAlreadyAttested   = errors.New("attestation already committed")
	ErrNoAttestCommit    = errors.New("no attestation commit")
	ErrHashMismatch      = errors.New("reveal does not match the commit hash")
	ErrWrongScoreCount   = errors.New("wrong number of scores")
	ErrScoreOutOfRange   = errors.New("score out of range")
	ErrAlreadyRetired    = errors.New("contest already retired")
	ErrInvalidCommitHash = errors.New("commit hash must be 32 bytes")
	ErrBadDigest         = errors.New("invalid model digest")
)

// Score is one validator's verdict on one submission: a value in
// micro-units of the metric, or an abstention (the evaluator could not
// run, the model could not be fetched).
type Score struct {
	_       struct{} `cbor:",toarray"`
	Abstain bool     `json:"abstain,omitempty"`
	Value   int64    `json:"value"`
	// Digest is the evaluator's canonical digest of the model it scored
	// (32 bytes; see docs/contests.md "Copies"): the same weights under
	// another CID give the same digest. Empty when abstaining, or from an
	// evaluator that computes none.
	Digest ledger.HexBytes `json:"digest,omitempty"`
}

// MsgCommit commits to a model: Hash = CommitHash(model CID, salt, sender).
type MsgCommit struct {
	_       struct{} `cbor:",toarray"`
	Contest uint64
	Round   uint64
	Hash    []byte
}

// MsgReveal opens a commit of the same round.
type MsgReveal struct {
	_       struct{} `cbor:",toarray"`
	Contest uint64
	Round   uint64
	Model   string // CID, any multibase
	Salt    []byte
}

// MsgRevealDataset opens a sealed dataset: sha256(CID bytes || Salt) must
// equal the commitment in the spec. Only the designer may send it, and
// only once the builders' reveal window of a round has closed.
type MsgRevealDataset struct {
	_       struct{} `cbor:",toarray"`
	Contest uint64
	Dataset uint32 // index in Spec.Datasets
	CID     string
	Salt    []byte
}

// MsgAttestCommit commits a validator's scores:
// Hash = AttestHash(scores, salt, sender).
type MsgAttestCommit struct {
	_       struct{} `cbor:",toarray"`
	Contest uint64
	Round   uint64
	Hash    []byte
}

// MsgAttestReveal opens an attestation. Scores has one entry per scored
// submission of the round, in the order of RoundView.Scored.
type MsgAttestReveal struct {
	_       struct{} `cbor:",toarray"`
	Contest uint64
	Round   uint64
	Scores  []Score
	Salt    []byte
}

// RetireContent is the value of a "contest/retire" proposal.
type RetireContent struct {
	_  struct{} `cbor:",toarray"`
	ID uint64   `json:"id"`
}

// Member is one validator of a round's frozen set with its stake.
type Member struct {
	_        struct{}     `cbor:",toarray"`
	Operator keys.Address `json:"operator"`
	Stake    uint64       `json:"stake"`
}

// Submission statuses.
const (
	StatusCommitted  = "committed"  // hash only, reveal window open or not reached
	StatusRevealed   = "revealed"   // CID opened, waiting for evaluation
	StatusUnrevealed = "unrevealed" // the reveal window closed without a reveal
	StatusCopy       = "copy"       // the CID, or the weights (digest), were committed first by someone else: earns nothing
	StatusNearCopy   = "near_copy"  // scored within tolerance of an earlier-committed breakthrough of the round: earns nothing
	StatusAgreed     = "agreed"     // attestations reached quorum: AgreedScore is set
	StatusNoQuorum   = "no_quorum"  // evaluated, but attestations did not reach quorum
)

// Submission is one builder commit and what became of it.
type Submission struct {
	_              struct{}        `cbor:",toarray"`
	Contest        uint64          `json:"contest"`
	Round          uint64          `json:"round"`
	Index          uint32          `json:"index"`
	Builder        keys.Address    `json:"builder"`
	CommitHash     ledger.HexBytes `json:"commit_hash"`
	CommitSeq      uint64          `json:"commit_seq"` // order of commits across the contest's history
	CommitHeight   uint64          `json:"commit_height"`
	Model          string          `json:"model,omitempty"` // CID once revealed
	RevealHeight   uint64          `json:"reveal_height,omitempty"`
	Status         string          `json:"status"`
	CopyOf         *keys.Address   `json:"copy_of,omitempty"` // owner of the CID or digest (copy), or of the earlier breakthrough (near_copy)
	AgreedScore    *int64          `json:"agreed_score,omitempty"`
	AttestingStake uint64          `json:"attesting_stake,omitempty"`
	Breakthrough   bool            `json:"breakthrough,omitempty"`
	Rank           uint32          `json:"rank,omitempty"` // 1-based among the round's breakthroughs
	Reward         uint64          `json:"reward,omitempty"`
	Deposit        uint64          `json:"deposit,omitempty"` // held until reveal (returned) or freeze (burned)
	Digest         ledger.HexBytes `json:"digest,omitempty"`  // the model digest a stake majority of the attestations carried
}

// Attestation is one validator's committed (and maybe revealed) scores.
type Attestation struct {
	_            struct{}        `cbor:",toarray"`
	Validator    keys.Address    `json:"validator"`
	Stake        uint64          `json:"stake"` // recorded at commit
	Hash         ledger.HexBytes `json:"hash"`
	CommitHeight uint64          `json:"commit_height"`
	Revealed     bool            `json:"revealed"`
	Scores       []Score         `json:"scores,omitempty"`
	Agreed       bool            `json:"agreed,omitempty"` // every counted score within tolerance
	Reward       uint64          `json:"reward,omitempty"`
}

// RoundResult is what a closed round paid.
type RoundResult struct {
	_               struct{} `cbor:",toarray"`
	Round           uint64   `json:"round"`
	Height          uint64   `json:"height"`
	Pool            uint64   `json:"pool"`  // pool balance before paying
	Fresh           uint64   `json:"fresh"` // pool minus carried shares: split this round
	BuildersPot     uint64   `json:"builders_pot"`
	BuildersPaid    uint64   `json:"builders_paid"`
	DesignerPaid    uint64   `json:"designer_paid"`
	ValidatorsPot   uint64   `json:"validators_pot"`
	ValidatorsPaid  uint64   `json:"validators_paid"`
	Breakthroughs   uint32   `json:"breakthroughs"`
	Agreed          uint32   `json:"agreed"`
	CarryBuilders   uint64   `json:"carry_builders"`   // rolled over to the next round
	CarryValidators uint64   `json:"carry_validators"` // rolled over to the next round
	BestBefore      int64    `json:"best_before"`
	BestAfter       int64    `json:"best_after"`
}
