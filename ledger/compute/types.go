package compute

import (
	"errors"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Name is the module name, its store prefix and its emission pool.
const Name = "compute"

// Message types.
const (
	MsgTypeRegister   = "compute/register"
	MsgTypeUpdate     = "compute/update"
	MsgTypeUnregister = "compute/unregister"
	MsgTypeUnjail     = "compute/unjail"
	MsgTypeCommitRoot = "compute/commit_root"
	MsgTypeAttest     = "compute/attest"
	MsgTypeJobSubmit  = "job/submit"
	MsgTypeJobResult  = "job/result"
	MsgTypeJobReexec  = "job/reexec"
)

// Attestation verdicts.
const (
	VerdictPass     = "pass"
	VerdictWrongRow = "wrong_row"
	VerdictMissing  = "missing"
)

// Job statuses.
const (
	JobOpen     = "open"     // waiting for a provider
	JobAssigned = "assigned" // a provider must report before the deadline
	JobDone     = "done"     // result reported, fee burned, rest refunded
	JobFailed   = "failed"   // the provider reported the workload cannot run
	JobExpired  = "expired"  // no provider took it before the deadline: all refunded
	JobMissed   = "missed"   // assigned, no result by the deadline: all refunded
)

// Re-execution states of a completed job.
const (
	ReexecNone         = ""
	ReexecPending      = "pending"
	ReexecMatch        = "match"
	ReexecMismatch     = "mismatch"
	ReexecInconclusive = "inconclusive"
)

// Epoch outcomes of a provider's challenge.
const (
	OutcomePass         = "pass"
	OutcomeWrongRow     = "wrong_row"
	OutcomeNoCommit     = "no_commit"
	OutcomeMissing      = "missing"
	OutcomeInconclusive = "inconclusive"
)

// Sentinel errors. Handlers wrap them with what was wrong and what to do.
var (
	ErrProviderExists   = errors.New("provider already registered")
	ErrUnknownProvider  = errors.New("not a registered provider")
	ErrProviderJailed   = errors.New("provider is jailed")
	ErrNotJailed        = errors.New("provider is not jailed")
	ErrStillJailed      = errors.New("provider's jail period has not ended")
	ErrUnbonding        = errors.New("provider is unbonding")
	ErrBondTooLow       = errors.New("bond below min_bond")
	ErrBadTier          = errors.New("unknown capacity tier")
	ErrBadCapacity      = errors.New("invalid job capacity")
	ErrBusy             = errors.New("provider has assigned jobs")
	ErrNoChallenge      = errors.New("no challenge for this provider in this epoch")
	ErrWrongEpoch       = errors.New("not the current epoch")
	ErrDeadlinePassed   = errors.New("deadline passed")
	ErrTooEarly         = errors.New("window not open yet")
	ErrAlreadyCommitted = errors.New("root already committed")
	ErrNotCommitted     = errors.New("provider committed no root")
	ErrAlreadyAttested  = errors.New("already attested")
	ErrSelfAttest       = errors.New("a validator cannot attest on its own account's work")
	ErrNotValidator     = errors.New("sender is not the operator of a bonded validator")
	ErrBadVerdict       = errors.New("unknown verdict")
	ErrBadCID           = errors.New("invalid CID")
	ErrInputTooLarge    = errors.New("input larger than max_input_bytes")
	ErrBadPrice         = errors.New("invalid price")
	ErrUnknownJob       = errors.New("unknown job")
	ErrNotAssignee      = errors.New("job is not assigned to the sender")
	ErrJobClosed        = errors.New("job is not assigned (already finished or expired)")
	ErrNoReexec         = errors.New("job is not open for re-execution")
)

// Messages. Every message is a CBOR array (toarray) of its fields in order.

// MsgRegister makes the sender a provider. Bond moves from the sender's
// balance into the module. Tier picks the challenge size
// (challenge.TierN: 0 = 256 ... 5 = 8192); Capacity is how many jobs the
// provider runs at once; Price is what it charges per job, in uinf.
type MsgRegister struct {
	_        struct{} `cbor:",toarray"`
	Price    uint64
	Tier     uint8
	Capacity uint32
	Bond     uint64
}

// MsgUpdate replaces price, tier and capacity (a tier change applies from
// the next epoch) and adds AddBond (may be 0) to the bond.
type MsgUpdate struct {
	_        struct{} `cbor:",toarray"`
	Price    uint64
	Tier     uint8
	Capacity uint32
	AddBond  uint64
}

// MsgUnregister starts unbonding the sender's whole bond; it returns to
// the balance unbonding_blocks later.
type MsgUnregister struct {
	_ struct{} `cbor:",toarray"`
}

// MsgUnjail brings a jailed provider back once jail_blocks have passed.
type MsgUnjail struct {
	_ struct{} `cbor:",toarray"`
}

// MsgCommitRoot commits the Merkle root over the rows of the sender's
// challenge product for Epoch, before the commit deadline.
type MsgCommitRoot struct {
	_     struct{} `cbor:",toarray"`
	Epoch uint64
	Root  []byte // 32 bytes
}

// MsgAttest is a bonded validator's verdict on a provider's spot check.
type MsgAttest struct {
	_        struct{} `cbor:",toarray"`
	Provider keys.Address
	Epoch    uint64
	Verdict  string // VerdictPass, VerdictWrongRow or VerdictMissing
}

// MsgJobSubmit asks for a job: run Workload (a Wasm module, by CID) on
// Input (by CID, InputSize bytes); MaxPrice is escrowed from the sender.
type MsgJobSubmit struct {
	_         struct{} `cbor:",toarray"`
	Workload  string
	Input     string
	InputSize uint64
	MaxPrice  uint64
}

// MsgJobResult reports an assigned job: Result is the CID of the output,
// or, when the workload cannot run (not a valid module, over the caps),
// Result is empty and Error says why.
type MsgJobResult struct {
	_      struct{} `cbor:",toarray"`
	Job    uint64
	Result string
	Error  string
}

// MsgJobReexec is a bonded validator's re-execution of a job marked for
// it: the result CID it got (or Failed when the workload failed for it too).
type MsgJobReexec struct {
	_      struct{} `cbor:",toarray"`
	Job    uint64
	Result string
	Failed bool
}

// MaxErrorBytes bounds the error text of a failed job.
const MaxErrorBytes = 256

// Provider is a registered provider.
type Provider struct {
	_           struct{}     `cbor:",toarray"`
	Address     keys.Address `json:"address"`
	Price       uint64       `json:"price"`
	Tier        uint8        `json:"tier"`
	Capacity    uint32       `json:"capacity"`
	ActiveJobs  uint32       `json:"active_jobs"`
	Bond        uint64       `json:"bond"`
	VerifiedOps uint64       `json:"verified_ops"` // lifetime 2n^3 credits
	Uptime      uint64       `json:"uptime"`       // epochs passed
	Downtime    uint64       `json:"downtime"`     // epochs missed (lifetime)
	Missed      uint64       `json:"missed"`       // consecutive misses since the last pass or jail
	Jailed      bool         `json:"jailed"`
	JailedUntil uint64       `json:"jailed_until"` // height from which unjail is allowed
	UnbondAt    uint64       `json:"unbond_at"`    // >0: unbonding, bond returns at this height
	Registered  uint64       `json:"registered_height"`
	LastEpoch   uint64       `json:"last_epoch"` // last epoch with an outcome
	LastOutcome string       `json:"last_outcome"`
	EpochOps    uint64       `json:"last_epoch_ops"`
	Earned      uint64       `json:"earned"` // lifetime emission paid
	// Cloud (docs/cloud.md).
	Resources    Resources `json:"resources"`     // what it offers container jobs (compute/set_resources)
	Used         Usage     `json:"used"`          // held by its running container jobs and leases
	ServedFees   uint64    `json:"served_fees"`   // lifetime fees burned for its served work
	ServedEarned uint64    `json:"served_earned"` // lifetime emission paid for served work
}

// Unbonding reports whether the provider is leaving.
func (p *Provider) Unbonding() bool { return p.UnbondAt > 0 }

// Live reports whether the provider gets challenges and jobs.
func (p *Provider) Live() bool { return !p.Jailed && !p.Unbonding() }

// Job is a submitted job.
type Job struct {
	_         struct{}     `cbor:",toarray"`
	ID        uint64       `json:"id"`
	User      keys.Address `json:"user"`
	Workload  string       `json:"workload"`
	Input     string       `json:"input"`
	InputSize uint64       `json:"input_size"`
	MaxPrice  uint64       `json:"max_price"`
	Status    string       `json:"status"`
	Submitted uint64       `json:"submitted_height"`
	Deadline  uint64       `json:"deadline_height"` // escrow ends in this height's end-block at the latest
	Provider  keys.Address `json:"provider"`
	Assigned  uint64       `json:"assigned_height"`
	Price     uint64       `json:"price"`    // the provider's price when assigned (<= MaxPrice)
	Charged   uint64       `json:"charged"`  // burned
	Refunded  uint64       `json:"refunded"` // returned to the user
	Result    string       `json:"result,omitempty"`
	Error     string       `json:"error,omitempty"`
	Finished  uint64       `json:"finished_height"`
	Reexec    string       `json:"reexec,omitempty"`
	ReexecEnd uint64       `json:"reexec_end_height,omitempty"`
	// Container jobs (Kind batch or service; docs/cloud.md). Workload is
	// the image (CID or registry ref) and Input is empty for them.
	Kind        string          `json:"kind,omitempty"`
	Spec        ledger.HexBytes `json:"spec,omitempty"` // canonical CBOR of the jobspec.Spec
	MilliCPU    uint64          `json:"millicpu,omitempty"`
	MemoryBytes uint64          `json:"memory_bytes,omitempty"`
	GPUAlloc    []uint32        `json:"gpu_alloc,omitempty"` // GPUs held, per provider GPUGroup
	Outputs     string          `json:"outputs,omitempty"`   // CID of the outputs directory
	Logs        string          `json:"logs,omitempty"`      // CID of the logs
	ExitCode    int64           `json:"exit_code,omitempty"`
	Failure     string          `json:"failure,omitempty"` // a Fail* class
	Lease       *Lease          `json:"lease,omitempty"`   // service jobs
}

// Epoch is the contest epoch in progress, with the schedule fixed at its
// start (parameter changes apply from the next epoch).
type Epoch struct {
	_              struct{}        `cbor:",toarray"`
	Number         uint64          `json:"number"`
	Start          uint64          `json:"start_height"`
	CommitDeadline uint64          `json:"commit_deadline"` // first height at which commits are refused; its block hash picks the rows
	AttestDeadline uint64          `json:"attest_deadline"` // first height at which attestations are refused
	End            uint64          `json:"end_height"`      // closed in this height's end-block
	K              uint64          `json:"rows_checked"`
	Seed           ledger.HexBytes `json:"block_seed"` // 32 bytes: the start block's hash
	CheckSeed      ledger.HexBytes `json:"check_seed"` // 32 bytes once the commit deadline is reached
	Providers      uint64          `json:"providers"`  // challenges issued
}

// Round is one provider's challenge in one epoch.
type Round struct {
	_            struct{} `cbor:",toarray"`
	Tier         uint8
	N            uint32
	Root         []byte // nil until committed
	CommitHeight uint64
}
