package compute

import (
	"github.com/inferd/inferd/compute/challenge"
	"github.com/inferd/inferd/compute/jobspec"
	"github.com/inferd/inferd/ledger"
)

// Bounds on parameters, so that one governance vote cannot make a block's
// work unbounded or an epoch never end.
const (
	MaxEpochBlocks    = 1_000_000
	MaxK              = 64 // rows per check; 64 rows of n=8192 is 2 MiB of gossip
	MaxAssignPerBlock = 10_000
	MaxScanPerBlock   = 1_000_000
	MaxCapacity       = 1_000_000 // concurrent jobs of one provider
	// MaxBlockCount bounds every parameter counted in blocks, so that a
	// height plus any of them cannot overflow (ledger.MustAdd panics, which
	// would halt the chain in end-block).
	MaxBlockCount = 10_000_000
)

// Params of the compute module (JSON names are the governance keys).
type Params struct {
	// Providers.
	MinBond         uint64 `json:"min_bond"`
	UnbondingBlocks uint64 `json:"unbonding_blocks"`
	// The contest. Offsets are from an epoch's first height; a change
	// takes effect from the next epoch.
	EpochBlocks          uint64     `json:"epoch_blocks"`
	CommitDeadlineBlocks uint64     `json:"commit_deadline_blocks"`
	AttestDeadlineBlocks uint64     `json:"attest_deadline_blocks"`
	RowsChecked          uint64     `json:"rows_checked"`
	SlashWrongRowPPM     ledger.PPM `json:"slash_wrong_row_ppm"`
	DowntimeJailEpochs   uint64     `json:"downtime_jail_threshold"`
	JailBlocks           uint64     `json:"jail_blocks"`
	ValidatorSharePPM    ledger.PPM `json:"validator_share_ppm"`
	// Jobs.
	MaxInputBytes       uint64     `json:"max_input_bytes"`
	JobDeadlineBlocks   uint64     `json:"job_deadline_blocks"`
	JobMinRunBlocks     uint64     `json:"job_min_run_blocks"`
	MaxAssignPerBlock   uint64     `json:"max_assign_per_block"`
	MaxScanPerBlock     uint64     `json:"max_scan_per_block"`
	ReexecPPM           ledger.PPM `json:"reexec_ppm"`
	ReexecWindowBlocks  uint64     `json:"reexec_window_blocks"`
	JobSlashPPM         ledger.PPM `json:"job_slash_ppm"`
	MaxJobPrice         uint64     `json:"max_job_price"`
	MaxProviderCapacity uint64     `json:"max_provider_capacity"`
	// Cloud: container jobs and leases (docs/cloud.md).
	MaxSpecBytes            uint64     `json:"max_spec_bytes"`            // job spec CBOR cap
	ContainerDeadlineBlocks uint64     `json:"container_deadline_blocks"` // batch: submit to result; service: submit to lease/start
	MaxLeaseBlocks          uint64     `json:"max_lease_blocks"`          // longest service duration
	LeaseProbeBlocks        uint64     `json:"lease_probe_blocks"`        // health window length
	LeaseDownWindows        uint64     `json:"lease_down_windows"`        // unhealthy windows in a row that end a lease
	ServedSharePPM          ledger.PPM `json:"served_share_ppm"`          // of the providers' part of the pool, split by served work
	ServedCapPPM            ledger.PPM `json:"served_cap_ppm"`            // a provider's served reward is at most this fraction of its served fees
}

// DefaultParams are used when genesis has no compute section.
func DefaultParams() Params {
	return Params{
		MinBond:                 10 * ledger.UinfPerINF,
		UnbondingBlocks:         1000,
		EpochBlocks:             100,
		CommitDeadlineBlocks:    40,
		AttestDeadlineBlocks:    90,
		RowsChecked:             16,
		SlashWrongRowPPM:        100_000, // 10%
		DowntimeJailEpochs:      3,
		JailBlocks:              500,
		ValidatorSharePPM:       100_000, // 10% of the compute pool
		MaxInputBytes:           64 << 20,
		JobDeadlineBlocks:       100,
		JobMinRunBlocks:         10,
		MaxAssignPerBlock:       100,
		MaxScanPerBlock:         2000,
		ReexecPPM:               50_000, // 5% of completed jobs
		ReexecWindowBlocks:      50,
		JobSlashPPM:             10_000, // 1%
		MaxJobPrice:             1_000_000 * ledger.UinfPerINF,
		MaxProviderCapacity:     1024,
		MaxSpecBytes:            16 << 10,
		ContainerDeadlineBlocks: 600,
		MaxLeaseBlocks:          1_000_000,
		LeaseProbeBlocks:        10,
		LeaseDownWindows:        3,
		ServedSharePPM:          500_000, // half of the providers' part
		ServedCapPPM:            800_000, // self-dealing gets back at most 80% of what it burns
	}
}

// ParamError names the parameter that is wrong (its JSON name).
type ParamError = ledger.ParamError

var perr = ledger.ParamErr

// Validate checks a parameter set.
func (p Params) Validate() error {
	// 256 is the smallest tier: k rows must be distinct rows of it.
	minN, _ := challenge.TierN(0)
	switch {
	case p.MinBond == 0:
		return perr("min_bond", "must be at least 1 uinf (the bond is what a wrong row costs)")
	case p.UnbondingBlocks > MaxBlockCount:
		return perr("unbonding_blocks", "%d must be at most %d", p.UnbondingBlocks, MaxBlockCount)
	case p.EpochBlocks < 3 || p.EpochBlocks > MaxEpochBlocks:
		return perr("epoch_blocks", "%d must be 3..%d", p.EpochBlocks, MaxEpochBlocks)
	case p.CommitDeadlineBlocks < 1 || p.CommitDeadlineBlocks >= p.AttestDeadlineBlocks:
		return perr("commit_deadline_blocks", "%d must be at least 1 and below attest_deadline_blocks (%d)", p.CommitDeadlineBlocks, p.AttestDeadlineBlocks)
	case p.AttestDeadlineBlocks > p.EpochBlocks:
		return perr("attest_deadline_blocks", "%d must be at most epoch_blocks (%d)", p.AttestDeadlineBlocks, p.EpochBlocks)
	case p.RowsChecked < 1 || p.RowsChecked > MaxK || p.RowsChecked > uint64(minN):
		return perr("rows_checked", "%d must be 1..%d", p.RowsChecked, MaxK)
	case !p.SlashWrongRowPPM.Valid():
		return perr("slash_wrong_row_ppm", "%d is above 1000000 (100%%)", p.SlashWrongRowPPM)
	case p.DowntimeJailEpochs == 0:
		return perr("downtime_jail_threshold", "must be at least 1")
	case p.JailBlocks > MaxBlockCount:
		return perr("jail_blocks", "%d must be at most %d", p.JailBlocks, MaxBlockCount)
	case !p.ValidatorSharePPM.Valid():
		return perr("validator_share_ppm", "%d is above 1000000 (100%%)", p.ValidatorSharePPM)
	case p.MaxInputBytes == 0:
		return perr("max_input_bytes", "must be at least 1")
	case p.JobDeadlineBlocks < 2 || p.JobDeadlineBlocks > MaxEpochBlocks:
		return perr("job_deadline_blocks", "%d must be 2..%d", p.JobDeadlineBlocks, MaxEpochBlocks)
	case p.JobMinRunBlocks < 1 || p.JobMinRunBlocks >= p.JobDeadlineBlocks:
		return perr("job_min_run_blocks", "%d must be at least 1 and below job_deadline_blocks (%d)", p.JobMinRunBlocks, p.JobDeadlineBlocks)
	case p.MaxAssignPerBlock < 1 || p.MaxAssignPerBlock > MaxAssignPerBlock:
		return perr("max_assign_per_block", "%d must be 1..%d", p.MaxAssignPerBlock, MaxAssignPerBlock)
	case p.MaxScanPerBlock < 1 || p.MaxScanPerBlock > MaxScanPerBlock:
		return perr("max_scan_per_block", "%d must be 1..%d", p.MaxScanPerBlock, MaxScanPerBlock)
	case !p.ReexecPPM.Valid():
		return perr("reexec_ppm", "%d is above 1000000 (100%%)", p.ReexecPPM)
	case p.ReexecWindowBlocks < 1 || p.ReexecWindowBlocks > MaxEpochBlocks:
		return perr("reexec_window_blocks", "%d must be 1..%d", p.ReexecWindowBlocks, MaxEpochBlocks)
	case !p.JobSlashPPM.Valid():
		return perr("job_slash_ppm", "%d is above 1000000 (100%%)", p.JobSlashPPM)
	case p.MaxJobPrice == 0:
		return perr("max_job_price", "must be at least 1")
	case p.MaxProviderCapacity < 1 || p.MaxProviderCapacity > MaxCapacity:
		return perr("max_provider_capacity", "%d must be 1..%d", p.MaxProviderCapacity, MaxCapacity)
	case p.MaxSpecBytes < 64 || p.MaxSpecBytes > jobspec.MaxSpecBytes:
		return perr("max_spec_bytes", "%d must be 64..%d", p.MaxSpecBytes, jobspec.MaxSpecBytes)
	case p.ContainerDeadlineBlocks < 2 || p.ContainerDeadlineBlocks > MaxEpochBlocks:
		return perr("container_deadline_blocks", "%d must be 2..%d", p.ContainerDeadlineBlocks, MaxEpochBlocks)
	case p.ContainerDeadlineBlocks <= p.JobMinRunBlocks:
		return perr("container_deadline_blocks", "%d must be above job_min_run_blocks (%d)", p.ContainerDeadlineBlocks, p.JobMinRunBlocks)
	case p.MaxLeaseBlocks < 1 || p.MaxLeaseBlocks > MaxBlockCount:
		return perr("max_lease_blocks", "%d must be 1..%d", p.MaxLeaseBlocks, MaxBlockCount)
	case p.LeaseProbeBlocks < 1 || p.LeaseProbeBlocks > MaxEpochBlocks:
		return perr("lease_probe_blocks", "%d must be 1..%d", p.LeaseProbeBlocks, MaxEpochBlocks)
	case p.LeaseDownWindows < 1:
		return perr("lease_down_windows", "must be at least 1")
	case !p.ServedSharePPM.Valid():
		return perr("served_share_ppm", "%d is above 1000000 (100%%)", p.ServedSharePPM)
	case !p.ServedCapPPM.Valid():
		return perr("served_cap_ppm", "%d is above 1000000 (100%%): served rewards above the fees burned would pay self-dealing", p.ServedCapPPM)
	// An unregistered provider is deleted unbonding_blocks later: it must
	// still be there when the epoch it unregistered in closes and when the
	// re-execution of its last job is tallied, or it escapes their slashing.
	case p.UnbondingBlocks < p.EpochBlocks:
		return perr("unbonding_blocks", "%d must be at least epoch_blocks (%d)", p.UnbondingBlocks, p.EpochBlocks)
	case p.UnbondingBlocks < p.ReexecWindowBlocks+1:
		return perr("unbonding_blocks", "%d must be above reexec_window_blocks (%d)", p.UnbondingBlocks, p.ReexecWindowBlocks)
	}
	return nil
}
