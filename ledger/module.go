package ledger

import (
	"encoding/json"

	"github.com/inferd/inferd/keys"
)

// Module owns a set of message types, a key prefix in the state, and work
// at the start and end of every block. bank, staking, gov and emission are
// modules; contest and compute implement the same interface.
//
// Every method runs inside ApplyBlock (or InitGenesis) on one goroutine and
// must be deterministic. Returning an error from Handle fails the message's
// transaction: its writes are dropped, its fee and nonce bump are kept.
// Returning an error from BeginBlock or EndBlock fails the whole block,
// which is a protocol bug; modules report expected outcomes as events.
type Module interface {
	// Name is the module's identifier and its store key prefix ("bank").
	Name() string
	// MsgTypes lists the message types Handle accepts ("bank/send").
	MsgTypes() []string
	// ValidateGenesis checks the module's part of a genesis document.
	ValidateGenesis(g *Genesis) error
	// InitGenesis writes the module's initial state.
	InitGenesis(ctx *Context, g *Genesis) error
	// Handle executes one message sent by sender.
	Handle(ctx *Context, sender keys.Address, msg Msg) error
	// BeginBlock runs before the block's transactions.
	BeginBlock(ctx *Context, b *BlockInfo) error
	// EndBlock runs after them.
	EndBlock(ctx *Context) error
}

// Holder is implemented by modules that hold tokens outside account
// balances (bonded stake, unbonding entries, escrow, module pools). The
// supply invariant sums these.
type Holder interface {
	Holdings(ctx *Context) []Holding
}

// Holding is an amount of tokens held by a module, by category: one of
// "balances", "bonded", "unbonding", "escrowed", "pools".
type Holding struct {
	Category string
	Amount   uint64
}

// ParamModule is implemented by modules with governable parameters.
type ParamModule interface {
	// ParamsJSON returns the current parameters as JSON.
	ParamsJSON(ctx *Context) json.RawMessage
	// SetParam validates and applies a change of one parameter (by its JSON
	// name) to the value given as JSON. It must leave state untouched on error.
	SetParam(ctx *Context, key string, value json.RawMessage) error
}

// SupplyKeeper is implemented by the module that tracks minted and burned
// totals (bank); the supply invariant reads it.
type SupplyKeeper interface {
	Supply(ctx *Context) Supply
}

// Supply is the token supply at a height.
type Supply struct {
	Minted      uint64 `json:"minted"`
	Burned      uint64 `json:"burned"`
	Circulating uint64 `json:"circulating"` // minted - burned
}

// FeePayer charges transaction fees. The bank module implements it: the fee
// leaves the sender's balance and is burned.
type FeePayer interface {
	ChargeFee(ctx *Context, payer keys.Address, fee uint64) error
	MinFee(ctx *Context) uint64
}

// BlockInfo is what begin-block sees of the block being applied.
type BlockInfo struct {
	Height        uint64
	Time          int64
	Proposer      keys.Address // consensus address of the proposer
	LastBlockHash []byte
	LastCommit    []VoteInfo
	Evidence      []Evidence
	// Beacon is this block's beacon value (beacon.go), PrevBeacon the one
	// before it: the source of every random draw, never LastBlockHash
	// (which a proposer can grind).
	Beacon     []byte
	PrevBeacon []byte
}

// VoteInfo says whether a validator (by consensus address) signed the
// previous block's commit.
type VoteInfo struct {
	_         struct{} `cbor:",toarray"`
	Validator keys.Address
	Signed    bool
}

// Evidence is proof of misbehaviour carried in a block. For duplicate votes
// Raw is the consensus package's encoded evidence; the ledger checks it
// through an EvidenceVerifier so that it need not import consensus.
type Evidence struct {
	_         struct{} `cbor:",toarray"`
	Kind      string   // "duplicate_vote"
	Validator keys.Address
	Height    uint64
	Time      int64
	Raw       []byte
}

// EvidenceVerifier checks evidence against the validator's consensus key.
// The node provides one backed by consensus; it must be deterministic.
type EvidenceVerifier interface {
	VerifyEvidence(chainID string, ev Evidence, pub keys.PubKey) error
}
