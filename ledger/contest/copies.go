package contest

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/inferd/inferd/ledger"
)

// DigestBytes is the length of a model digest (sha256 of the evaluator's
// canonical bytes of the model).
const DigestBytes = 32

// agreedDigest is the digest carried by more than half of the stake of
// votes (the non-abstaining attestations of one submission), or nil when
// none has a strict majority (validators that send no digest count
// against every digest). It is deterministic: votes are in attestation
// order and stakes are summed exactly.
func agreedDigest(votes []vote) []byte {
	type tally struct {
		d     []byte
		stake uint64
	}
	var ts []tally
	var total uint64
	for _, v := range votes {
		total += v.stake
		if len(v.digest) == 0 {
			continue
		}
		found := false
		for i := range ts {
			if bytes.Equal(ts[i].d, v.digest) {
				ts[i].stake += v.stake
				found = true
				break
			}
		}
		if !found {
			ts = append(ts, tally{d: v.digest, stake: v.stake})
		}
	}
	for _, t := range ts {
		if t.stake > total-t.stake {
			return t.d
		}
	}
	return nil
}

// markDigestCopies applies the first-committer rule to model digests, the
// way reveal applies it to multihashes: an agreed submission whose digest
// (the same weights under another CID: another chunker, a re-serialised
// container) was first committed by another builder, in this round or an
// earlier one, becomes a copy and cannot be a breakthrough. Within the
// round the submissions are visited by commit sequence, so the earliest
// commit owns. A builder entering its own weights again is no copy.
func markDigestCopies(ctx *ledger.Context, id uint64, subs []Submission) {
	order := make([]int, 0, len(subs))
	for j := range subs {
		if subs[j].Status == StatusAgreed && len(subs[j].Digest) != 0 {
			order = append(order, j)
		}
	}
	sort.Slice(order, func(a, b int) bool { return subs[order[a]].CommitSeq < subs[order[b]].CommitSeq })
	for _, j := range order {
		s := &subs[j]
		k := digestKeyOf(id, s.Digest)
		var prev owner
		if ctx.GetObj(k, &prev) {
			if prev.Builder != s.Builder && prev.Seq < s.CommitSeq {
				b := prev.Builder
				s.Status, s.CopyOf = StatusCopy, &b
				ctx.Emit("contest_digest_copy", "contest", fmt.Sprint(id), "round", fmt.Sprint(s.Round),
					"index", fmt.Sprint(s.Index), "builder", s.Builder.String(), "copy_of", b.String())
			}
			continue
		}
		ctx.SetObj(k, owner{Builder: s.Builder, Seq: s.CommitSeq, Round: s.Round, Index: s.Index})
	}
}

// beyondTolerance reports whether score is outside the tolerance band
// around ref: validators cannot tell two scores inside it apart, so a
// score inside it is no improvement on ref.
func beyondTolerance(t Tolerance, score, ref int64) bool { return !withinTolerance(t, score, ref) }

// markNearCopies: among the round's candidate breakthroughs (indexes into
// subs), visited by commit sequence, one whose agreed score is within the
// spec's tolerance of an earlier-committed kept candidate's score is a
// near copy (weights perturbed below what the evaluation can tell apart,
// or an equally good model committed later): it is marked near_copy and
// dropped, so the earlier submission keeps the win. It returns the kept
// candidates.
func markNearCopies(spec *Spec, subs []Submission, cands []int) []int {
	byCommit := append([]int(nil), cands...)
	sort.Slice(byCommit, func(a, b int) bool { return subs[byCommit[a]].CommitSeq < subs[byCommit[b]].CommitSeq })
	var kept []int
	for _, j := range byCommit {
		near := -1
		for _, k := range kept {
			if withinTolerance(spec.Tolerance, *subs[j].AgreedScore, *subs[k].AgreedScore) {
				near = k
				break
			}
		}
		if near < 0 {
			kept = append(kept, j)
			continue
		}
		b := subs[near].Builder
		subs[j].Status, subs[j].CopyOf = StatusNearCopy, &b
	}
	return kept
}
