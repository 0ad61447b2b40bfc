package ledger

import "errors"

// Sentinel errors of transaction processing. Modules wrap them with
// fmt.Errorf("%w: ...") to add detail; callers test with errors.Is.
var (
	ErrMalformedTx       = errors.New("malformed transaction")
	ErrBadSignature      = errors.New("bad signature")
	ErrWrongChainID      = errors.New("wrong chain id")
	ErrWrongNonce        = errors.New("wrong nonce")
	ErrInsufficientFee   = errors.New("fee below minimum")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrOverflow          = errors.New("amount overflow")
	ErrUnknownMsg        = errors.New("unknown message type")
	ErrInvalidMsg        = errors.New("invalid message")
	ErrUnauthorized      = errors.New("unauthorized")
	ErrNotFound          = errors.New("not found")
	ErrTooLarge          = errors.New("too large")
	ErrBadBlock          = errors.New("bad block")
)
