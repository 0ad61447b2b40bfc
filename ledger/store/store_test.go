package store_test

import (
	"testing"

	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/ledger/store/storetest"
)

func TestMemConformance(t *testing.T) { storetest.Run(t, store.NewMem()) }
