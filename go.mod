module github.com/inferd/inferd

go 1.26.8

require (
	github.com/btcsuite/btcd/btcutil v1.2.0
	github.com/fxamacker/cbor/v2 v2.10.0
	github.com/spf13/cobra v1.10.2
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)
