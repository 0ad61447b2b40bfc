package consensus

import (
	"fmt"
	"time"
)

// Input is what Machine.Step consumes: a verified *Proposal or *Vote, or one
// of the types below.
type Input interface{ isInput() }

// Timeout reports that a timeout scheduled by ScheduleTimeout has elapsed.
type Timeout struct {
	Height uint64
	Round  int32
	Step   Step
}

// ProposalBlock answers RequestProposal: the application built (and so holds
// and considers valid) the block BlockID for Height/Round.
type ProposalBlock struct {
	Height  uint64
	Round   int32
	BlockID BlockID
}

// BlockValidated answers ValidateBlock: the application fetched the block
// BlockID and found it valid or invalid for Height. Send it only once the
// answer is final (a block not yet fetched is not "invalid").
type BlockValidated struct {
	Height  uint64
	BlockID BlockID
	Valid   bool
}

// NewHeight follows a Commit: the set of validators for Height (the
// previously committed height + 1), supplied by the caller (the ledger's
// bonded set after block Height-2, advanced with ValidatorSet.Advance).
type NewHeight struct {
	Height     uint64
	Validators *ValidatorSet
}

func (Timeout) isInput()        {}
func (ProposalBlock) isInput()  {}
func (BlockValidated) isInput() {}
func (NewHeight) isInput()      {}

// Action is what Machine.Step asks its driver to do. Actions must be carried
// out in the order given.
type Action interface {
	isAction()
	String() string
}

// SignAndSend asks the driver to sign Msg (unsigned) and broadcast it. The
// persistence contract, in this order:
//  1. check Msg against the last signed record (SignedRecord.Allows) and drop
//     it if refused;
//  2. write State to the WAL and fsync it (State.LastSigned is Msg's record,
//     and State holds the lock taken together with a precommit);
//  3. sign, broadcast, and step the signed message back into the Machine
//     (the Machine counts its own votes only when they come back signed).
type SignAndSend struct {
	Msg   Message
	State State
}

// ScheduleTimeout asks for Timeout to be stepped in after Duration.
type ScheduleTimeout struct {
	Timeout  Timeout
	Duration time.Duration
}

// RequestProposal asks the application for a block to propose; answer with
// ProposalBlock.
type RequestProposal struct {
	Height uint64
	Round  int32
}

// ValidateBlock asks the application to fetch and validate BlockID; answer
// with BlockValidated.
type ValidateBlock struct {
	Height  uint64
	BlockID BlockID
}

// Commit reports the decision for Height, with the precommits of more than
// 2/3 of stake that justify it (validator order). The driver must persist the
// block and this certificate before it steps in NewHeight for Height+1.
type Commit struct {
	Height     uint64
	Round      int32
	BlockID    BlockID
	Precommits []*Vote
}

// ReportEvidence reports an equivocation seen in the votes; the driver gossips
// it and hands it to the ledger for inclusion in a block.
type ReportEvidence struct {
	Evidence *DuplicateVoteEvidence
}

func (SignAndSend) isAction()     {}
func (ScheduleTimeout) isAction() {}
func (RequestProposal) isAction() {}
func (ValidateBlock) isAction()   {}
func (Commit) isAction()          {}
func (ReportEvidence) isAction()  {}

func (a SignAndSend) String() string { return "sign " + MessageString(a.Msg) }
func (a ScheduleTimeout) String() string {
	return fmt.Sprintf("schedule timeout %d/%d/%s in %v", a.Timeout.Height, a.Timeout.Round, a.Timeout.Step, a.Duration)
}
func (a RequestProposal) String() string {
	return fmt.Sprintf("request proposal %d/%d", a.Height, a.Round)
}
func (a ValidateBlock) String() string {
	return fmt.Sprintf("validate block %d %s", a.Height, a.BlockID)
}
func (a Commit) String() string {
	return fmt.Sprintf("commit %d/%d %s with %d precommits", a.Height, a.Round, a.BlockID, len(a.Precommits))
}
func (a ReportEvidence) String() string {
	e := a.Evidence
	return fmt.Sprintf("evidence %s of %x at %d/%d: %s vs %s", e.VoteA.Type, e.VoteA.Validator[:2], e.VoteA.Height, e.VoteA.Round, e.VoteA.BlockID, e.VoteB.BlockID)
}

// MessageString is a short human form of m (used in logs and golden files).
func MessageString(m Message) string {
	switch m := m.(type) {
	case *Proposal:
		return fmt.Sprintf("proposal %d/%d %s pol=%d by %x", m.Height, m.Round, m.BlockID, m.POLRound, m.Proposer[:2])
	case *Vote:
		return fmt.Sprintf("%s %d/%d %s by %x", m.Type, m.Height, m.Round, m.BlockID, m.Validator[:2])
	}
	return fmt.Sprintf("%T", m)
}
