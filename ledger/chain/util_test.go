package chain

import (
	"time"

	"github.com/inferd/inferd/codec"
)

func codecMarshal(v any) []byte { return codec.MustMarshal(v) }

func zeroTime() (t time.Time) { return }
