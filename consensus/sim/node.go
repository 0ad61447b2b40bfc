package sim

import (
	"errors"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
)

// node drives one Machine the way the real node does, with an in-memory twin
// of the WAL (wal, last) and of the block store (chain, certs) that survive
// crashes.
type node struct {
	s           *sim
	idx         int
	addr        keys.Address
	kind        ByzKind
	power       int64
	up          bool
	incarnation int
	m           *consensus.Machine

	wal   consensus.State
	walOK bool
	last  [3]consensus.Message // last signed message per step at wal's height

	chain []consensus.BlockID
	certs [][]*consensus.Vote
	asked map[int]uint64 // peer -> height we asked it about
}

func (n *node) start() {
	h := uint64(len(n.chain) + 1)
	if plantedLoseWAL && n.incarnation > 0 {
		n.wal, n.walOK, n.last = consensus.State{}, false, [3]consensus.Message{}
	}
	var st *consensus.State
	if n.walOK {
		st = &n.wal
	}
	m, err := consensus.NewMachine(consensus.Config{Self: n.addr, Timeouts: simTimeouts}, h, n.s.set(h), st)
	if err != nil {
		panic(err)
	}
	n.m = m
	acts := m.Start()
	// Re-send what we signed before the crash (it may never have left).
	for _, msg := range n.last {
		if msg != nil {
			if mh, _, _ := msg.HRS(); mh == h {
				n.broadcast(msg)
				if more, err := m.Step(msg); err == nil {
					acts = append(acts, more...)
				}
			}
		}
	}
	n.run(acts)
}

// plantedLoseWAL, set only by TestPlantedRestartWithoutWAL, makes a
// restarted node forget its WAL (as if it were not fsynced).
var plantedLoseWAL bool

func (n *node) step(in consensus.Input) error {
	acts, err := n.m.Step(in)
	n.run(acts)
	return err
}

func (n *node) receive(from int, pkt packet) {
	switch {
	case pkt.msg != nil:
		err := n.step(pkt.msg)
		if h, _, _ := pkt.msg.HRS(); h > n.m.Height() || errors.Is(err, consensus.ErrFutureHeight) {
			n.ask(from)
		}
	case pkt.status > 0:
		if int(pkt.status) <= len(n.certs) {
			n.s.send(n.idx, from, packet{cert: n.certs[pkt.status-1]})
		} else if pkt.status == n.m.Height() && pkt.round < n.m.Round() {
			// The peer is behind in rounds: relay what we hold of its round.
			if p := n.m.ProposalOf(pkt.round); p != nil {
				n.s.send(n.idx, from, packet{msg: p})
			}
			n.s.send(n.idx, from, packet{cert: n.m.Votes(pkt.round, consensus.Prevote)})
			n.s.send(n.idx, from, packet{cert: n.m.Votes(pkt.round, consensus.Precommit)})
		}
	default:
		for _, v := range pkt.cert {
			_ = n.step(v)
		}
	}
}

// ask requests the certificate of our height from a peer that is ahead.
func (n *node) ask(peer int) {
	if n.asked == nil {
		n.asked = make(map[int]uint64)
	}
	if h := n.m.Height(); n.asked[peer] != h {
		n.asked[peer] = h
		n.s.send(n.idx, peer, packet{status: h, round: n.m.Round()})
	}
}

func (n *node) timeout(t consensus.Timeout) {
	if n.kind == Amnesia && n.s.rng.IntN(4) == 0 {
		n.forget()
		return
	}
	_ = n.step(t)
}

// forget is amnesia: restart from a State with no lock, no valid value and
// no memory of what was signed.
func (n *node) forget() {
	st := n.m.State()
	st.LockedRound, st.LockedBlock, st.ValidRound, st.ValidBlock, st.ValidPOL = -1, consensus.NilBlock, -1, consensus.NilBlock, nil
	st.LastSigned, st.Step = consensus.SignedRecord{}, consensus.StepPropose
	h := n.m.Height()
	m, err := consensus.NewMachine(consensus.Config{Self: n.addr, Timeouts: simTimeouts}, h, n.s.set(h), &st)
	if err != nil {
		panic(err)
	}
	n.m = m
	n.incarnation++
	n.run(m.Start())
}

// gossip re-sends our latest messages of the current height and asks every
// peer for the certificate of the height we are at.
func (n *node) gossip() {
	h := n.m.Height()
	if n.kind != Equivocate {
		for _, msg := range n.last {
			if msg != nil {
				if mh, _, _ := msg.HRS(); mh == h {
					n.broadcast(msg)
				}
			}
		}
	}
	// Relay the proof-of-lock of our valid value: a proposer that re-proposes
	// it needs every honest node to have seen those prevotes.
	if st := n.m.State(); st.ValidRound >= 0 && n.kind == Honest {
		for _, v := range n.m.Votes(st.ValidRound, consensus.Prevote) {
			if v.BlockID == st.ValidBlock {
				n.broadcast(v)
			}
		}
	}
	for j := range n.s.nodes {
		if j != n.idx {
			n.s.send(n.idx, j, packet{status: h, round: n.m.Round()})
		}
	}
}

func (n *node) broadcast(msg consensus.Message) {
	for j := range n.s.nodes {
		if j != n.idx {
			n.s.send(n.idx, j, packet{msg: msg})
		}
	}
}

// run carries out actions in order, as the real node's loop does.
func (n *node) run(acts []consensus.Action) {
	s := n.s
	for len(acts) > 0 {
		a := acts[0]
		acts = acts[1:]
		var more []consensus.Action
		switch a := a.(type) {
		case consensus.SignAndSend:
			more = n.signAndSend(a)
		case consensus.ScheduleTimeout:
			s.push(event{at: s.now + a.Duration, kind: evTimeout, node: n.idx, inc: n.incarnation, timeout: a.Timeout})
		case consensus.RequestProposal:
			more, _ = n.m.Step(consensus.ProposalBlock{Height: a.Height, Round: a.Round, BlockID: s.newBlock(true)})
		case consensus.ValidateBlock:
			more, _ = n.m.Step(consensus.BlockValidated{Height: a.Height, BlockID: a.BlockID, Valid: s.blocks[a.BlockID]})
		case consensus.Commit:
			if a.Height != uint64(len(n.chain)+1) {
				s.violate("node %d committed height %d with %d in its chain", n.idx, a.Height, len(n.chain))
				return
			}
			n.chain = append(n.chain, a.BlockID)
			n.certs = append(n.certs, a.Precommits)
			if n.kind == Honest {
				s.checkCommit(n, a)
			}
			var err error
			more, err = n.m.Step(consensus.NewHeight{Height: a.Height + 1, Validators: s.set(a.Height + 1)})
			if err != nil {
				panic(err)
			}
		case consensus.ReportEvidence:
			if n.kind == Honest {
				s.checkEvidence(n, a.Evidence)
			}
		}
		acts = append(more, acts...)
	}
}

func (n *node) signAndSend(a consensus.SignAndSend) []consensus.Action {
	s := n.s
	msg := a.Msg
	if n.kind == Honest {
		// The guard of the real WAL: refuse, persist, then sign and send.
		if n.walOK {
			if err := n.wal.LastSigned.Allows(msg); err != nil {
				s.violate("node %d: guard refused %s: %v", n.idx, consensus.MessageString(msg), err)
				return nil
			}
		}
	}
	h, _, st := msg.HRS()
	if n.walOK && n.wal.Height != h {
		n.last = [3]consensus.Message{}
	}
	n.wal, n.walOK = a.State, true
	msg.SetSignature(fakeSig)
	n.last[st-1] = msg
	if n.kind == Honest {
		s.recordSigned(n, msg)
	}
	if n.kind == Equivocate {
		n.equivocate(msg)
	} else {
		n.broadcast(msg)
	}
	more, _ := n.m.Step(msg)
	return more
}
