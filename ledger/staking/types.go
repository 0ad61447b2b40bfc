// Package staking is the ledger module for validators, delegation,
// unbonding, redelegation, jailing and slashing (double-sign evidence and
// downtime). Delegations are held as shares of a validator's tokens, so a
// slash reduces every delegator's stake in proportion without touching
// their records.
//
// Store layout under "staking/": params; val/<operator> -> Validator;
// cons/<consensus address> -> operator; del/<delegator><validator> -> shares;
// delv/<validator><delegator> (index); ubd/<completion time><id> ->
// Unbonding (the maturity queue); ubdd/<delegator><id> and
// ubdv/<validator><id> (indexes); sign/<consensus address> -> SigningInfo.
package staking

import (
	"errors"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Name is the module name.
const Name = "staking"

// PowerReduction converts tokens to consensus voting power: 1 INF = 1 power.
const PowerReduction = ledger.UinfPerINF

// Message types.
const (
	MsgTypeCreateValidator = "staking/create_validator"
	MsgTypeEditValidator   = "staking/edit_validator"
	MsgTypeDelegate        = "staking/delegate"
	MsgTypeUndelegate      = "staking/undelegate"
	MsgTypeRedelegate      = "staking/redelegate"
	MsgTypeUnjail          = "staking/unjail"
)

// Sentinel errors of the staking module.
var (
	ErrValidatorExists   = errors.New("validator already exists")
	ErrConsKeyInUse      = errors.New("consensus key already in use")
	ErrUnknownValidator  = errors.New("unknown validator")
	ErrValidatorJailed   = errors.New("validator is jailed")
	ErrNotJailed         = errors.New("validator is not jailed")
	ErrStillJailed       = errors.New("validator jail period has not ended")
	ErrTombstoned        = errors.New("validator is permanently jailed for double signing")
	ErrSelfBondTooLow    = errors.New("self-bond below minimum")
	ErrInvalidCommission = errors.New("invalid commission")
	ErrNoDelegation      = errors.New("no delegation")
	ErrInsufficientStake = errors.New("insufficient delegated stake")
	ErrSameValidator     = errors.New("redelegation to the same validator")
	ErrValidatorWipedOut = errors.New("validator has no tokens left; it cannot take delegations")
)

// Validator is a block producer and the target of delegations.
type Validator struct {
	_             struct{}     `cbor:",toarray"`
	Operator      keys.Address `json:"operator"`
	ConsPubKey    []byte       `json:"cons_pubkey"`
	Moniker       string       `json:"moniker"`
	Commission    ledger.PPM   `json:"commission_ppm"`
	MaxCommission ledger.PPM   `json:"max_commission_ppm"`
	Tokens        uint64       `json:"tokens"` // staked tokens, self-bond included
	Shares        uint64       `json:"shares"` // total delegator shares
	Jailed        bool         `json:"jailed"`
	JailedUntil   int64        `json:"jailed_until"` // unix ns; 0 when not jailed
	Tombstoned    bool         `json:"tombstoned"`
}

// ConsAddress is the validator's consensus address.
func (v *Validator) ConsAddress() keys.Address { return keys.AddressOf(v.ConsPubKey) }

// Power is the validator's consensus voting power (0 when jailed).
func (v *Validator) Power() uint64 {
	if v.Jailed {
		return 0
	}
	return v.Tokens / PowerReduction
}

// TokensFor converts shares of this validator to tokens, rounding down.
func (v *Validator) TokensFor(shares uint64) uint64 {
	if v.Shares == 0 {
		return 0
	}
	t, err := ledger.MulDiv(shares, v.Tokens, v.Shares)
	if err != nil {
		panic(err) // shares <= v.Shares
	}
	return t
}

// Delegation is a delegator's shares in one validator.
type Delegation struct {
	Delegator keys.Address `json:"delegator"`
	Validator keys.Address `json:"validator"`
	Shares    uint64       `json:"shares"`
	Tokens    uint64       `json:"tokens"` // the shares' current worth, filled on read
}

// Unbonding is stake on its way back to a delegator's balance.
type Unbonding struct {
	_              struct{}     `cbor:",toarray"`
	ID             uint64       `json:"id"`
	Delegator      keys.Address `json:"delegator"`
	Validator      keys.Address `json:"validator"`
	Amount         uint64       `json:"amount"`
	CreationHeight uint64       `json:"creation_height"`
	CompletionTime int64        `json:"completion_time"` // unix ns
}

// SigningInfo tracks missed blocks of a validator over a sliding window.
type SigningInfo struct {
	_           struct{} `cbor:",toarray"`
	StartHeight uint64   `json:"start_height"`
	Index       uint64   `json:"index"` // blocks counted since StartHeight
	Missed      uint64   `json:"missed"`
	Bitmap      []byte   `json:"bitmap,omitempty"`
}

// ValidatorPower is a member of the consensus validator set.
type ValidatorPower struct {
	ConsPubKey []byte       `json:"cons_pubkey"`
	Operator   keys.Address `json:"operator"`
	Power      uint64       `json:"power"`
}

// Messages.

// MsgCreateValidator makes the sender the operator of a new validator.
type MsgCreateValidator struct {
	_             struct{} `cbor:",toarray"`
	ConsPubKey    []byte
	Moniker       string
	Commission    ledger.PPM
	MaxCommission ledger.PPM
	SelfBond      uint64
}

// MsgEditValidator changes the moniker (when non-empty) and the commission
// (when SetCommission).
type MsgEditValidator struct {
	_             struct{} `cbor:",toarray"`
	Moniker       string
	SetCommission bool
	Commission    ledger.PPM
}

// MsgDelegate bonds Amount of the sender's balance to Validator.
type MsgDelegate struct {
	_         struct{} `cbor:",toarray"`
	Validator keys.Address
	Amount    uint64
}

// MsgUndelegate starts unbonding Amount tokens from Validator.
type MsgUndelegate struct {
	_         struct{} `cbor:",toarray"`
	Validator keys.Address
	Amount    uint64
}

// MsgRedelegate moves Amount tokens of stake from one validator to another
// at once, without unbonding.
type MsgRedelegate struct {
	_      struct{} `cbor:",toarray"`
	From   keys.Address
	To     keys.Address
	Amount uint64
}

// MsgUnjail brings the sender's jailed validator back once its jail time
// has passed.
type MsgUnjail struct {
	_ struct{} `cbor:",toarray"`
}

// Params of the staking module.
type Params struct {
	UnbondingTimeSeconds   uint64     `json:"unbonding_time_s"`
	MaxValidators          uint64     `json:"max_validators"`
	MinSelfBond            uint64     `json:"min_self_bond"`
	SignedBlocksWindow     uint64     `json:"signed_blocks_window"`
	MinSignedPerWindow     ledger.PPM `json:"min_signed_per_window_ppm"`
	DowntimeJailSeconds    uint64     `json:"downtime_jail_s"`
	SlashFractionDowntime  ledger.PPM `json:"slash_fraction_downtime_ppm"`
	SlashFractionDoubleSig ledger.PPM `json:"slash_fraction_double_sign_ppm"`
	MaxEvidenceAgeBlocks   uint64     `json:"max_evidence_age_blocks"`
}

// DefaultParams are used when genesis has no staking section.
func DefaultParams() Params {
	return Params{
		UnbondingTimeSeconds:   21 * 24 * 3600,
		MaxValidators:          100,
		MinSelfBond:            1 * ledger.UinfPerINF,
		SignedBlocksWindow:     100,
		MinSignedPerWindow:     500_000,
		DowntimeJailSeconds:    600,
		SlashFractionDowntime:  100,
		SlashFractionDoubleSig: 50_000,
		MaxEvidenceAgeBlocks:   100_000,
	}
}
