package contest

import (
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// RecordKey is the store key of contest id's record (DecodeRecord), for
// proofs (docs/light.md).
func RecordKey(id uint64) []byte { return contestKey(id) }

// Record is the stored record of a contest, as a proof shows it.
type Record struct {
	ID              uint64       `json:"id"`
	Spec            Spec         `json:"spec"`
	Status          string       `json:"status"`
	CreatedHeight   uint64       `json:"created_height"`
	StartHeight     uint64       `json:"start_height"`
	RetiredHeight   uint64       `json:"retired_height"`
	Best            int64        `json:"best"`
	BestBuilder     keys.Address `json:"best_builder"`
	BestModel       string       `json:"best_model"`
	CarryBuilders   uint64       `json:"carry_builders"`
	CarryValidators uint64       `json:"carry_validators"`
	DatasetCIDs     []string     `json:"dataset_cids"`
	LastClosed      uint64       `json:"last_closed"`
	Burned          uint64       `json:"burned"`
}

// DecodeRecord decodes a value stored at a RecordKey, refusing any
// encoding but the canonical one.
func DecodeRecord(raw []byte) (Record, error) {
	var r record
	if err := codec.Unmarshal(raw, &r); err != nil {
		return Record{}, fmt.Errorf("contest: contest record: %w", err)
	}
	return Record{ID: r.ID, Spec: r.Spec, Status: r.Status, CreatedHeight: r.CreatedHeight, StartHeight: r.StartHeight,
		RetiredHeight: r.RetiredHeight, Best: r.Best, BestBuilder: r.BestBuilder, BestModel: r.BestModel,
		CarryBuilders: r.CarryBuilders, CarryValidators: r.CarryValidators, DatasetCIDs: r.DatasetCIDs,
		LastClosed: r.LastClosed, Burned: r.Burned}, nil
}
