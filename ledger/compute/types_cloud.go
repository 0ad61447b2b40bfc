package compute

import (
	"errors"

	"github.com/inferd/inferd/keys"
)

// Message types of the inference cloud (container jobs and leases,
// docs/cloud.md). Names are stable: the node side builds against them.
const (
	// MsgTypeSetResources publishes what a provider's machine offers to
	// container jobs. Sent after compute/register (in the same transaction
	// or later) and again whenever the machine changes; a provider that
	// never sends it is Wasm-only, as before.
	MsgTypeSetResources = "compute/set_resources"
	// MsgTypeJobSubmitContainer submits a container job (batch or service)
	// from a job spec's canonical CBOR (jobspec.Encode).
	MsgTypeJobSubmitContainer = "job/submit_container"
	// MsgTypeJobContainerResult reports a container batch job.
	MsgTypeJobContainerResult = "job/container_result"
	// MsgTypeLeaseStart is the provider's confirmation that a service
	// job's container runs: the lease starts at this height.
	MsgTypeLeaseStart = "lease/start"
	// MsgTypeLeaseClose is the owner ending a lease early.
	MsgTypeLeaseClose = "lease/close"
	// MsgTypeLeaseAllow replaces the keys (besides the owner) allowed to
	// connect to a lease.
	MsgTypeLeaseAllow = "lease/allow"
	// MsgTypeLeaseAttest is a bonded validator's health probe verdict on
	// one window of a running lease.
	MsgTypeLeaseAttest = "lease/attest"
)

// Job kinds. A Wasm job (job/submit) has Kind "".
const (
	KindWasm    = ""
	KindBatch   = "batch"   // a container that runs to exit (jobspec.KindBatch)
	KindService = "service" // a container that serves a port: a lease (jobspec.KindService)
)

// JobRunning is the status of a service job whose lease has started.
const JobRunning = "running"

// Failure classes of a container batch job (MsgJobContainerResult.Failure).
// Who pays: every class but FailProviderError is the user's doing (or
// success) and is charged the provider's price, burned; FailProviderError
// refunds the user in full. No class slashes the provider.
const (
	FailNone          = "none"           // exited 0, outputs collected
	FailImageInvalid  = "image_invalid"  // the image CID/ref is not a runnable OCI image
	FailExitNonzero   = "exit_nonzero"   // the container exited with a non-zero code
	FailOOM           = "oom"            // killed at the memory limit
	FailTimeLimit     = "time_limit"     // killed at the spec's time limit
	FailOutputLimit   = "output_limit"   // outputs over the provider's cap
	FailProviderError = "provider_error" // the provider's side failed (runtime, disk, fetch): full refund
)

// Lease end reasons (Lease.EndReason).
const (
	LeaseEndDuration     = "duration"      // ran its duration_blocks
	LeaseEndClosed       = "closed"        // the owner sent lease/close
	LeaseEndProviderGone = "provider_gone" // unregistered or jailed
	LeaseEndUnhealthy    = "unhealthy"     // lease_down_windows unhealthy windows in a row
)

// Health of one lease window (Lease.LastHealth).
const (
	HealthOK         = "healthy"    // ok stake > half of attesting stake: charged, earns served credit
	HealthBad        = "unhealthy"  // attested, not ok: free to the user, earns nothing
	HealthUnattested = "unattested" // nobody attested: charged, earns nothing
)

// Caps of the cloud messages.
const (
	MaxGPUGroups     = 8  // kinds of GPU one provider lists
	MaxGPUsPerGroup  = 64 // devices of one kind
	MaxGPUModelBytes = 64
	MaxLeaseAllowed  = 16  // keys a lease allows besides its owner
	MaxPeerAddrs     = 4   // multiaddrs a provider publishes for its node
	MaxPeerAddrBytes = 256 // one multiaddr, as text
	MaxPeerIDBytes   = 128 // a peer ID, as text
)

// Sentinel errors of the cloud messages.
var (
	ErrBadResources   = errors.New("invalid provider resources")
	ErrBadSpec        = errors.New("invalid job spec")
	ErrSpecTooLarge   = errors.New("job spec larger than max_spec_bytes")
	ErrBadFailure     = errors.New("unknown failure class")
	ErrNotContainer   = errors.New("not a container batch job")
	ErrNotWasm        = errors.New("not a Wasm job")
	ErrNotLease       = errors.New("not a service job (lease)")
	ErrLeaseState     = errors.New("lease is not in a state that allows this")
	ErrNotOwner       = errors.New("sender does not own the lease")
	ErrWrongWindow    = errors.New("not the lease's current window")
	ErrTooManyAllowed = errors.New("too many allowed keys")
)

// GPUGroup is one kind of GPU a provider has: Count devices of Model
// (as nvidia-smi prints it), each with VRAMBytes.
type GPUGroup struct {
	_         struct{} `cbor:",toarray"`
	Model     string   `json:"model"`
	VRAMBytes uint64   `json:"vram_bytes"`
	Count     uint32   `json:"count"`
}

// Resources is what a provider offers to container jobs. The zero value
// (Containers false) is a Wasm-only provider.
type Resources struct {
	_             struct{}   `cbor:",toarray"`
	Containers    bool       `json:"containers"`     // runs container jobs at all
	MilliCPU      uint64     `json:"millicpu"`       // cores x 1000 offered
	MemoryBytes   uint64     `json:"memory_bytes"`   // memory offered
	GPUs          []GPUGroup `json:"gpus"`           // by kind
	AllowNetwork  bool       `json:"allow_network"`  // batch/service jobs may ask for network
	AllowRegistry bool       `json:"allow_registry"` // images by registry ref (not only by CID)
	LeasePrice    uint64     `json:"lease_price"`    // uinf per lease block; 0: takes no services
	// PeerID and Addrs say where the provider's node is on libp2p, so
	// lease clients dial it instead of asking every connected peer.
	// Empty: not published (clients fall back to asking around).
	PeerID string   `json:"peer_id,omitempty"` // libp2p peer ID, as peer.ID.String prints it
	Addrs  []string `json:"addrs,omitempty"`   // multiaddrs of the node, without /p2p
}

// Usage is what a provider's running container jobs and leases hold.
// GPUs is per GPUGroup, by index.
type Usage struct {
	_           struct{} `cbor:",toarray"`
	MilliCPU    uint64   `json:"millicpu"`
	MemoryBytes uint64   `json:"memory_bytes"`
	GPUs        []uint32 `json:"gpus"`
}

// MsgSetResources replaces the sender's (a registered provider's)
// Resources. Changing the GPU list is refused while any GPU is in use.
type MsgSetResources struct {
	_         struct{} `cbor:",toarray"`
	Resources Resources
}

// MsgJobSubmitContainer submits a container job. Spec is the canonical
// CBOR of a valid jobspec.Spec (at most max_spec_bytes). A batch job
// escrows the spec's max_price; a service escrows price_per_block x
// duration_blocks. Allowed lists keys (besides the sender) that may
// connect to a service; it must be empty for a batch job.
type MsgJobSubmitContainer struct {
	_       struct{} `cbor:",toarray"`
	Spec    []byte
	Allowed []keys.Address
}

// MsgJobContainerResult reports an assigned container batch job. Outputs
// is the CID of a UnixFS directory of the collected outputs (required
// when Failure is FailNone, optional otherwise); Logs the CID of the
// logs (optional); ExitCode the container's exit code (-1 when it never
// ran); Failure one of the Fail* classes.
type MsgJobContainerResult struct {
	_        struct{} `cbor:",toarray"`
	Job      uint64
	Outputs  string
	Logs     string
	ExitCode int64
	Failure  string
}

// MsgLeaseStart is the assigned provider confirming that the service
// runs; Lease is the job id.
type MsgLeaseStart struct {
	_     struct{} `cbor:",toarray"`
	Lease uint64
}

// MsgLeaseClose ends the sender's lease now; the rest of the escrow is
// refunded. A pending lease (not started) is refunded in full.
type MsgLeaseClose struct {
	_     struct{} `cbor:",toarray"`
	Lease uint64
}

// MsgLeaseAllow replaces the keys allowed to connect to the sender's
// lease (the owner is always allowed).
type MsgLeaseAllow struct {
	_       struct{} `cbor:",toarray"`
	Lease   uint64
	Allowed []keys.Address
}

// MsgLeaseAttest is a bonded validator's verdict on lease window Window
// (LeaseInfo.Window): OK when the health path answered through the
// lease protocol. Accepted only during that window.
type MsgLeaseAttest struct {
	_      struct{} `cbor:",toarray"`
	Lease  uint64
	Window uint64
	OK     bool
}

// Lease is the lease part of a service job. Blocks run from Started to
// End inclusive; window w covers heights Started+w*P .. Started+(w+1)*P-1
// (P = lease_probe_blocks at the start, kept in ProbeBlocks), the last
// one clipped at End.
type Lease struct {
	_              struct{}       `cbor:",toarray"`
	PricePerBlock  uint64         `json:"price_per_block"`     // the provider's lease price, charged per healthy block
	MaxPerBlock    uint64         `json:"max_price_per_block"` // the user's (spec's) price per block, escrowed
	DurationBlocks uint64         `json:"duration_blocks"`
	Allowed        []keys.Address `json:"allowed"` // besides the owner
	ProbeBlocks    uint64         `json:"probe_blocks"`
	Started        uint64         `json:"started_height"` // 0 until lease/start
	End            uint64         `json:"end_height"`     // last height of the lease
	Window         uint64         `json:"window"`         // next window to decide
	ChargedBlocks  uint64         `json:"charged_blocks"`
	FreeBlocks     uint64         `json:"free_blocks"`    // unhealthy: not charged
	HealthyBlocks  uint64         `json:"healthy_blocks"` // charged and credited to the provider
	DownWindows    uint64         `json:"down_windows"`   // unhealthy windows in a row
	LastHealth     string         `json:"last_health,omitempty"`
	Ended          uint64         `json:"ended_height,omitempty"`
	EndReason      string         `json:"end_reason,omitempty"`
}

// LeaseInfo is a lease as queries show it: its job (status, provider,
// price, timings, money) and the window to attest now.
type LeaseInfo struct {
	Job
	Window      uint64 `json:"current_window"`       // window at the query height
	WindowStart uint64 `json:"current_window_start"` // its first height
	WindowEnd   uint64 `json:"current_window_end"`   // its last height
}
