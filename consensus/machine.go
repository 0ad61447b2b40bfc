package consensus

import (
	"errors"
	"fmt"

	"github.com/inferd/inferd/consensus/internal/planted"
	"github.com/inferd/inferd/keys"
)

// MaxRoundsAhead bounds how far above the current round a message may be
// (beyond it the message is refused with ErrRoundTooFar and must be re-sent
// later); it bounds the memory a Byzantine validator can make us spend.
const MaxRoundsAhead = 1000

// ErrUnexpectedInput is returned for a NewHeight that does not follow a
// Commit, or for a height that is not the next one.
var ErrUnexpectedInput = errors.New("consensus: unexpected input")

// Config configures a Machine.
type Config struct {
	// Self is this node's validator address; a node whose address is not in
	// a height's set follows that height without signing.
	Self keys.Address
	// Timeouts of the rounds (DefaultTimeouts if zero).
	Timeouts Timeouts
}

// Machine is one validator's Tendermint state machine (Buchman, Kwon,
// Milosevic 2018, Algorithm 1) over a stake-weighted validator set.
//
// It is a pure function of its inputs: no I/O, clock, randomness, signing,
// locks or goroutines. It is not safe for concurrent use; one goroutine (the
// node's loop, or the simulator) owns it and carries out the actions that
// Step returns, in order.
//
// Contract with the driver:
//   - Messages are verified (Verify: form, membership, proposer, signature)
//     before they are stepped in; Step re-checks the form and membership but
//     never signatures.
//   - SignAndSend: check the guard, persist State and fsync, then sign, send,
//     and step the signed message back in. Nothing this validator signs may
//     leave the process before the State that records it is durable.
//   - Commit: persist the block and its certificate, then step in NewHeight
//     with the next height's validator set. Messages for that height that
//     arrive earlier are buffered.
//   - ScheduleTimeout, RequestProposal, ValidateBlock: answer later with
//     Timeout, ProposalBlock, BlockValidated.
//
// Validity of a block is the application's judgement, asked once per block
// ID per height with ValidateBlock.
type Machine struct {
	cfg  Config
	vals *ValidatorSet
	self int // index in vals, -1 when not a validator

	height      uint64
	round       int32
	step        Step
	lockedRound int32
	lockedBlock BlockID
	validRound  int32
	validBlock  BlockID
	lastSigned  SignedRecord
	awaitingSet bool // committed height-1, waiting for NewHeight

	rounds    map[int32]*roundState
	validity  map[BlockID]uint8 // 0 unknown, 1 requested, 2 valid, 3 invalid
	majRounds []roundBlock      // precommit quorums for a block, in the order seen
	proposers []int             // proposer index per round, computed lazily
	propWork  *ValidatorSet
	buffer    []Message // messages for the next height

	restoredStep Step // step restored from State for the current round
	out          []Action
}

type roundBlock struct {
	round int32
	block BlockID
}

const (
	validityUnknown uint8 = iota
	validityRequested
	validityValid
	validityInvalid
)

// NewMachine creates a Machine at height with that height's validator set.
// restored is the State read back from the WAL after a restart (nil on first
// start): if it is for this height, the round, step, lock and valid value are
// resumed; its LastSigned record is kept in any case. Call Start next.
func NewMachine(cfg Config, height uint64, vals *ValidatorSet, restored *State) (*Machine, error) {
	if cfg.Timeouts == (Timeouts{}) {
		cfg.Timeouts = DefaultTimeouts()
	}
	if err := cfg.Timeouts.validate(); err != nil {
		return nil, err
	}
	if height == 0 || vals == nil {
		return nil, fmt.Errorf("%w: height %d, set %v", ErrUnexpectedInput, height, vals)
	}
	m := &Machine{cfg: cfg}
	m.resetHeight(height, vals)
	if restored != nil {
		if err := restored.ValidateBasic(); err != nil {
			return nil, fmt.Errorf("consensus: restored state: %w", err)
		}
		if restored.Height > height {
			return nil, fmt.Errorf("consensus: restored state is for height %d, ahead of %d", restored.Height, height)
		}
		m.lastSigned = restored.LastSigned
		if restored.Height == height {
			m.round, m.restoredStep = restored.Round, restored.Step
			m.lockedRound, m.lockedBlock = restored.LockedRound, restored.LockedBlock
			m.validRound, m.validBlock = restored.ValidRound, restored.ValidBlock
			m.restorePOL(restored.ValidPOL)
		}
	}
	return m, nil
}

// restorePOL files the persisted proof-of-lock prevotes (read back from
// this validator's own WAL) in the round state.
func (m *Machine) restorePOL(pol []Vote) {
	for i := range pol {
		v := &pol[i]
		if v.Type != Prevote || v.Height != m.height || v.Round != m.validRound || v.BlockID != m.validBlock || v.ValidateBasic() != nil {
			continue
		}
		if idx, ok := m.vals.Index(v.Validator); ok {
			m.rs(v.Round).prevotes.add(idx, m.vals.vals[idx].Power, v)
		}
	}
}

func (m *Machine) resetHeight(h uint64, vals *ValidatorSet) {
	m.height, m.vals = h, vals
	m.round, m.step = 0, StepPropose
	m.lockedRound, m.lockedBlock = -1, NilBlock
	m.validRound, m.validBlock = -1, NilBlock
	m.rounds = make(map[int32]*roundState)
	m.validity = make(map[BlockID]uint8)
	m.majRounds = m.majRounds[:0]
	m.proposers = m.proposers[:0]
	m.propWork = nil
	m.restoredStep = 0
	m.self = -1
	if i, ok := vals.Index(m.cfg.Self); ok {
		m.self = i
	}
}

// Start enters the current round (0, or the restored one) and returns the
// first actions.
func (m *Machine) Start() []Action {
	m.out = nil
	r := m.round
	switch {
	case m.restoredStep > StepPropose:
		// Already voted at this step before the restart: do not vote again;
		// the votes of the round, re-gossiped by peers, move us on.
		m.step = m.restoredStep
	case m.restoredStep == StepPropose && m.lastSigned.Height == m.height && m.lastSigned.Round == r && m.lastSigned.Step == StepPropose:
		// Signed a proposal for this round before the restart: re-send the
		// identical one (the guard allows it), never a new one.
		m.step = StepPropose
		m.rs(r).proposalSigned = true
		m.validity[m.lastSigned.BlockID] = validityValid
		m.sign(&Proposal{Height: m.height, Round: r, POLRound: m.lastSigned.POLRound, BlockID: m.lastSigned.BlockID, Proposer: m.cfg.Self})
		m.schedule(StepPropose, r)
	default:
		m.startRound(r)
	}
	m.restoredStep = 0
	m.evaluate()
	return m.out
}

// Height, Round and Step report the current position.
func (m *Machine) Height() uint64 { return m.height }

// Round is the current round.
func (m *Machine) Round() int32 { return m.round }

// CurrentStep is the current step.
func (m *Machine) CurrentStep() Step { return m.step }

// Validators is the current height's set.
func (m *Machine) Validators() *ValidatorSet { return m.vals }

// State is the persistent state (what SignAndSend carries).
func (m *Machine) State() State {
	st := State{Height: m.height, Round: m.round, Step: m.step, LockedRound: m.lockedRound, LockedBlock: m.lockedBlock,
		ValidRound: m.validRound, ValidBlock: m.validBlock, LastSigned: m.lastSigned}
	if rs := m.rounds[m.validRound]; rs != nil && m.validRound >= 0 && !m.awaitingSet {
		for _, v := range rs.prevotes.forBlock(m.validBlock) {
			st.ValidPOL = append(st.ValidPOL, *v)
		}
	}
	return st
}

// Step feeds one input and returns the actions it causes (a new slice). A
// message that cannot be used returns an error (see the Err* values) and no
// actions; the Machine is unchanged by it.
func (m *Machine) Step(in Input) ([]Action, error) {
	m.out = nil
	var err error
	switch in := in.(type) {
	case *Proposal:
		err = m.stepMessage(in)
	case *Vote:
		err = m.stepMessage(in)
	case Timeout:
		m.stepTimeout(in)
	case ProposalBlock:
		if in.Height == m.height && !m.awaitingSet && in.Round == m.round && m.step == StepPropose &&
			m.isProposer(in.Round) && !m.rs(in.Round).proposalSigned && !in.BlockID.IsNil() {
			m.validity[in.BlockID] = validityValid
			m.rs(in.Round).proposalSigned = true
			m.sign(&Proposal{Height: m.height, Round: in.Round, POLRound: -1, BlockID: in.BlockID, Proposer: m.cfg.Self})
		}
	case BlockValidated:
		if in.Height == m.height && !m.awaitingSet && m.validity[in.BlockID] != validityValid && m.validity[in.BlockID] != validityInvalid {
			if in.Valid {
				m.validity[in.BlockID] = validityValid
			} else {
				m.validity[in.BlockID] = validityInvalid
			}
		}
	case NewHeight:
		if !m.awaitingSet || in.Height != m.height || in.Validators == nil {
			return nil, fmt.Errorf("%w: new height %d while at %d (awaiting set: %v)", ErrUnexpectedInput, in.Height, m.height, m.awaitingSet)
		}
		m.awaitingSet = false
		m.resetHeight(in.Height, in.Validators)
		m.startRound(0)
		buf := m.buffer
		m.buffer = nil
		for _, msg := range buf {
			_ = m.stepMessage(msg) // errors here are the sender's, already logged as buffered
		}
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnexpectedInput, in)
	}
	if err != nil {
		return nil, err
	}
	m.evaluate()
	return m.out, nil
}

func (m *Machine) stepTimeout(t Timeout) {
	if t.Height != m.height || m.awaitingSet || t.Round != m.round {
		return
	}
	switch {
	case t.Step == StepPropose && m.step == StepPropose:
		m.vote(Prevote, NilBlock)
	case t.Step == StepPrevote && m.step == StepPrevote:
		m.vote(Precommit, NilBlock)
	case t.Step == StepPrecommit:
		m.startRound(m.round + 1)
	}
}

// stepMessage files a verified message in the round state.
func (m *Machine) stepMessage(msg Message) error {
	if err := msg.ValidateBasic(); err != nil {
		return err
	}
	h, r, _ := msg.HRS()
	switch {
	case h < m.height:
		return ErrOldHeight
	case h > m.height+1 || (h == m.height+1 && m.awaitingSet):
		return ErrFutureHeight
	case h == m.height+1 || m.awaitingSet: // the next height: keep for NewHeight
		if len(m.buffer) >= 16*m.vals.Len()+64 {
			return ErrBufferFull
		}
		m.buffer = append(m.buffer, msg)
		return nil
	}
	idx, ok := m.vals.Index(msg.Signer())
	if !ok {
		return ErrUnknownValidator
	}
	if r > m.round+MaxRoundsAhead {
		return ErrRoundTooFar
	}
	power := m.vals.vals[idx].Power
	switch msg := msg.(type) {
	case *Proposal:
		if m.proposer(r) != idx {
			return ErrWrongProposer
		}
		rs := m.rs(r)
		if rs.proposal != nil {
			return nil // a duplicate, or an equivocating proposer: keep the first
		}
		rs.proposal = msg
		rs.markSeen(idx, power)
	case *Vote:
		rs := m.rs(r)
		vs := rs.votes(msg.Type)
		added, conflict := vs.add(idx, power, msg)
		if conflict != nil && len(conflict.Signature) == sigLen && len(msg.Signature) == sigLen {
			m.emit(ReportEvidence{Evidence: NewDuplicateVoteEvidence(conflict, msg)})
		}
		if !added {
			return nil
		}
		rs.markSeen(idx, power)
		if msg.Type == Precommit && !msg.BlockID.IsNil() {
			if p := vs.power(msg.BlockID); m.quorum(p) && !m.quorum(p-power) {
				m.majRounds = append(m.majRounds, roundBlock{r, msg.BlockID}) // quorum reached just now
			}
		}
	}
	// Line 55: more than 1/3 of stake in a higher round makes us skip to it.
	if r > m.round && skipOf(m.rs(r).seenPower, m.vals.total) {
		m.startRound(r)
	}
	return nil
}

func (m *Machine) quorum(power int64) bool {
	return quorumOf(power, m.vals.total, planted.QuorumAtLeastTwoThirds)
}

func (m *Machine) rs(r int32) *roundState {
	rs := m.rounds[r]
	if rs == nil {
		rs = newRoundState(m.vals.Len())
		m.rounds[r] = rs
	}
	return rs
}

// proposer is the proposer index of round r (cached, computed incrementally).
func (m *Machine) proposer(r int32) int {
	if int(r) < len(m.proposers) {
		return m.proposers[r]
	}
	if m.propWork == nil {
		m.propWork = m.vals.copy()
		m.proposers = append(m.proposers[:0], m.vals.proposer)
	}
	for int32(len(m.proposers)) <= r {
		m.propWork.increment(1)
		m.proposers = append(m.proposers, m.propWork.proposer)
	}
	return m.proposers[r]
}

func (m *Machine) isProposer(r int32) bool { return m.self >= 0 && m.proposer(r) == m.self }

// startRound is StartRound of Algorithm 1 (line 11).
func (m *Machine) startRound(r int32) {
	m.round, m.step = r, StepPropose
	if m.isProposer(r) {
		rs := m.rs(r)
		if !m.validBlock.IsNil() {
			rs.proposalSigned = true
			m.sign(&Proposal{Height: m.height, Round: r, POLRound: m.validRound, BlockID: m.validBlock, Proposer: m.cfg.Self})
		} else {
			m.emit(RequestProposal{Height: m.height, Round: r})
		}
	}
	m.schedule(StepPropose, r)
}

func (m *Machine) schedule(s Step, r int32) {
	m.emit(ScheduleTimeout{Timeout: Timeout{Height: m.height, Round: r, Step: s}, Duration: m.cfg.Timeouts.For(s, r)})
}

func (m *Machine) emit(a Action) { m.out = append(m.out, a) }

// sign emits SignAndSend for msg after the Machine's own guard check.
func (m *Machine) sign(msg Message) {
	if m.self < 0 {
		return
	}
	if err := m.lastSigned.Allows(msg); err != nil {
		return // cannot happen for a correct machine; the driver's guard would refuse too
	}
	m.lastSigned = RecordOf(msg)
	m.emit(SignAndSend{Msg: msg, State: m.State()})
}

// vote signs a vote of type t for id and moves to the vote's step.
func (m *Machine) vote(t VoteType, id BlockID) {
	m.step = stepOf(t)
	m.sign(&Vote{Type: t, Height: m.height, Round: m.round, BlockID: id, Validator: m.cfg.Self})
}

// validityOf returns the application's verdict on id, asking for it once.
func (m *Machine) validityOf(id BlockID) (valid, known bool) {
	switch m.validity[id] {
	case validityValid:
		return true, true
	case validityInvalid:
		return false, true
	case validityUnknown:
		m.validity[id] = validityRequested
		m.emit(ValidateBlock{Height: m.height, BlockID: id})
	}
	return false, false
}

// evaluate applies the rules of Algorithm 1 until none fires.
func (m *Machine) evaluate() {
	for !m.awaitingSet {
		if m.tryDecide() {
			return
		}
		before := [3]int64{int64(m.round), int64(m.step), int64(len(m.out))}
		m.evaluateRound()
		if before == [3]int64{int64(m.round), int64(m.step), int64(len(m.out))} {
			return
		}
	}
}

// tryDecide is line 49: a proposal-independent form (the precommit quorum
// for a block identifies it; the application supplies its content).
func (m *Machine) tryDecide() bool {
	for _, rb := range m.majRounds {
		if valid, known := m.validityOf(rb.block); !known || !valid {
			continue
		}
		cert := m.rounds[rb.round].precommits.forBlock(rb.block)
		m.emit(Commit{Height: m.height, Round: rb.round, BlockID: rb.block, Precommits: cert})
		m.awaitingSet = true
		m.height++
		return true
	}
	return false
}

// Votes returns the votes of type t held for round r of the current height
// (first votes in validator order, then conflicting ones). The driver's
// gossip uses it to relay what it received; the slice is new, the votes are
// shared and must not be modified.
func (m *Machine) Votes(r int32, t VoteType) []*Vote {
	rs := m.rounds[r]
	if rs == nil || m.awaitingSet {
		return nil
	}
	return rs.votes(t).all()
}

// ProposalOf returns the proposal held for round r of the current height, or nil.
func (m *Machine) ProposalOf(r int32) *Proposal {
	if rs := m.rounds[r]; rs != nil && !m.awaitingSet {
		return rs.proposal
	}
	return nil
}

// evaluateRound applies the rules of the current round (lines 22-48).
func (m *Machine) evaluateRound() {
	r := m.round
	rs := m.rs(r)
	noLock := planted.NoLock
	if p := rs.proposal; p != nil && m.step == StepPropose {
		if p.POLRound == -1 { // line 22
			if valid, known := m.validityOf(p.BlockID); known {
				if valid && (noLock || m.lockedRound == -1 || m.lockedBlock == p.BlockID) {
					m.vote(Prevote, p.BlockID)
				} else {
					m.vote(Prevote, NilBlock)
				}
			}
		} else if pol := m.rounds[p.POLRound]; pol != nil && m.quorum(pol.prevotes.power(p.BlockID)) { // line 28
			if valid, known := m.validityOf(p.BlockID); known {
				if valid && (noLock || m.lockedRound <= p.POLRound || m.lockedBlock == p.BlockID) {
					m.vote(Prevote, p.BlockID)
				} else {
					m.vote(Prevote, NilBlock)
				}
			}
		}
	}
	if m.step == StepPrevote && !rs.prevoteTimeoutSet && m.quorum(rs.prevotes.sum) { // line 34
		rs.prevoteTimeoutSet = true
		m.schedule(StepPrevote, r)
	}
	if p := rs.proposal; p != nil && m.step >= StepPrevote && !rs.polDone && m.quorum(rs.prevotes.power(p.BlockID)) { // line 36
		if valid, known := m.validityOf(p.BlockID); known && valid {
			rs.polDone = true
			m.validRound, m.validBlock = r, p.BlockID
			if m.step == StepPrevote {
				m.lockedRound, m.lockedBlock = r, p.BlockID
				m.vote(Precommit, p.BlockID) // the persisted State carries the new lock and valid value
			}
		}
	}
	if m.step == StepPrevote && m.quorum(rs.prevotes.power(NilBlock)) { // line 44
		m.vote(Precommit, NilBlock)
	}
	if !rs.precommitTimeoutSet && m.quorum(rs.precommits.sum) { // line 47
		rs.precommitTimeoutSet = true
		m.schedule(StepPrecommit, r)
	}
}
