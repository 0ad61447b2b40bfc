package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/inferd/inferd/ledger/store"
)

// A query below the pruned range is a 410 naming the oldest kept height.
func TestPrunedHeightError(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("query: %w", &store.PrunedError{Height: 5, Oldest: 1901}),
		fmt.Errorf("%w: blockstore: height 5 was pruned; blocks are kept from height 1901", ErrPruned),
	} {
		e := queryError(err)
		if e.Code != http.StatusGone || e.Err != "height_pruned" || !strings.Contains(e.Message, "1901") {
			t.Errorf("%v -> %+v, want 410 height_pruned naming 1901", err, e)
		}
	}
}
