package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/store"
)

// Error is the body of every error response, and what Client returns for
// one: Code is the HTTP status, Err a stable machine-readable code
// ("bad_address", "wrong_nonce", ...), Message what was wrong and what to do.
type Error struct {
	Code    int    `json:"code"`
	Err     string `json:"error"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

func errorf(code int, name, format string, a ...any) *Error {
	return &Error{Code: code, Err: name, Message: fmt.Sprintf(format, a...)}
}

// txErrors maps the sentinels a rejected transaction wraps to a status and
// a code, first match wins.
var txErrors = []struct {
	err  error
	code int
	name string
}{
	{ErrNotReady, http.StatusServiceUnavailable, "not_ready"},
	{ErrMempoolFull, http.StatusServiceUnavailable, "mempool_full"},
	{ErrAlreadyKnown, http.StatusConflict, "already_known"},
	{ErrNoncePending, http.StatusConflict, "nonce_pending"},
	{ledger.ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{ledger.ErrMalformedTx, http.StatusBadRequest, "malformed_tx"},
	{ledger.ErrBadSignature, http.StatusUnprocessableEntity, "bad_signature"},
	{ledger.ErrWrongChainID, http.StatusUnprocessableEntity, "wrong_chain_id"},
	{ledger.ErrWrongNonce, http.StatusUnprocessableEntity, "wrong_nonce"},
	{ledger.ErrInsufficientFee, http.StatusUnprocessableEntity, "insufficient_fee"},
	{ledger.ErrInsufficientFunds, http.StatusUnprocessableEntity, "insufficient_funds"},
	{ledger.ErrUnknownMsg, http.StatusUnprocessableEntity, "unknown_msg"},
	{ledger.ErrInvalidMsg, http.StatusUnprocessableEntity, "invalid_msg"},
	{ledger.ErrOverflow, http.StatusUnprocessableEntity, "overflow"},
	{ledger.ErrUnauthorized, http.StatusUnprocessableEntity, "unauthorized"},
}

// submitError turns a SubmitTx error into a response. Anything not
// recognised is still a rejection of this transaction (422).
func submitError(err error) *Error {
	for _, t := range txErrors {
		if errors.Is(err, t.err) {
			return &Error{Code: t.code, Err: t.name, Message: err.Error()}
		}
	}
	return &Error{Code: http.StatusUnprocessableEntity, Err: "tx_rejected", Message: err.Error()}
}

// queryError turns a Backend or ledger query error into a response.
func queryError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrPruned), errors.Is(err, ErrPruned):
		return &Error{Code: http.StatusGone, Err: "height_pruned", Message: err.Error()}
	case errors.Is(err, store.ErrUnknownHeight):
		return &Error{Code: http.StatusNotFound, Err: "height_not_found", Message: err.Error() + " (it is in the future or was pruned)"}
	case errors.Is(err, gov.ErrUnknownProposal):
		return &Error{Code: http.StatusNotFound, Err: "proposal_not_found", Message: err.Error()}
	case errors.Is(err, ErrNotFound), errors.Is(err, ledger.ErrNotFound):
		return &Error{Code: http.StatusNotFound, Err: "not_found", Message: err.Error()}
	case errors.Is(err, ErrNotReady):
		return &Error{Code: http.StatusServiceUnavailable, Err: "not_ready", Message: err.Error() + "; try again shortly"}
	case errors.Is(err, keys.ErrBadAddress):
		return &Error{Code: http.StatusBadRequest, Err: "bad_address", Message: err.Error()}
	}
	return &Error{Code: http.StatusInternalServerError, Err: "internal", Message: err.Error()}
}
