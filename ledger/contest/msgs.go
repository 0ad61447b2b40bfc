package contest

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// liveRound loads a live contest and checks that round is its current
// round and that the height is inside window (picked from the round's
// timeline by pick, named name for the error).
func (m *Module) liveRound(ctx *ledger.Context, id, round uint64, name string, pick func(RoundInfo) Window) (record, RoundInfo, error) {
	r, err := m.getRecord(ctx, id)
	if err != nil {
		return r, RoundInfo{}, err
	}
	if r.Status != StatusLive {
		return r, RoundInfo{}, fmt.Errorf("%w: contest %d is %s", ErrNotLive, id, r.Status)
	}
	ri := RoundOf(r.StartHeight, r.Spec.Schedule, ctx.Height)
	if ri.Phase == PhasePending {
		return r, ri, fmt.Errorf("%w: contest %d starts at height %d", ErrOutsideWindow, id, r.StartHeight)
	}
	if round != ri.Round {
		return r, ri, fmt.Errorf("%w: round %d given, contest %d is in round %d at height %d", ErrWrongRound, round, id, ri.Round, ctx.Height)
	}
	if w := pick(ri); !w.Contains(ctx.Height) {
		return r, ri, fmt.Errorf("%w: the %s window of contest %d round %d is heights %d..%d, this is %d (phase %s)",
			ErrOutsideWindow, name, id, round, w.Start, w.End, ctx.Height, ri.Phase)
	}
	return r, ri, nil
}

func checkSalt(salt []byte) error {
	if len(salt) < MinSaltBytes || len(salt) > MaxSaltBytes {
		return fmt.Errorf("%w: %d bytes, want %d..%d", ErrBadSalt, len(salt), MinSaltBytes, MaxSaltBytes)
	}
	return nil
}

// commit handles contest/commit: a builder's hash in the commit window.
func (m *Module) commit(ctx *ledger.Context, sender keys.Address, x MsgCommit) error {
	if len(x.Hash) != 32 {
		return fmt.Errorf("%w: got %d bytes", ErrInvalidCommitHash, len(x.Hash))
	}
	r, _, err := m.liveRound(ctx, x.Contest, x.Round, "commit", func(ri RoundInfo) Window { return ri.Commit })
	if err != nil {
		return err
	}
	// Keyed by sender too: another account copying this hash from the
	// mempool must not block the commit or own the submission (it could
	// never open it, but it would take the builder's slot and payout).
	if ctx.Has(hashKey(x.Contest, x.Round, sender, x.Hash)) {
		return fmt.Errorf("%w: contest %d round %d", ErrDuplicateCommit, x.Contest, x.Round)
	}
	rs := getRound(ctx, x.Contest, x.Round)
	if rs.Submissions >= MaxSubmissionsPerRound {
		return fmt.Errorf("%w: %d submissions", ErrRoundFull, MaxSubmissionsPerRound)
	}
	nk := perSenderKey(x.Contest, x.Round, sender)
	mine := ctx.GetU64(nk)
	if mine >= MaxCommitsPerBuilder {
		return fmt.Errorf("%w: %d commits", ErrTooManyCommits, MaxCommitsPerBuilder)
	}
	if d := r.Spec.CommitDeposit; d > 0 {
		if err := m.bank.SubBalance(ctx, sender, d); err != nil {
			return fmt.Errorf("%w: the commit deposit of contest %d is %d uinf: %v", ledger.ErrInsufficientFunds, x.Contest, d, err)
		}
		if err := m.bank.PoolAdd(ctx, DepositPoolName(x.Contest), d); err != nil {
			return err
		}
	}
	ctx.Set(nk, u64(mine+1))
	s := Submission{
		Contest: x.Contest, Round: x.Round, Index: rs.Submissions, Builder: sender, CommitHash: x.Hash,
		CommitSeq: nextCounter(ctx, seqKey(x.Contest)), CommitHeight: ctx.Height, Status: StatusCommitted,
		Deposit: r.Spec.CommitDeposit,
	}
	rs.Submissions++
	setRound(ctx, x.Contest, x.Round, &rs)
	setSub(ctx, &s)
	ctx.Set(hashKey(x.Contest, x.Round, sender, x.Hash), u32(s.Index))
	ctx.Emit("contest_commit", "contest", fmt.Sprint(x.Contest), "round", fmt.Sprint(x.Round), "index", fmt.Sprint(s.Index), "builder", sender.String())
	return nil
}

// reveal handles contest/reveal. The first committer of a model (lowest
// commit sequence across the contest's history) owns it; every other
// submission of it is kept with status "copy" and earns nothing. A reveal
// whose commit came earlier than the current owner's (possible only
// within one round) takes the model over and marks the other a copy.
func (m *Module) reveal(ctx *ledger.Context, sender keys.Address, x MsgReveal) error {
	c, err := ParseCID(x.Model)
	if err != nil {
		return err
	}
	if err := checkSalt(x.Salt); err != nil {
		return err
	}
	if _, _, err := m.liveRound(ctx, x.Contest, x.Round, "reveal", func(ri RoundInfo) Window { return ri.Reveal }); err != nil {
		return err
	}
	h := CommitHash(c, x.Salt, sender)
	idx := ctx.Get(hashKey(x.Contest, x.Round, sender, h))
	if len(idx) != 4 {
		return fmt.Errorf("%w: contest %d round %d has no commit of sha256(%s, salt, %s) by %s", ErrNoCommit, x.Contest, x.Round, c, sender, sender)
	}
	s, found := getSub(ctx, x.Contest, x.Round, uint32(idx[0])<<24|uint32(idx[1])<<16|uint32(idx[2])<<8|uint32(idx[3]))
	if !found || s.Builder != sender {
		return fmt.Errorf("%w: contest %d round %d has no commit of sha256(%s, salt, %s) by %s", ErrNoCommit, x.Contest, x.Round, c, sender, sender)
	}
	if s.Status != StatusCommitted {
		return fmt.Errorf("%w: submission %d is %s", ErrAlreadyRevealed, s.Index, s.Status)
	}
	if s.Deposit > 0 {
		if err := m.bank.PoolToAccount(ctx, DepositPoolName(x.Contest), sender, s.Deposit); err != nil {
			return err
		}
		s.Deposit = 0
	}
	s.Model, s.RevealHeight, s.Status = c.String(), ctx.Height, StatusRevealed
	ok := ownerKeyOf(x.Contest, ownerKey(c))
	var prev owner
	switch {
	case ctx.GetObj(ok, &prev) && prev.Builder == sender && prev.Round != x.Round:
		// Its owner entering it again in a later round (say after one
		// without quorum) is no copy; ownership stays with the first
		// commit. A breakthrough must still beat the best score so far.
	case prev.Seq != 0 && prev.Seq < s.CommitSeq:
		b := prev.Builder
		s.Status, s.CopyOf = StatusCopy, &b
	default:
		if prev.Seq != 0 { // the earlier owner's commit came later: it is the copy
			if ps, found := getSub(ctx, x.Contest, prev.Round, prev.Index); found {
				b := sender
				ps.Status, ps.CopyOf = StatusCopy, &b
				setSub(ctx, &ps)
			}
		}
		ctx.SetObj(ok, owner{Builder: sender, Seq: s.CommitSeq, Round: x.Round, Index: s.Index})
	}
	setSub(ctx, &s)
	ctx.Emit("contest_reveal", "contest", fmt.Sprint(x.Contest), "round", fmt.Sprint(x.Round), "index", fmt.Sprint(s.Index),
		"builder", sender.String(), "model", s.Model, "status", s.Status)
	return nil
}

// revealDataset handles contest/reveal_dataset (designer only, once the
// builders' reveal window of the current round has closed).
func (m *Module) revealDataset(ctx *ledger.Context, sender keys.Address, x MsgRevealDataset) error {
	r, err := m.getRecord(ctx, x.Contest)
	if err != nil {
		return err
	}
	if r.Status != StatusLive {
		return fmt.Errorf("%w: contest %d is %s", ErrNotLive, x.Contest, r.Status)
	}
	if sender != r.Spec.Designer {
		return fmt.Errorf("%w: contest %d's designer is %s", ErrNotDesigner, x.Contest, r.Spec.Designer)
	}
	if int(x.Dataset) >= len(r.Spec.Datasets) || r.Spec.Datasets[x.Dataset].Policy != PolicySealed {
		return fmt.Errorf("%w: dataset %d is not a sealed dataset of contest %d", ErrBadDataset, x.Dataset, x.Contest)
	}
	if r.DatasetCIDs[x.Dataset] != "" {
		return fmt.Errorf("%w: dataset %d is already revealed", ErrBadDataset, x.Dataset)
	}
	ri := RoundOf(r.StartHeight, r.Spec.Schedule, ctx.Height)
	if ri.Phase == PhasePending || ri.Phase == PhaseCommit || ri.Phase == PhaseReveal {
		return fmt.Errorf("%w: a sealed dataset is revealed after the builders' reveal window (round %d's ends at %d)", ErrOutsideWindow, ri.Round, ri.Reveal.End)
	}
	c, err := ParseCID(x.CID)
	if err != nil {
		return err
	}
	if !bytes.Equal(DatasetCommitment(c, x.Salt), r.Spec.Datasets[x.Dataset].Commitment) {
		return fmt.Errorf("%w: sha256(%s, salt) does not match dataset %d's commitment", ErrHashMismatch, c, x.Dataset)
	}
	r.DatasetCIDs[x.Dataset] = c.String()
	setRecord(ctx, &r)
	ctx.Emit("contest_dataset_revealed", "contest", fmt.Sprint(x.Contest), "dataset", r.Spec.Datasets[x.Dataset].Name, "cid", c.String())
	return nil
}

// member finds op in a frozen set (sorted by address).
func member(set []Member, op keys.Address) (Member, bool) {
	i := sort.Search(len(set), func(i int) bool { return bytes.Compare(set[i].Operator[:], op[:]) >= 0 })
	if i < len(set) && set[i].Operator == op {
		return set[i], true
	}
	return Member{}, false
}

// attestCommit handles contest/attest_commit by a member of the round's
// frozen set, recording the stake it had when the set was frozen.
func (m *Module) attestCommit(ctx *ledger.Context, sender keys.Address, x MsgAttestCommit) error {
	if len(x.Hash) != 32 {
		return fmt.Errorf("%w: got %d bytes", ErrInvalidCommitHash, len(x.Hash))
	}
	if _, _, err := m.liveRound(ctx, x.Contest, x.Round, "attest_commit", func(ri RoundInfo) Window { return ri.AttestCommit }); err != nil {
		return err
	}
	rs := getRound(ctx, x.Contest, x.Round)
	mem, ok := member(rs.Set, sender)
	if !ok {
		return fmt.Errorf("%w: %s, contest %d round %d", ErrNotInSet, sender, x.Contest, x.Round)
	}
	k := attKey(x.Contest, x.Round, sender)
	if ctx.Has(k) {
		return fmt.Errorf("%w: %s, contest %d round %d", ErrAlreadyAttested, sender, x.Contest, x.Round)
	}
	ctx.SetObj(k, Attestation{Validator: sender, Stake: mem.Stake, Hash: x.Hash, CommitHeight: ctx.Height})
	ctx.Emit("contest_attest_commit", "contest", fmt.Sprint(x.Contest), "round", fmt.Sprint(x.Round), "validator", sender.String(), "stake", fmt.Sprint(mem.Stake))
	return nil
}

// attestReveal handles contest/attest_reveal: only once every member's
// attest-commit window has closed, so no score is readable before.
func (m *Module) attestReveal(ctx *ledger.Context, sender keys.Address, x MsgAttestReveal) error {
	if err := checkSalt(x.Salt); err != nil {
		return err
	}
	if _, _, err := m.liveRound(ctx, x.Contest, x.Round, "attest_reveal", func(ri RoundInfo) Window { return ri.AttestReveal }); err != nil {
		return err
	}
	var a Attestation
	k := attKey(x.Contest, x.Round, sender)
	if !ctx.GetObj(k, &a) {
		return fmt.Errorf("%w: %s, contest %d round %d", ErrNoAttestCommit, sender, x.Contest, x.Round)
	}
	if a.Revealed {
		return fmt.Errorf("%w: attestation of %s", ErrAlreadyRevealed, sender)
	}
	rs := getRound(ctx, x.Contest, x.Round)
	if len(x.Scores) != len(rs.Scored) {
		return fmt.Errorf("%w: %d scores, round %d has %d scored submissions", ErrWrongScoreCount, len(x.Scores), x.Round, len(rs.Scored))
	}
	for i, sc := range x.Scores {
		if !sc.Abstain && (sc.Value < -MaxScore || sc.Value > MaxScore) {
			return fmt.Errorf("%w: score %d is %d, outside ±%d", ErrScoreOutOfRange, i, sc.Value, int64(MaxScore))
		}
		if sc.Abstain && sc.Value != 0 {
			return fmt.Errorf("%w: score %d abstains but carries value %d", ErrScoreOutOfRange, i, sc.Value)
		}
		if sc.Abstain && len(sc.Digest) != 0 {
			return fmt.Errorf("%w: score %d abstains but carries a digest (send none when abstaining)", ErrBadDigest, i)
		}
		if n := len(sc.Digest); n != 0 && n != DigestBytes {
			return fmt.Errorf("%w: score %d carries a %d-byte digest, want %d (sha256) or none", ErrBadDigest, i, n, DigestBytes)
		}
	}
	if !bytes.Equal(AttestHash(x.Scores, x.Salt, sender), a.Hash) {
		return fmt.Errorf("%w: attestation of %s, contest %d round %d", ErrHashMismatch, sender, x.Contest, x.Round)
	}
	a.Revealed, a.Scores = true, x.Scores
	ctx.SetObj(k, a)
	ctx.Emit("contest_attest_reveal", "contest", fmt.Sprint(x.Contest), "round", fmt.Sprint(x.Round), "validator", sender.String())
	return nil
}
