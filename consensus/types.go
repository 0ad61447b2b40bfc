package consensus

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
)

// BlockID is the opaque 32-byte hash of a block. The engine agrees on IDs;
// fetching and validating the block behind an ID is the caller's job. The
// all-zero ID is reserved for nil (a vote for no block).
type BlockID [32]byte

// NilBlock is the nil vote's block ID.
var NilBlock BlockID

// IsNil reports whether id is the nil ID.
func (id BlockID) IsNil() bool { return id == BlockID{} }

// String is a short hex prefix, or "nil".
func (id BlockID) String() string {
	if id.IsNil() {
		return "nil"
	}
	return hex.EncodeToString(id[:4])
}

// VoteType distinguishes the two voting steps.
type VoteType uint8

// Vote types. Their values are part of the signed encoding.
const (
	Prevote   VoteType = 1
	Precommit VoteType = 2
)

func (t VoteType) String() string {
	switch t {
	case Prevote:
		return "prevote"
	case Precommit:
		return "precommit"
	}
	return fmt.Sprintf("votetype(%d)", uint8(t))
}

// Step is a step of a round. The order matters: propose < prevote < precommit.
type Step uint8

// Steps of a round.
const (
	StepPropose   Step = 1
	StepPrevote   Step = 2
	StepPrecommit Step = 3
)

func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// stepOf maps a vote type to the step in which it is signed.
func stepOf(t VoteType) Step {
	if t == Prevote {
		return StepPrevote
	}
	return StepPrecommit
}

// MaxRound bounds rounds in messages. At the default timeouts a round lasts
// seconds, so 2^20 rounds is weeks without a decision; anything above is
// malformed.
const MaxRound = 1 << 20

// Errors returned for malformed or unacceptable messages. A caller that gets
// ErrMalformed or ErrBadSignature from a peer's message should penalise the
// peer; the others are expected in normal operation (late or early messages).
var (
	ErrMalformed        = errors.New("consensus: malformed message")
	ErrBadSignature     = errors.New("consensus: bad signature")
	ErrUnknownValidator = errors.New("consensus: signer is not in the validator set")
	ErrWrongProposer    = errors.New("consensus: proposal from a validator that is not the round's proposer")
	ErrOldHeight        = errors.New("consensus: message for a past height")
	ErrFutureHeight     = errors.New("consensus: message for a height too far ahead")
	ErrRoundTooFar      = errors.New("consensus: message for a round too far ahead")
	ErrBufferFull       = errors.New("consensus: next-height buffer full")
)

const sigLen = ed25519.SignatureSize

// Proposal proposes BlockID for (Height, Round). POLRound is the round of the
// proof-of-lock (prevotes of more than 2/3 of stake for BlockID) that lets
// locked validators accept it, or -1.
type Proposal struct {
	_         struct{} `cbor:",toarray"`
	Height    uint64
	Round     int32
	POLRound  int32
	BlockID   BlockID
	Proposer  keys.Address
	Signature []byte
}

// Vote is a prevote or a precommit for BlockID (nil when zero).
type Vote struct {
	_         struct{} `cbor:",toarray"`
	Type      VoteType
	Height    uint64
	Round     int32
	BlockID   BlockID
	Validator keys.Address
	Signature []byte
}

// Message is a *Proposal or a *Vote. It is also an Input of the Machine.
type Message interface {
	Input
	// ValidateBasic checks the fields that need no context.
	ValidateBasic() error
	// SignBytes is the payload given to keys.Sign (without chain id and domain).
	SignBytes() []byte
	// Domain is the signing domain (keys.DomainProposal or keys.DomainVote).
	Domain() string
	// Signer is the address whose key must have signed the message.
	Signer() keys.Address
	// HRS is the message's height, round and step.
	HRS() (uint64, int32, Step)
	// SetSignature stores sig.
	SetSignature(sig []byte)
	isMessage()
}

func (*Proposal) isInput()   {}
func (*Vote) isInput()       {}
func (*Proposal) isMessage() {}
func (*Vote) isMessage()     {}

// ValidateBasic implements Message.
func (p *Proposal) ValidateBasic() error {
	switch {
	case p.Height == 0:
		return fmt.Errorf("%w: proposal height 0", ErrMalformed)
	case p.Round < 0 || p.Round > MaxRound:
		return fmt.Errorf("%w: proposal round %d", ErrMalformed, p.Round)
	case p.POLRound < -1 || p.POLRound >= p.Round:
		return fmt.Errorf("%w: proposal POL round %d in round %d", ErrMalformed, p.POLRound, p.Round)
	case p.BlockID.IsNil():
		return fmt.Errorf("%w: proposal of the nil block", ErrMalformed)
	case len(p.Signature) != sigLen:
		return fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(p.Signature))
	}
	return nil
}

// ValidateBasic implements Message.
func (v *Vote) ValidateBasic() error {
	switch {
	case v.Type != Prevote && v.Type != Precommit:
		return fmt.Errorf("%w: vote type %d", ErrMalformed, v.Type)
	case v.Height == 0:
		return fmt.Errorf("%w: vote height 0", ErrMalformed)
	case v.Round < 0 || v.Round > MaxRound:
		return fmt.Errorf("%w: vote round %d", ErrMalformed, v.Round)
	case len(v.Signature) != sigLen:
		return fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(v.Signature))
	}
	return nil
}

type proposalSignDoc struct {
	_        struct{} `cbor:",toarray"`
	Height   uint64
	Round    int32
	Step     Step
	BlockID  BlockID
	POLRound int32
}

type voteSignDoc struct {
	_       struct{} `cbor:",toarray"`
	Height  uint64
	Round   int32
	Step    Step
	BlockID BlockID
}

// SignBytes is the canonical CBOR of [height, round, step, block id, pol round].
func (p *Proposal) SignBytes() []byte {
	return codec.MustMarshal(proposalSignDoc{Height: p.Height, Round: p.Round, Step: StepPropose, BlockID: p.BlockID, POLRound: p.POLRound})
}

// SignBytes is the canonical CBOR of [height, round, step, block id]; the
// step (2 or 3) is the vote type.
func (v *Vote) SignBytes() []byte {
	return codec.MustMarshal(voteSignDoc{Height: v.Height, Round: v.Round, Step: stepOf(v.Type), BlockID: v.BlockID})
}

// Domain implements Message.
func (*Proposal) Domain() string { return keys.DomainProposal }

// Domain implements Message.
func (*Vote) Domain() string { return keys.DomainVote }

// Signer implements Message.
func (p *Proposal) Signer() keys.Address { return p.Proposer }

// Signer implements Message.
func (v *Vote) Signer() keys.Address { return v.Validator }

// HRS implements Message.
func (p *Proposal) HRS() (uint64, int32, Step) { return p.Height, p.Round, StepPropose }

// HRS implements Message.
func (v *Vote) HRS() (uint64, int32, Step) { return v.Height, v.Round, stepOf(v.Type) }

// SetSignature implements Message.
func (p *Proposal) SetSignature(sig []byte) { p.Signature = sig }

// SetSignature implements Message.
func (v *Vote) SetSignature(sig []byte) { v.Signature = sig }

// Sign signs m with priv for chainID and stores the signature in m. It is a
// helper for the caller (the node's signer); the Machine never signs.
func Sign(priv keys.PrivKey, chainID string, m Message) {
	m.SetSignature(keys.Sign(priv, chainID, m.Domain(), m.SignBytes()))
}

// VerifySignature checks m's signature against pub, after ValidateBasic.
func VerifySignature(chainID string, pub keys.PubKey, m Message) error {
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	if keys.AddressOf(pub) != m.Signer() {
		return fmt.Errorf("%w: key does not match signer %s", ErrBadSignature, m.Signer())
	}
	sig := signatureOf(m)
	if !keys.Verify(pub, chainID, m.Domain(), m.SignBytes(), sig) {
		return ErrBadSignature
	}
	return nil
}

func signatureOf(m Message) []byte {
	switch m := m.(type) {
	case *Proposal:
		return m.Signature
	case *Vote:
		return m.Signature
	}
	return nil
}

// Verify checks everything about m that does not depend on the Machine's
// state: its form, that its signer is in vals (and, for a proposal of round
// at most MaxRoundsAhead, that it is the proposer of its round: computing
// the proposer of round r costs r increments of the set, so higher rounds
// are left to Machine.Step, which checks every proposal), and its
// signature. vals must be the set of m's height. Call it before
// Machine.Step, on any goroutine.
func Verify(chainID string, vals *ValidatorSet, m Message) error {
	if err := m.ValidateBasic(); err != nil {
		return err
	}
	idx, ok := vals.Index(m.Signer())
	if !ok {
		return ErrUnknownValidator
	}
	if p, isProp := m.(*Proposal); isProp && p.Round <= MaxRoundsAhead {
		if vals.ProposerIndex(p.Round) != idx {
			return ErrWrongProposer
		}
	}
	return VerifySignature(chainID, vals.Validator(idx).PubKey, m)
}

// Wire kinds: the first byte of an encoded message.
const (
	kindProposal byte = 1
	kindVote     byte = 2
)

// EncodeMessage is the wire form: one kind byte, then the canonical CBOR.
func EncodeMessage(m Message) []byte {
	switch m := m.(type) {
	case *Proposal:
		return append([]byte{kindProposal}, codec.MustMarshal(m)...)
	case *Vote:
		return append([]byte{kindVote}, codec.MustMarshal(m)...)
	}
	panic(fmt.Sprintf("consensus: unknown message type %T", m))
}

// DecodeMessage parses the wire form and runs ValidateBasic. It never panics
// on any input; non-canonical encodings are rejected.
func DecodeMessage(b []byte) (Message, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	var m Message
	switch b[0] {
	case kindProposal:
		m = new(Proposal)
	case kindVote:
		m = new(Vote)
	default:
		return nil, fmt.Errorf("%w: kind %d", ErrMalformed, b[0])
	}
	if err := codec.Unmarshal(b[1:], m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := m.ValidateBasic(); err != nil {
		return nil, err
	}
	return m, nil
}
