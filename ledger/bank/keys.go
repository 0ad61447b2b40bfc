package bank

import "github.com/inferd/inferd/keys"

// BalanceKey is the store key of an account's balance (uinf, 8 bytes
// big-endian; absent means zero), for proofs (docs/light.md).
func BalanceKey(a keys.Address) []byte { return balKey(a) }
