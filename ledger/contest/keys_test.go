package contest

import (
	"reflect"
	"testing"

	"github.com/inferd/inferd/ledger"
)

// The record a proof carries decodes to what the module reads.
func TestDecodeRecordOfAProvenContest(t *testing.T) {
	h := newHarness(t, selfBonds)
	id, _ := h.create(testSpec(h.acc[4].addr))
	pv, err := h.st.Prove(h.height, RecordKey(id))
	if err != nil {
		t.Fatal(err)
	}
	if !pv.Exists {
		t.Fatalf("contest %d: no record at %q", id, RecordKey(id))
	}
	got, err := DecodeRecord(pv.Value)
	if err != nil {
		t.Fatal(err)
	}
	var want record
	h.view(func(ctx *ledger.Context) { want, _ = h.c.getRecord(ctx, id) })
	if got.ID != id || got.Status != StatusLive || !reflect.DeepEqual(got.Spec, want.Spec) || got.StartHeight != want.StartHeight {
		t.Fatalf("decoded %+v, stored %+v", got, want)
	}
	if _, err := DecodeRecord(append(pv.Value, 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
}
