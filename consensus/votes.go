package consensus

import "github.com/inferd/inferd/consensus/quorum"

// maxConflicting bounds the conflicting votes kept per validator per round
// and type (beyond its first vote). Conflicting votes still count for their
// own block: a quorum counts each validator at most once per block, and two
// quorums for different blocks still intersect in more than 1/3 of stake,
// which holds an honest validator who never votes twice. Counting them is
// what lets honest nodes that saw different halves of an equivocation agree
// on a proof-of-lock (the paper counts messages, not first messages).
const maxConflicting = 2

type extraVote struct {
	idx int
	v   *Vote
}

// voteSet holds one round's votes of one type, indexed by validator.
type voteSet struct {
	votes    []*Vote
	extra    []extraVote       // conflicting votes, at most maxConflicting per validator
	sum      int64             // power of the validators that voted (once each)
	byBlock  map[BlockID]int64 // power per block ID (nil included)
	reported []bool            // equivocation already reported for this validator
}

func newVoteSet(n int) voteSet {
	return voteSet{votes: make([]*Vote, n), byBlock: make(map[BlockID]int64, 2)}
}

// add records v from validator idx. It returns added=false for a duplicate;
// conflict is an earlier vote of idx for another block, returned once per
// validator so that the equivocation is reported once.
func (s *voteSet) add(idx int, power int64, v *Vote) (added bool, conflict *Vote) {
	old := s.votes[idx]
	if old == nil {
		s.votes[idx] = v
		s.sum += power
		s.byBlock[v.BlockID] += power
		return true, nil
	}
	if old.BlockID == v.BlockID {
		return false, nil
	}
	n := 0
	for _, e := range s.extra {
		if e.idx == idx {
			if e.v.BlockID == v.BlockID {
				return false, nil
			}
			n++
		}
	}
	if s.reported == nil {
		s.reported = make([]bool, len(s.votes))
	}
	if !s.reported[idx] {
		s.reported[idx] = true
		conflict = old
	}
	if n >= maxConflicting {
		return false, conflict
	}
	s.extra = append(s.extra, extraVote{idx, v})
	s.byBlock[v.BlockID] += power
	return true, conflict
}

// forBlock lists the votes for id in validator order.
func (s *voteSet) forBlock(id BlockID) []*Vote {
	out := make([]*Vote, 0, len(s.votes))
	for idx, v := range s.votes {
		if v == nil {
			continue
		}
		if v.BlockID == id {
			out = append(out, v)
			continue
		}
		for _, e := range s.extra {
			if e.idx == idx && e.v.BlockID == id {
				out = append(out, e.v)
			}
		}
	}
	return out
}

// all lists every vote held, first votes in validator order then conflicting ones.
func (s *voteSet) all() []*Vote {
	out := make([]*Vote, 0, len(s.votes)+len(s.extra))
	for _, v := range s.votes {
		if v != nil {
			out = append(out, v)
		}
	}
	for _, e := range s.extra {
		out = append(out, e.v)
	}
	return out
}

func (s *voteSet) power(id BlockID) int64 { return s.byBlock[id] }

// roundState is everything the machine knows about one round of the current
// height.
type roundState struct {
	proposal   *Proposal
	prevotes   voteSet
	precommits voteSet
	seen       []bool // validator sent something in this round
	seenPower  int64

	// "for the first time" flags of Algorithm 1.
	prevoteTimeoutSet   bool // line 34
	precommitTimeoutSet bool // line 47
	polDone             bool // line 36
	proposalSigned      bool // this node signed the round's proposal
}

func newRoundState(n int) *roundState {
	return &roundState{prevotes: newVoteSet(n), precommits: newVoteSet(n), seen: make([]bool, n)}
}

func (rs *roundState) markSeen(idx int, power int64) {
	if !rs.seen[idx] {
		rs.seen[idx] = true
		rs.seenPower += power
	}
}

func (rs *roundState) votes(t VoteType) *voteSet {
	if t == Prevote {
		return &rs.prevotes
	}
	return &rs.precommits
}

// quorumFn and skipFn are the thresholds in use; tests swap quorumFn through
// the planted package (see planted.QuorumAtLeastTwoThirds).
func quorumOf(power, total int64, atLeast bool) bool {
	if atLeast {
		return quorum.AtLeastTwoThirds(uint64(power), uint64(total))
	}
	return quorum.SuperMajority(uint64(power), uint64(total))
}

func skipOf(power, total int64) bool {
	return quorum.MoreThanOneThird(uint64(power), uint64(total))
}
