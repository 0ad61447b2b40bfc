package compute

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Commit-reveal for re-execution reports (docs/compute.md,
// "Re-execution"). A drawn job's window [draw, ReexecEnd) is split in two:
// until the commit end a bonded validator sends job/reexec_commit with
// ReexecCommitment(its result, a salt, its address); from the commit end to
// ReexecEnd it sends job/reexec_reveal with the result and the salt. The
// tally counts reveals only: a commit never revealed is work not done. So a
// validator cannot copy another's report (nothing is in the clear until
// every commit is in, and a commitment binds its sender), and a validator
// whose reveal agrees with the verdict is credited verification work, paid
// from the validators' share of the compute pool at the epoch close.

// Message types of the commit-reveal.
const (
	MsgTypeJobReexecCommit = "job/reexec_commit"
	MsgTypeJobReexecReveal = "job/reexec_reveal"
)

// Salt length bounds: enough that a result cannot be guessed from its
// commitment by trying the likely CIDs.
const (
	MinRevealSalt = 16
	MaxRevealSalt = 64
)

// Errors of the commit-reveal.
var (
	ErrReexecInClear  = errors.New("job/reexec (a result in the clear) is no longer accepted: send job/reexec_commit, then job/reexec_reveal after the commit window")
	ErrCommitWindow   = errors.New("not in the re-execution commit window")
	ErrRevealWindow   = errors.New("not in the re-execution reveal window")
	ErrNoCommitment   = errors.New("no re-execution commitment from this validator")
	ErrRevealMismatch = errors.New("the reveal does not match the commitment")
)

// MsgJobReexecCommit commits a validator to its re-execution result.
type MsgJobReexecCommit struct {
	_          struct{} `cbor:",toarray"`
	Job        uint64
	Commitment []byte // ReexecCommitment, 32 bytes
}

// MsgJobReexecReveal opens a commitment: the result CID (or Failed) and
// the salt.
type MsgJobReexecReveal struct {
	_      struct{} `cbor:",toarray"`
	Job    uint64
	Result string
	Failed bool
	Salt   []byte
}

// ReexecCommitment is SHA-256 over the chain id, the job, the sender, the
// result and the salt (each length-prefixed). The sender is in it so that
// a validator cannot re-submit another's commitment and reveal it after.
func ReexecCommitment(chainID string, job uint64, sender keys.Address, result string, failed bool, salt []byte) [32]byte {
	return commitHash("inferd/compute/v1/reexec-commit", []byte(chainID), u64(job), sender[:], []byte(result), []byte{b2i(failed)}, salt)
}

// commitHash is SHA-256 over a domain tag and parts, each length-prefixed
// (u64be): the form of every commitment of the module.
func commitHash(domain string, parts ...[]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(domain))
	for _, p := range parts {
		h.Write(u64(uint64(len(p))))
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// checkSalt bounds a reveal's salt (MinRevealSalt to MaxRevealSalt bytes).
func checkSalt(salt []byte) error {
	if len(salt) < MinRevealSalt || len(salt) > MaxRevealSalt {
		return fmt.Errorf("%w: salt is %d bytes, want %d to %d", ledger.ErrInvalidMsg, len(salt), MinRevealSalt, MaxRevealSalt)
	}
	return nil
}

func b2i(b bool) byte {
	if b {
		return 1
	}
	return 0
}

const (
	rxCommitPrefix = "compute/rxcommit/" // <id><val>: commitment
	rxWindowPrefix = "compute/rxwin/"    // <id>: commit end height
	vworkPrefix    = "compute/vwork/"    // <val>: verification work since the last epoch close
)

func rxCommitKey(id uint64, v keys.Address) []byte { return cat(rxCommitPrefix, u64(id), v[:]) }
func rxWindowKey(id uint64) []byte                 { return cat(rxWindowPrefix, u64(id)) }
func vworkKey(v keys.Address) []byte               { return cat(vworkPrefix, v[:]) }

// reexecCommitBlocks is the commit part of a window of w blocks (Validate
// keeps w >= 2, so both parts have at least one block).
func reexecCommitBlocks(w uint64) uint64 { return (w + 1) / 2 }

// openCommitWindow records, when job id is drawn at height, where its
// commit window ends.
func openCommitWindow(ctx *ledger.Context, id, height uint64, p Params) uint64 {
	end := ledger.MustAdd(height, reexecCommitBlocks(p.ReexecWindowBlocks))
	ctx.SetU64(rxWindowKey(id), end)
	return end
}

// ReexecCommitEnd is the first height of job id's reveal window (0 when it
// is not being re-executed).
func (*Module) ReexecCommitEnd(ctx *ledger.Context, id uint64) uint64 {
	return ctx.GetU64(rxWindowKey(id))
}

// ReexecCommitted reports whether validator val committed on job id.
func (*Module) ReexecCommitted(ctx *ledger.Context, id uint64, val keys.Address) bool {
	return ctx.Has(rxCommitKey(id, val))
}

// VerificationWork is val's verification work credited since the last
// epoch close (re-execution reveals that agreed with the verdict).
func (*Module) VerificationWork(ctx *ledger.Context, val keys.Address) uint64 {
	return ctx.GetU64(vworkKey(val))
}

// reexecVoter checks what commit and reveal have in common: the job is
// pending, the sender a bonded validator other than the provider.
func (m *Module) reexecVoter(ctx *ledger.Context, sender keys.Address, id uint64) (Job, error) {
	j, ok := m.job(ctx, id)
	if !ok {
		return Job{}, fmt.Errorf("%w: %d", ErrUnknownJob, id)
	}
	if j.Reexec != ReexecPending || ctx.Height >= j.ReexecEnd {
		return Job{}, fmt.Errorf("%w: job %d (re-execution state %q)", ErrNoReexec, j.ID, j.Reexec)
	}
	if !m.staking.IsBonded(ctx, sender) {
		return Job{}, fmt.Errorf("%w: %s", ErrNotValidator, sender)
	}
	if sender == j.Provider {
		return Job{}, fmt.Errorf("%w: %s ran job %d", ErrSelfAttest, sender, j.ID)
	}
	return j, nil
}

func (m *Module) reexecCommit(ctx *ledger.Context, sender keys.Address, x MsgJobReexecCommit) error {
	j, err := m.reexecVoter(ctx, sender, x.Job)
	if err != nil {
		return err
	}
	if end := m.ReexecCommitEnd(ctx, j.ID); ctx.Height >= end {
		return fmt.Errorf("%w: job %d took commitments until height %d (now %d); reveal from %d to %d", ErrCommitWindow, j.ID, end, ctx.Height, end, j.ReexecEnd)
	}
	if len(x.Commitment) != 32 {
		return fmt.Errorf("%w: commitment is %d bytes, want 32 (compute.ReexecCommitment)", ledger.ErrInvalidMsg, len(x.Commitment))
	}
	k := rxCommitKey(j.ID, sender)
	if ctx.Has(k) {
		return fmt.Errorf("%w: %s committed on job %d", ErrAlreadyAttested, sender, j.ID)
	}
	ctx.Set(k, bytes.Clone(x.Commitment))
	ctx.Emit("job_reexec_commit", "job", fmt.Sprint(j.ID), "validator", sender.String())
	return nil
}

func (m *Module) reexecReveal(ctx *ledger.Context, sender keys.Address, x MsgJobReexecReveal) error {
	j, err := m.reexecVoter(ctx, sender, x.Job)
	if err != nil {
		return err
	}
	if end := m.ReexecCommitEnd(ctx, j.ID); ctx.Height < end {
		return fmt.Errorf("%w: job %d takes reveals from height %d (now %d): a reveal before every commit is in could be copied", ErrRevealWindow, j.ID, end, ctx.Height)
	}
	if x.Failed == (x.Result != "") {
		return fmt.Errorf("%w: give a result CID, or Failed with no CID", ledger.ErrInvalidMsg)
	}
	if x.Result != "" {
		if err := CheckCID("result", x.Result); err != nil {
			return err
		}
	}
	if err := checkSalt(x.Salt); err != nil {
		return err
	}
	c := ctx.Get(rxCommitKey(j.ID, sender))
	if c == nil {
		return fmt.Errorf("%w: %s on job %d (commit before height %d)", ErrNoCommitment, sender, j.ID, m.ReexecCommitEnd(ctx, j.ID))
	}
	if want := ReexecCommitment(ctx.ChainID, j.ID, sender, x.Result, x.Failed, x.Salt); !bytes.Equal(c, want[:]) {
		return fmt.Errorf("%w: job %d, validator %s (result, failed flag and salt must be those committed)", ErrRevealMismatch, j.ID, sender)
	}
	k := rxKey(j.ID, sender)
	if ctx.Has(k) {
		return fmt.Errorf("%w: %s revealed on job %d", ErrAlreadyAttested, sender, j.ID)
	}
	ctx.SetObj(k, reexecReport{Result: x.Result, Failed: x.Failed})
	ctx.Emit("job_reexec_report", "job", fmt.Sprint(j.ID), "validator", sender.String())
	return nil
}

// closeReexecCommits deletes job id's commitments and window once tallied
// (unrevealed commitments are simply dropped: work not done) and credits
// one unit of verification work to each validator in agreed.
func closeReexecCommits(ctx *ledger.Context, id uint64, agreed []keys.Address) {
	pfx := cat(rxCommitPrefix, u64(id))
	var ks [][]byte
	ctx.Iterate(pfx, func(k, _ []byte) bool {
		ks = append(ks, bytes.Clone(k))
		return true
	})
	for _, k := range ks {
		ctx.Delete(k)
	}
	ctx.Delete(rxWindowKey(id))
	for _, v := range agreed {
		ctx.SetU64(vworkKey(v), satAdd(ctx.GetU64(vworkKey(v)), 1))
	}
}

// takeVerificationWork adds every validator's re-execution work to
// matched (the epoch's count of verification work that agreed with an
// outcome) and resets it.
func takeVerificationWork(ctx *ledger.Context, matched map[keys.Address]uint64) {
	var ks [][]byte
	ctx.Iterate([]byte(vworkPrefix), func(k, v []byte) bool {
		if len(k) == len(vworkPrefix)+keys.AddressLen && len(v) == 8 {
			a := keys.Address(k[len(vworkPrefix):])
			matched[a] = satAdd(matched[a], binary.BigEndian.Uint64(v))
		}
		ks = append(ks, bytes.Clone(k))
		return true
	})
	for _, k := range ks {
		ctx.Delete(k)
	}
}

// reexecVote is one revealed report that differs from the provider's.
type reexecVote struct {
	val keys.Address
	r   reexecReport
}

// plurality is the validators whose report is the one most stake revealed
// among those that differ from the provider (ties: the smaller result
// string), so that after a mismatch only the validators who got the
// majority's result are credited, not one that revealed anything else.
func plurality(votes []reexecVote, power map[keys.Address]uint64) []keys.Address {
	weight := map[reexecReport]uint64{}
	var best reexecReport
	var bestW uint64
	found := false
	for _, v := range votes {
		weight[v.r] = satAdd(weight[v.r], power[v.val])
	}
	for _, v := range votes { // votes are in key order: deterministic
		w := weight[v.r]
		if !found || w > bestW || (w == bestW && reportLess(v.r, best)) {
			best, bestW, found = v.r, w, true
		}
	}
	var out []keys.Address
	for _, v := range votes {
		if v.r == best {
			out = append(out, v.val)
		}
	}
	return out
}

func reportLess(a, b reexecReport) bool {
	if a.Failed != b.Failed {
		return a.Failed
	}
	return a.Result < b.Result
}
