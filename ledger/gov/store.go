package gov

import (
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Store keys; the layout is documented in doc.go.
var (
	keyParams     = []byte("gov/params")
	keyNextID     = []byte("gov/next_id")
	propPrefix    = "gov/prop/"
	depQPrefix    = "gov/dq/"
	voteQPrefix   = "gov/vq/"
	depositPrefix = "gov/dep/"
	votePrefix    = "gov/vote/"
)

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// timeKey encodes unix ns so that byte order is time order, negative times
// included (the sign bit is flipped).
func timeKey(t int64) []byte { return u64(uint64(t) ^ (1 << 63)) }

func keyTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func cat(prefix string, parts ...[]byte) []byte {
	out := []byte(prefix)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func propKey(id uint64) []byte                            { return cat(propPrefix, u64(id)) }
func depQKey(end int64, id uint64) []byte                 { return cat(depQPrefix, timeKey(end), u64(id)) }
func voteQKey(end int64, id uint64) []byte                { return cat(voteQPrefix, timeKey(end), u64(id)) }
func depositKey(id uint64, a keys.Address) []byte         { return cat(depositPrefix, u64(id), a[:]) }
func voteKey(id uint64, a keys.Address) []byte            { return cat(votePrefix, u64(id), a[:]) }
func depositsOf(id uint64) []byte                         { return cat(depositPrefix, u64(id)) }
func votesOf(id uint64) []byte                            { return cat(votePrefix, u64(id)) }
func addrSuffix(k []byte, prefixLen int) (a keys.Address) { copy(a[:], k[prefixLen:]); return a }

func (*Module) getProposal(ctx *ledger.Context, id uint64) (Proposal, error) {
	var p Proposal
	if !ctx.GetObj(propKey(id), &p) {
		return Proposal{}, fmt.Errorf("%w: no proposal %d", ErrUnknownProposal, id)
	}
	return p, nil
}

func (*Module) setProposal(ctx *ledger.Context, p *Proposal) { ctx.SetObj(propKey(p.ID), p) }

// nextID allocates a proposal id; ids start at 1.
func nextID(ctx *ledger.Context) uint64 {
	id := ctx.GetU64(keyNextID)
	if id == 0 {
		id = 1
	}
	ctx.Set(keyNextID, u64(id+1))
	return id
}

// addDeposit records amt more from depositor on proposal id.
func addDeposit(ctx *ledger.Context, id uint64, depositor keys.Address, amt uint64) error {
	k := depositKey(id, depositor)
	v, err := ledger.Add(ctx.GetU64(k), amt)
	if err != nil {
		return err
	}
	ctx.Set(k, u64(v))
	return nil
}

// deposits lists a proposal's deposits by depositor address.
func deposits(ctx *ledger.Context, id uint64) []Deposit {
	var out []Deposit
	p := depositsOf(id)
	ctx.Iterate(p, func(k, v []byte) bool {
		out = append(out, Deposit{ProposalID: id, Depositor: addrSuffix(k, len(p)), Amount: binary.BigEndian.Uint64(v)})
		return true
	})
	return out
}

// votes lists a proposal's votes by voter address.
func votes(ctx *ledger.Context, id uint64) []Vote {
	var out []Vote
	p := votesOf(id)
	ctx.Iterate(p, func(k, v []byte) bool {
		out = append(out, Vote{ProposalID: id, Voter: addrSuffix(k, len(p)), Option: VoteOption(v[0])})
		return true
	})
	return out
}

// due lists the ids queued under prefix whose time is <= now, in time then
// id order.
func due(ctx *ledger.Context, prefix string, now int64) []uint64 {
	var ids []uint64
	ctx.Iterate([]byte(prefix), func(k, _ []byte) bool {
		rest := k[len(prefix):]
		if keyTime(rest[:8]) > now {
			return false
		}
		ids = append(ids, binary.BigEndian.Uint64(rest[8:16]))
		return true
	})
	return ids
}

// endTime is now + seconds, saturating (params bound seconds to 10 years).
func endTime(now int64, seconds uint64) int64 {
	d := int64(seconds) * 1_000_000_000
	if now > (1<<63-1)-d {
		return 1<<63 - 1
	}
	return now + d
}
