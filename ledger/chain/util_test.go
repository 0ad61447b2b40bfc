package chain

import "github.com/inferd/inferd/codec"

func codecMarshal(v any) []byte { return codec.MustMarshal(v) }
