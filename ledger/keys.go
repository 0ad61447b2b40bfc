package ledger

import "github.com/inferd/inferd/keys"

// AccountKey is the store key of an account's nonce (8 bytes, big-endian;
// absent until its first transaction), for proofs (docs/light.md).
func AccountKey(a keys.Address) []byte { return accountKey(a) }
