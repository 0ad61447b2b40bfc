package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Transaction statuses of GET /txs/{hash}/status.
const (
	TxCommitted = "committed" // in a block the node has finished
	TxPending   = "pending"   // in this node's mempool, waiting for a block
	TxDropped   = "dropped"   // admitted by this node, then dropped uncommitted (Reason says why)
	TxUnknown   = "unknown"   // never admitted here, or dropped too long ago to remember
)

// TxStatusResponse is the answer of GET /txs/{hash}/status.
type TxStatusResponse struct {
	Hash   TxHash `json:"hash"`
	Status string `json:"status"`
	Height uint64 `json:"height,omitempty"` // committed: the block
	Reason string `json:"reason,omitempty"` // dropped: why
}

// TxPoolBackend is implemented by a Backend with a mempool: where an
// uncommitted transaction stands (TxPending, TxDropped with a reason, or
// TxUnknown).
type TxPoolBackend interface {
	TxPool(hash [32]byte) (status, reason string)
}

// txPool asks the backend's mempool about hash (TxUnknown without one).
func (s *server) txPool(hash [32]byte) (string, string) {
	if pb, ok := s.b.(TxPoolBackend); ok {
		return pb.TxPool(hash)
	}
	return TxUnknown, ""
}

func (s *server) txStatus(w http.ResponseWriter, r *http.Request) error {
	hash, err := ParseTxHash(r.PathValue("hash"))
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_hash", "%v", err)
	}
	resp := TxStatusResponse{Hash: hash[:]}
	v, err := s.b.Tx(hash)
	switch {
	case err == nil:
		resp.Status, resp.Height = TxCommitted, v.Height
	case errors.Is(err, ErrNotFound):
		resp.Status, resp.Reason = s.txPool(hash)
	default:
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// notCommitted is GET /txs/{hash}'s 404, naming where the tx stands.
func (s *server) notCommitted(hash [32]byte) error {
	switch status, reason := s.txPool(hash); status {
	case TxPending:
		return errorf(http.StatusNotFound, "tx_pending", "transaction %X is not committed yet: it is pending in this node's mempool", hash[:])
	case TxDropped:
		return errorf(http.StatusNotFound, "tx_dropped", "transaction %X was dropped without being committed: %s (sign and submit it again)", hash[:], reason)
	}
	return errorf(http.StatusNotFound, "tx_not_found", "transaction %X is not committed (unknown, or still in a mempool)", hash[:])
}

// TxStatus is GET /txs/{hash}/status.
func (c *Client) TxStatus(ctx context.Context, hash [32]byte) (TxStatusResponse, error) {
	var r TxStatusResponse
	return r, c.get(ctx, fmt.Sprintf("/txs/%X/status", hash[:]), Latest, &r)
}
