package light

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/blocks"
)

// Errors. Every error returned by this package wraps exactly one of these,
// so a caller can tell what failed with errors.Is.
var (
	// ErrMalformed: a proof, header, commit or validator set is not well
	// formed (wrong lengths, counts, order).
	ErrMalformed = errors.New("light: malformed input")
	// ErrKeyMismatch: the proof is for another key.
	ErrKeyMismatch = errors.New("light: proof is for a different key")
	// ErrValueMismatch: the value (or its absence) is not what the proof
	// proves: a flipped byte in the value lands here.
	ErrValueMismatch = errors.New("light: value does not match the proof")
	// ErrProofMismatch: the proof does not lead to the app hash: a flipped
	// byte in a leaf or a sibling lands here.
	ErrProofMismatch = errors.New("light: proof does not match the app hash")
	// ErrHeaderMismatch: the commit is not for this header (another block,
	// height or chain), or the header is not the one the proof needs.
	ErrHeaderMismatch = errors.New("light: commit and header do not match")
	// ErrBadSignature: a signature of the commit does not verify.
	ErrBadSignature = errors.New("light: invalid commit signature")
	// ErrValidatorSetMismatch: the validator set is not the one the header
	// names, or a signer is not in it: a commit from a different set.
	ErrValidatorSetMismatch = errors.New("light: validator set does not match the header")
	// ErrInsufficientPower: the signers hold 2/3 or less of the power of
	// the header's own validator set.
	ErrInsufficientPower = errors.New("light: commit signed by 2/3 of the power or less")
	// ErrInsufficientTrust: members of the trusted set hold 1/3 or less of
	// its power among the signers: too much changed to skip (bisect).
	ErrInsufficientTrust = errors.New("light: commit signed by 1/3 of the trusted set's power or less")
	// ErrTrustExpired: the trusted header is older than the trusting period.
	ErrTrustExpired = errors.New("light: trusted state is older than the trusting period")
	// ErrNotAfterTrusted: the header is not later than the trusted one, or
	// is from the future.
	ErrNotAfterTrusted = errors.New("light: header is not after the trusted header")
)

// VerifyValue checks that p proves key has value (exists) or is absent
// (!exists, value ignored) in the state committed by appHash.
//
// The proof's bucket is recomputed from its leaves (which must be in
// strictly ascending key-hash order and all belong to key's bucket), the
// root from the 16 siblings; the root must equal appHash.
func VerifyValue(appHash []byte, key, value []byte, exists bool, p *ledger.Proof) error {
	if p == nil {
		return fmt.Errorf("%w: no proof", ErrMalformed)
	}
	if len(appHash) != 32 {
		return fmt.Errorf("%w: app hash is %d bytes, want 32", ErrMalformed, len(appHash))
	}
	if !bytes.Equal(p.Key, key) {
		return fmt.Errorf("%w: proof of %x, asked for %x", ErrKeyMismatch, []byte(p.Key), key)
	}
	if len(p.Siblings) != BucketBits {
		return fmt.Errorf("%w: %d sibling hashes, want %d", ErrMalformed, len(p.Siblings), BucketBits)
	}
	kh := sha256.Sum256(key)
	bucket := int(kh[0])<<8 | int(kh[1])
	bh := sha256.New()
	bh.Write([]byte{0x01})
	found := false
	for i, l := range p.Leaves {
		if len(l.KeyHash) != 32 || len(l.ValueHash) != 32 {
			return fmt.Errorf("%w: leaf %d: hashes of %d and %d bytes, want 32", ErrMalformed, i, len(l.KeyHash), len(l.ValueHash))
		}
		if int(l.KeyHash[0])<<8|int(l.KeyHash[1]) != bucket {
			return fmt.Errorf("%w: leaf %d is not in the key's bucket %d", ErrMalformed, i, bucket)
		}
		if i > 0 && bytes.Compare(p.Leaves[i-1].KeyHash, l.KeyHash) >= 0 {
			return fmt.Errorf("%w: leaves not in strictly ascending key-hash order at %d", ErrMalformed, i)
		}
		if bytes.Equal(l.KeyHash, kh[:]) {
			found = true
			if !exists {
				return fmt.Errorf("%w: the key is claimed absent, the proof holds it", ErrValueMismatch)
			}
			if vh := sha256.Sum256(value); !bytes.Equal(vh[:], l.ValueHash) {
				return fmt.Errorf("%w: value hashes to %x, the proven leaf holds %x", ErrValueMismatch, vh[:6], []byte(l.ValueHash[:6]))
			}
		}
		var buf [65]byte
		copy(buf[1:], l.KeyHash)
		copy(buf[33:], l.ValueHash)
		lh := sha256.Sum256(buf[:])
		bh.Write(lh[:])
	}
	if exists && !found {
		return fmt.Errorf("%w: the key is claimed present, the proof does not hold it", ErrValueMismatch)
	}
	var h [32]byte
	if len(p.Leaves) > 0 {
		bh.Sum(h[:0])
	}
	n := 1<<BucketBits + bucket
	for d, s := range p.Siblings {
		if len(s) != 32 {
			return fmt.Errorf("%w: sibling %d is %d bytes, want 32", ErrMalformed, d, len(s))
		}
		var buf [65]byte
		buf[0] = 0x02
		if n%2 == 0 {
			copy(buf[1:], h[:])
			copy(buf[33:], s)
		} else {
			copy(buf[1:], s)
			copy(buf[33:], h[:])
		}
		h = sha256.Sum256(buf[:])
		n /= 2
	}
	if !bytes.Equal(h[:], appHash) {
		return fmt.Errorf("%w: proof gives root %x, app hash is %x", ErrProofMismatch, h[:6], appHash[:6])
	}
	return nil
}

// BucketBits is the depth of the bucket tree (ledger/apphash.go).
const BucketBits = 16

// Power is who signed a commit: the signers' power and the set's total.
type Power struct {
	Signed int64
	Total  int64
}

// VerifyCommit checks that c certifies header h and was signed by more
// than 2/3 of the power of vals, which must be the set h names
// (h.ValidatorsHash): every signer in vals, once, every signature valid
// for h.ChainID. It returns the signed and total power.
func VerifyCommit(h *blocks.Header, c *blocks.Commit, vals *consensus.ValidatorSet) (Power, error) {
	if h == nil || c == nil || vals == nil {
		return Power{}, fmt.Errorf("%w: header, commit and validator set are all required", ErrMalformed)
	}
	if err := c.ValidateBasic(); err != nil {
		return Power{}, fmt.Errorf("%w: commit: %v", ErrMalformed, err)
	}
	if c.Height != h.Height || c.BlockID != h.Hash() {
		return Power{}, fmt.Errorf("%w: commit for height %d block %s, header is height %d block %s", ErrHeaderMismatch, c.Height, c.BlockID, h.Height, h.Hash())
	}
	if got := vals.Hash(); got != h.ValidatorsHash {
		return Power{}, fmt.Errorf("%w: set hash %x, header names %x", ErrValidatorSetMismatch, got[:6], h.ValidatorsHash[:6])
	}
	var signed int64
	for i := range c.Signatures {
		idx, ok := vals.Index(c.Signatures[i].Validator)
		if !ok {
			return Power{}, fmt.Errorf("%w: signer %s is not in the set", ErrValidatorSetMismatch, c.Signatures[i].Validator)
		}
		v := vals.Validator(idx)
		if err := consensus.VerifySignature(h.ChainID, v.PubKey, c.Vote(i)); err != nil {
			return Power{}, fmt.Errorf("%w: precommit of %s at height %d: %v", ErrBadSignature, v.Address, c.Height, err)
		}
		signed += v.Power // signers are distinct (ValidateBasic) and total <= MaxTotalPower
	}
	p := Power{Signed: signed, Total: vals.TotalPower()}
	if 3*p.Signed <= 2*p.Total {
		return p, fmt.Errorf("%w: signed %d of %d", ErrInsufficientPower, p.Signed, p.Total)
	}
	return p, nil
}

// TrustedState is what a light client trusts: a validator set and the
// height and time of the header it comes from.
type TrustedState struct {
	ChainID    string
	Height     uint64
	Time       time.Time
	Validators *consensus.ValidatorSet
}

// Options tune skipping verification.
type Options struct {
	// TrustingPeriod is how long a trusted set stays trusted after its
	// header's time: less than the unbonding period, so that a set that
	// signs a fork can still be slashed. Default (zero): DefaultTrustingPeriod.
	TrustingPeriod time.Duration
	// MaxClockDrift is how far in the future a header may be. Default
	// (zero): DefaultMaxClockDrift.
	MaxClockDrift time.Duration
	// Now is the current time (required: the package reads no clock).
	Now time.Time
}

// Defaults: two thirds of the default 21-day unbonding time, as CometBFT
// recommends, and ten seconds of drift.
const (
	DefaultTrustingPeriod = 14 * 24 * time.Hour
	DefaultMaxClockDrift  = 10 * time.Second
)

func (o Options) withDefaults() Options {
	if o.TrustingPeriod == 0 {
		o.TrustingPeriod = DefaultTrustingPeriod
	}
	if o.MaxClockDrift == 0 {
		o.MaxClockDrift = DefaultMaxClockDrift
	}
	return o
}

// VerifySkipping verifies header h of a later height than the trusted
// state, as CometBFT's light client does (VerifyNonAdjacent): the trusted
// state is within the trusting period of o.Now; h is later and not from the
// future; c certifies h with more than 2/3 of vals (h's own set); and
// members of the trusted set hold more than 1/3 of the trusted set's power
// among c's signers, so that at least one honest validator the client
// trusts vouches for h. At the trusted height itself, h must be signed by
// the trusted set. It returns the power of h's own set that signed.
func VerifySkipping(tr TrustedState, h *blocks.Header, c *blocks.Commit, vals *consensus.ValidatorSet, o Options) (Power, error) {
	o = o.withDefaults()
	if tr.Validators == nil || h == nil {
		return Power{}, fmt.Errorf("%w: no trusted validator set or header", ErrMalformed)
	}
	if o.Now.IsZero() {
		return Power{}, fmt.Errorf("%w: Options.Now is required", ErrMalformed)
	}
	if exp := tr.Time.Add(o.TrustingPeriod); !o.Now.Before(exp) {
		return Power{}, fmt.Errorf("%w: trusted header of height %d is from %s, trust ended %s", ErrTrustExpired, tr.Height, tr.Time.UTC().Format(time.RFC3339), exp.UTC().Format(time.RFC3339))
	}
	if h.ChainID != tr.ChainID {
		return Power{}, fmt.Errorf("%w: header of chain %q, trusted chain %q", ErrHeaderMismatch, h.ChainID, tr.ChainID)
	}
	ht := time.Unix(0, h.Time)
	switch {
	case h.Height < tr.Height:
		return Power{}, fmt.Errorf("%w: height %d is below the trusted height %d", ErrNotAfterTrusted, h.Height, tr.Height)
	case h.Height > tr.Height && tr.Height > 0 && !ht.After(tr.Time),
		tr.Height == 0 && ht.Before(tr.Time): // genesis has no header: block 1 may share its time
		return Power{}, fmt.Errorf("%w: header time %s is not after the trusted %s", ErrNotAfterTrusted, ht.UTC().Format(time.RFC3339Nano), tr.Time.UTC().Format(time.RFC3339Nano))
	case ht.After(o.Now.Add(o.MaxClockDrift)):
		return Power{}, fmt.Errorf("%w: header time %s is in the future", ErrNotAfterTrusted, ht.UTC().Format(time.RFC3339))
	}
	if h.Height == tr.Height && vals != nil && vals.Hash() != tr.Validators.Hash() {
		return Power{}, fmt.Errorf("%w: at the trusted height the set must be the trusted one", ErrValidatorSetMismatch)
	}
	p, err := VerifyCommit(h, c, vals)
	if err != nil {
		return p, err
	}
	var trusted int64
	for i := range c.Signatures {
		if idx, ok := tr.Validators.Index(c.Signatures[i].Validator); ok {
			trusted += tr.Validators.Validator(idx).Power // signature already verified: same address, same key
		}
	}
	if total := tr.Validators.TotalPower(); 3*trusted <= total {
		return p, fmt.Errorf("%w: trusted validators signed %d of their %d", ErrInsufficientTrust, trusted, total)
	}
	return p, nil
}
