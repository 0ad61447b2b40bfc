package compute

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// reexecReport is one validator's re-execution result, stored until the
// window closes.
type reexecReport struct {
	_      struct{} `cbor:",toarray"`
	Result string
	Failed bool
}

// Drawn reports whether job id is re-executed, from the beacon of the block
// after its result: SHA-256(label || seed || u64be(id)), its first 8 bytes
// as a big-endian integer mod 10^6, below reexec_ppm.
func Drawn(seed [32]byte, id uint64, ppm ledger.PPM) bool {
	h := sha256.New()
	h.Write([]byte("inferd/compute/v1/reexec"))
	h.Write(seed[:])
	h.Write(u64(id))
	var d [32]byte
	h.Sum(d[:0])
	return binary.BigEndian.Uint64(d[:8])%uint64(ledger.PPMOne) < uint64(ppm)
}

// drawsDue draws, with this block's seed, which of the jobs whose result
// was sealed in the previous block are re-executed. Those not drawn may
// reveal from this block; the provider is credited on its reveal.
func (m *Module) drawsDue(ctx *ledger.Context, seed [32]byte) {
	ids := idsAt(ctx, drawPrefix, ctx.Height)
	if len(ids) == 0 {
		return
	}
	p := m.Params(ctx)
	for _, id := range ids {
		ctx.Delete(drawKey(ctx.Height, id))
		j, ok := m.job(ctx, id)
		if !ok || j.Reexec != ReexecNone || j.Status != JobSealed {
			continue
		}
		if !Drawn(seed, id, p.ReexecPPM) {
			continue
		}
		// The window ends at the sealed result's reveal deadline, fixed at
		// its commit (a governance change in between moves neither).
		wp := p
		wp.ReexecWindowBlocks = j.Deadline - ctx.Height
		j.Reexec, j.ReexecEnd = ReexecPending, j.Deadline
		openCommitWindow(ctx, id, ctx.Height, wp)
		ctx.Set(rxqKey(j.ReexecEnd, id), []byte{1})
		m.putJob(ctx, j)
		ctx.Emit("job_reexec_drawn", "job", fmt.Sprint(id), "until", fmt.Sprint(j.ReexecEnd))
	}
}

// tallyDue closes the re-execution windows that end at this height.
func (m *Module) tallyDue(ctx *ledger.Context, p Params) {
	ids := idsAt(ctx, rxqPrefix, ctx.Height)
	if len(ids) == 0 {
		return
	}
	power := map[keys.Address]uint64{}
	var total uint64
	for _, v := range m.staking.BondedValidators(ctx) {
		power[v.Operator] = v.Tokens
		total = ledger.MustAdd(total, v.Tokens)
	}
	for _, id := range ids {
		ctx.Delete(rxqKey(ctx.Height, id))
		j, ok := m.job(ctx, id)
		if !ok || j.Reexec != ReexecPending || j.ReexecEnd != ctx.Height {
			continue
		}
		m.tallyReexec(ctx, p, &j, power, total)
		m.putJob(ctx, j)
	}
}

// tallyReexec decides a re-execution: mismatch when more than 2/3 of bonded
// stake got another result (a Wasm run is deterministic, but unlike a wrong
// row a mismatch cannot be shown to others, so it takes the same
// supermajority as a block); match with more than 2/3 agreeing; else
// inconclusive. A mismatch slashes slash_wrong_row_ppm of the provider's
// bond (it is the same fraud: claiming work not done).
func (m *Module) tallyReexec(ctx *ledger.Context, p Params, j *Job, power map[keys.Address]uint64, total uint64) {
	pfx := cat(rxPrefix, u64(j.ID))
	if j.Status == JobMissed { // never revealed (jobs_reveal.go): nothing to compare
		var ks [][]byte
		ctx.Iterate(pfx, func(k, _ []byte) bool { ks = append(ks, bytes.Clone(k)); return true })
		for _, k := range ks {
			ctx.Delete(k)
		}
		j.Reexec = ReexecInconclusive
		closeReexecCommits(ctx, j.ID, nil)
		ctx.Emit("job_reexec", "job", fmt.Sprint(j.ID), "verdict", j.Reexec)
		return
	}
	var match, mismatch uint64
	var seen, same []keys.Address
	var other []reexecVote
	ctx.Iterate(pfx, func(k, raw []byte) bool {
		if len(k) != len(pfx)+keys.AddressLen {
			return true
		}
		val := keys.Address(k[len(pfx):])
		seen = append(seen, val)
		var r reexecReport
		if err := ledger.DecodeStored(raw, &r); err != nil {
			panic(err)
		}
		if r.Failed == (j.Status == JobFailed) && (r.Failed || r.Result == j.Result) {
			match += power[val]
			same = append(same, val)
		} else {
			mismatch += power[val]
			other = append(other, reexecVote{val, r})
		}
		return true
	})
	for _, v := range seen {
		ctx.Delete(rxKey(j.ID, v))
	}
	total -= power[j.Provider] // its own stake cannot report on it
	switch {
	case total > 0 && ledger.CompareProducts(3, mismatch, 2, total) > 0:
		j.Reexec = ReexecMismatch
		if pr, ok := m.provider(ctx, j.Provider); ok {
			m.slash(ctx, p, &pr, p.SlashWrongRowPPM, fmt.Sprintf("job %d result mismatch", j.ID))
			m.putProvider(ctx, pr)
		}
	case total > 0 && ledger.CompareProducts(3, match, 2, total) > 0:
		j.Reexec = ReexecMatch
	default:
		j.Reexec = ReexecInconclusive
	}
	if j.Reexec != ReexecMismatch && j.Status == JobDone {
		creditServed(ctx, j.Provider, j.Charged) // not contradicted
	}
	// Verification work: the reveals that agree with a decided verdict.
	var agreed []keys.Address
	switch j.Reexec {
	case ReexecMatch:
		agreed = same
	case ReexecMismatch:
		agreed = plurality(other, power)
	}
	closeReexecCommits(ctx, j.ID, agreed)
	ctx.Emit("job_reexec", "job", fmt.Sprint(j.ID), "verdict", j.Reexec)
}
