// Package light verifies what a node says without trusting the node: a
// value (or the absence of a key) in the ledger's state at a height,
// against the app hash of that height; the header carrying that app hash,
// against a commit signed by more than 2/3 of the power of the header's
// validator set; and that set itself, by skipping verification from a set
// the client already trusts (more than 1/3 of the trusted power signed,
// within the trusting period), as CometBFT's light client does.
//
// The chain of trust (docs/light.md): the state after block H is committed
// by the app hash in the header of block H+1; that header is signed by the
// commit for H+1 (the last commit of block H+2, or the node's seen commit
// while H+1 is the latest block); the commit is checked against the
// validator set of H+1, which the header names by hash.
//
// Every error wraps one of the package's exported sentinels. The package
// reads no clock (Options.Now) and holds no state; Client is not safe for
// concurrent use, everything else is.
package light
