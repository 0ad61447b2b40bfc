package contest

import (
	"encoding/binary"
	"sort"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
)

// Queries. They only read, so the node's API calls them on a read-only
// context (ledger.State.Query).

// Reader returns a Module for queries only: it registers nothing with
// gov and must not be given to a ledger. The node's API and agents use it
// over the chain's bank (the only keeper queries need).
func Reader(b *bank.Module) *Module { return &Module{bank: b} }

// ContestInfo is a contest's summary.
type ContestInfo struct {
	ID            uint64        `json:"id"`
	Name          string        `json:"name"`
	Status        string        `json:"status"` // live | retired
	Metric        string        `json:"metric"`
	Direction     string        `json:"direction"`
	Evaluator     Evaluator     `json:"evaluator"`
	Designer      keys.Address  `json:"designer"`
	PoolName      string        `json:"pool_name"`
	Pool          uint64        `json:"pool"` // uinf
	CreatedHeight uint64        `json:"created_height"`
	RetiredHeight uint64        `json:"retired_height,omitempty"`
	Round         RoundInfo     `json:"round"` // the round at the query height
	BestScore     int64         `json:"best_score"`
	BestBuilder   *keys.Address `json:"best_builder,omitempty"`
	BestModel     string        `json:"best_model,omitempty"`
}

// ContestDetail is everything about one contest.
type ContestDetail struct {
	ContestInfo
	Spec            Spec         `json:"spec"`
	DatasetCIDs     []string     `json:"dataset_cids"` // per spec dataset; "" while sealed
	CarryBuilders   uint64       `json:"carry_builders"`
	CarryValidators uint64       `json:"carry_validators"`
	Burned          uint64       `json:"burned,omitempty"` // pool burned at retirement
	LastRound       *RoundResult `json:"last_round,omitempty"`
	Leaderboard     []Submission `json:"leaderboard"` // agreed submissions of every round, best first (at most LeaderboardSize)
	Submissions     []Submission `json:"submissions"` // of the last closed round, then of the current one
}

// RoundView is one round in full: what an evaluating validator reads.
type RoundView struct {
	RoundInfo
	Frozen       bool          `json:"frozen"`
	Closed       bool          `json:"closed"`
	Scored       []uint32      `json:"scored"` // the order of an attestation's scores
	Set          []Member      `json:"validator_set"`
	SetStake     uint64        `json:"set_stake"`
	Submissions  []Submission  `json:"submissions"`
	Attestations []Attestation `json:"attestations"`
}

func (m *Module) info(ctx *ledger.Context, r *record) ContestInfo {
	ci := ContestInfo{
		ID: r.ID, Name: r.Spec.Name, Status: r.Status, Metric: r.Spec.Metric, Direction: r.Spec.Direction,
		Evaluator: r.Spec.Evaluator, Designer: r.Spec.Designer, PoolName: PoolName(r.ID), Pool: m.bank.Pool(ctx, PoolName(r.ID)),
		CreatedHeight: r.CreatedHeight, RetiredHeight: r.RetiredHeight, BestScore: r.Best, BestModel: r.BestModel,
		Round: RoundOf(r.StartHeight, r.Spec.Schedule, ctx.Height),
	}
	if !r.BestBuilder.IsZero() {
		b := r.BestBuilder
		ci.BestBuilder = &b
	}
	if r.Status == StatusRetired {
		ci.Round.Phase = PhaseRetired
	}
	return ci
}

// Contests lists every contest, live or retired, by id.
func (m *Module) Contests(ctx *ledger.Context) []ContestInfo {
	out := []ContestInfo{}
	ctx.Iterate([]byte(contestPrefix), func(_, raw []byte) bool {
		var r record
		mustDecode(raw, &r)
		out = append(out, m.info(ctx, &r))
		return true
	})
	return out
}

// Contest returns one contest with its spec, pool, round and leaderboard,
// or ErrUnknownContest.
func (m *Module) Contest(ctx *ledger.Context, id uint64) (ContestDetail, error) {
	r, err := m.getRecord(ctx, id)
	if err != nil {
		return ContestDetail{}, err
	}
	d := ContestDetail{
		ContestInfo: m.info(ctx, &r), Spec: r.Spec, DatasetCIDs: r.DatasetCIDs, CarryBuilders: r.CarryBuilders,
		CarryValidators: r.CarryValidators, Burned: r.Burned, LastRound: r.LastResult,
	}
	d.Leaderboard = m.Leaderboard(ctx, id, &r.Spec)
	var subs []Submission
	if r.LastClosed != 0 && r.LastClosed != d.Round.Round {
		subs = submissions(ctx, id, r.LastClosed)
	}
	if r.Status == StatusLive {
		subs = append(subs, submissions(ctx, id, d.Round.Round)...)
	}
	d.Submissions = nonNil(subs)
	return d, nil
}

func nonNil(s []Submission) []Submission {
	if s == nil {
		return []Submission{}
	}
	return s
}

// Leaderboard lists the agreed submissions of every round, best score
// first in the spec's direction (ties: earlier commit), at most
// LeaderboardSize.
func (m *Module) Leaderboard(ctx *ledger.Context, id uint64, spec *Spec) []Submission {
	out := []Submission{}
	p := agreedOf(id)
	ctx.Iterate(p, func(k, _ []byte) bool {
		rest := k[len(p):]
		if s, ok := getSub(ctx, id, binary.BigEndian.Uint64(rest[:8]), binary.BigEndian.Uint32(rest[8:12])); ok && s.AgreedScore != nil {
			out = append(out, s)
		}
		return true
	})
	sort.SliceStable(out, func(i, j int) bool {
		a, b := *out[i].AgreedScore, *out[j].AgreedScore
		if a != b {
			return improvement(spec.Direction, a, b) > 0
		}
		return out[i].CommitSeq < out[j].CommitSeq
	})
	if len(out) > LeaderboardSize {
		out = out[:LeaderboardSize]
	}
	return out
}

// Submissions lists the submissions of round (0: the current round) by
// index, or ErrUnknownContest.
func (m *Module) Submissions(ctx *ledger.Context, id, round uint64) ([]Submission, error) {
	r, err := m.getRecord(ctx, id)
	if err != nil {
		return nil, err
	}
	if round == 0 {
		round = RoundOf(r.StartHeight, r.Spec.Schedule, ctx.Height).Round
	}
	return nonNil(submissions(ctx, id, round)), nil
}

// Round returns round (0: the current round) of contest id in full.
func (m *Module) Round(ctx *ledger.Context, id, round uint64) (RoundView, error) {
	r, err := m.getRecord(ctx, id)
	if err != nil {
		return RoundView{}, err
	}
	cur := RoundOf(r.StartHeight, r.Spec.Schedule, ctx.Height)
	ri := cur
	if round != 0 && round != cur.Round {
		ri = RoundAt(r.StartHeight, r.Spec.Schedule, round)
		ri.Height = ctx.Height
		ri.Phase = PhaseClosed
		if round > cur.Round {
			ri.Phase = PhasePending
		}
	}
	rs := getRound(ctx, id, ri.Round)
	v := RoundView{
		RoundInfo: ri, Frozen: rs.Frozen, Closed: rs.Closed, Scored: rs.Scored, Set: rs.Set, SetStake: rs.SetStake,
		Submissions: nonNil(submissions(ctx, id, ri.Round)), Attestations: attestations(ctx, id, ri.Round),
	}
	if v.Scored == nil {
		v.Scored = []uint32{}
	}
	if v.Attestations == nil {
		v.Attestations = []Attestation{}
	}
	return v, nil
}

// Spec returns the spec and the dataset CIDs known so far (sealed ones
// once revealed) of contest id.
func (m *Module) Spec(ctx *ledger.Context, id uint64) (Spec, []string, error) {
	r, err := m.getRecord(ctx, id)
	if err != nil {
		return Spec{}, nil, err
	}
	return r.Spec, r.DatasetCIDs, nil
}
