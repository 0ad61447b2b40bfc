package sim

import (
	"github.com/inferd/inferd/consensus"
)

type hr struct {
	h uint64
	r int32
}

// side is the colluding split: all Byzantine validators put honest node j on
// the same side at (h, r).
func (s *sim) side(h uint64, r int32, j int) int {
	x := s.seed ^ h*0x9e3779b97f4a7c15 ^ uint64(r)*0xbf58476d1ce4e5b9 ^ uint64(j)*0x94d049bb133111eb
	x ^= x >> 31
	x *= 0xd6e8feb86cd8e5b5
	x ^= x >> 29
	return int(x & 1)
}

// equivocate sends msg to one side and a conflicting twin to the other; a
// few nodes get both (so that honest nodes can detect the equivocation).
func (n *node) equivocate(msg consensus.Message) {
	s := n.s
	h, r, _ := msg.HRS()
	var twin consensus.Message
	switch m := msg.(type) {
	case *consensus.Proposal:
		// With InvalidTwins the second block is invalid half of the time:
		// honest nodes must never commit it (the validity property).
		b := s.newBlock(!s.p.InvalidTwins || s.rng.IntN(2) == 0)
		if s.byzProps == nil {
			s.byzProps = make(map[hr][2]consensus.BlockID)
		}
		s.byzProps[hr{h, r}] = [2]consensus.BlockID{m.BlockID, b}
		t := *m
		t.BlockID, t.POLRound = b, -1
		twin = &t
	case *consensus.Vote:
		t := *m
		if pair, ok := s.byzProps[hr{h, r}]; ok {
			// A colluder proposed two blocks: vote each to its side.
			a := *m
			a.BlockID = pair[0]
			msg = &a
			t.BlockID = pair[1]
		} else if m.BlockID.IsNil() {
			t.BlockID = s.newBlock(false)
		} else {
			t.BlockID = consensus.NilBlock
		}
		twin = &t
	}
	for j := range s.nodes {
		if j == n.idx {
			continue
		}
		if s.rng.IntN(8) == 0 {
			s.send(n.idx, j, packet{msg: msg})
			s.send(n.idx, j, packet{msg: twin})
		} else if s.side(h, r, j) == 0 {
			s.send(n.idx, j, packet{msg: msg})
		} else {
			s.send(n.idx, j, packet{msg: twin})
		}
	}
}

// checkCommit checks validity and agreement for an honest commit.
func (s *sim) checkCommit(n *node, c consensus.Commit) {
	s.res.Commits++
	if s.res.FirstCommit < 0 {
		s.res.FirstCommit = s.now
	}
	if valid, ok := s.blocks[c.BlockID]; !ok || !valid {
		s.violate("validity: node %d committed %s at height %d, never proposed as a valid block", n.idx, c.BlockID, c.Height)
	}
	if d, ok := s.decided[c.Height]; ok && d != c.BlockID {
		s.violate("agreement: node %d committed %s at height %d, another honest node committed %s", n.idx, c.BlockID, c.Height, d)
	} else if !ok {
		s.decided[c.Height] = c.BlockID
	}
}

// recordSigned checks that an honest node never signs two different messages
// for one height, round and step.
func (s *sim) recordSigned(n *node, msg consensus.Message) {
	h, r, st := msg.HRS()
	k := signKey{node: n.idx, h: h, r: r, s: st}
	rec := consensus.RecordOf(msg)
	if old, ok := s.signed[k]; ok && old != rec {
		s.violate("double sign: honest node %d signed %+v and %+v", n.idx, old, rec)
	}
	s.signed[k] = rec
}

// checkEvidence: evidence reported by an honest node must accuse a Byzantine
// node and be well formed.
func (s *sim) checkEvidence(n *node, e *consensus.DuplicateVoteEvidence) {
	s.res.Evidence++
	a, b := e.VoteA, e.VoteB
	accused := -1
	for _, nd := range s.nodes {
		if nd.addr == a.Validator {
			accused = nd.idx
		}
	}
	switch {
	case accused < 0 || s.nodes[accused].kind == Honest:
		s.violate("evidence: node %d accuses honest node %d", n.idx, accused)
	case a.Validator != b.Validator || a.Height != b.Height || a.Round != b.Round || a.Type != b.Type || a.BlockID == b.BlockID:
		s.violate("evidence: malformed %+v", e)
	}
}
