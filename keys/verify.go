package keys

import (
	"crypto/ed25519"
	"runtime"
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// stdlibOpts makes curve25519-voi accept exactly what crypto/ed25519
// accepts (cofactorless equation, canonical S and R, any A that decodes,
// small-order A and R allowed): the ledger's rule since genesis, so a chain
// replayed with this code reaches the same app hash. voi's cofactored batch
// equation is not used: it accepts signatures with a small-order component
// that crypto/ed25519 rejects, which would split nodes that verify a tx in a
// batch from nodes that verify it alone (see docs/architecture.md,
// "Signature checks"). voi's single check is about 1.4x faster than
// crypto/ed25519's on this machine (BenchmarkVerify).
var stdlibOpts = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// verifyRaw checks sig over msg; lengths are checked first so that voi
// never sees a key or signature of the wrong size.
func verifyRaw(pub PubKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return voi.VerifyWithOptions(voi.PublicKey(pub), msg, sig, stdlibOpts)
}

// SigCheck is one signature to check: Msg is the exact signed bytes
// (SignBytes' output).
type SigCheck struct {
	Pub PubKey
	Msg []byte
	Sig []byte
}

// Check is Verify for one SigCheck, on the calling goroutine (the
// ledger's deterministic code starts none).
func (c SigCheck) Check() bool { return verifyRaw(c.Pub, c.Msg, c.Sig) }

// parallelMin is the batch size below which VerifyAll stays on the
// calling goroutine: starting workers costs more than a few checks.
const parallelMin = 8

// VerifyAll checks every signature, on all cores for a large batch, and
// says which verify: ok[i] is exactly what Verify would say for checks[i].
// It never panics on malformed keys or signatures (they are false).
func VerifyAll(checks []SigCheck) []bool {
	ok := make([]bool, len(checks))
	workers := min(runtime.GOMAXPROCS(0), len(checks)/parallelMin)
	if workers <= 1 {
		for i, c := range checks {
			ok[i] = verifyRaw(c.Pub, c.Msg, c.Sig)
		}
		return ok
	}
	var wg sync.WaitGroup
	per := (len(checks) + workers - 1) / workers
	for lo := 0; lo < len(checks); lo += per {
		hi := min(lo+per, len(checks))
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				ok[i] = verifyRaw(checks[i].Pub, checks[i].Msg, checks[i].Sig)
			}
		}(lo, hi)
	}
	wg.Wait()
	return ok
}
