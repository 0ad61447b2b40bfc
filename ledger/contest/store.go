package contest

import (
	"encoding/binary"
	"fmt"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Store keys; the layout is documented in doc.go.
const (
	keyNextID     = "contest/next_id"
	contestPrefix = "contest/c/"
	livePrefix    = "contest/live/"
	seqPrefix     = "contest/seq/"
	roundPrefix   = "contest/round/"
	subPrefix     = "contest/sub/"
	hashPrefix    = "contest/hash/"
	ownerPrefix   = "contest/owner/"
	attPrefix     = "contest/att/"
	agreedPrefix  = "contest/agreed/"
	perSenderPfx  = "contest/nsub/"
	digestPrefix  = "contest/digest/"
)

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cat(prefix string, parts ...[]byte) []byte {
	out := []byte(prefix)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func contestKey(id uint64) []byte          { return cat(contestPrefix, u64(id)) }
func liveKey(id uint64) []byte             { return cat(livePrefix, u64(id)) }
func seqKey(id uint64) []byte              { return cat(seqPrefix, u64(id)) }
func roundKey(id, r uint64) []byte         { return cat(roundPrefix, u64(id), u64(r)) }
func subKey(id, r uint64, i uint32) []byte { return cat(subPrefix, u64(id), u64(r), u32(i)) }
func subsOf(id, r uint64) []byte           { return cat(subPrefix, u64(id), u64(r)) }
func hashKey(id, r uint64, sender keys.Address, h []byte) []byte {
	return cat(hashPrefix, u64(id), u64(r), sender[:], h)
}
func ownerKeyOf(id uint64, mh []byte) []byte     { return cat(ownerPrefix, u64(id), mh) }
func digestKeyOf(id uint64, d []byte) []byte     { return cat(digestPrefix, u64(id), d) }
func attKey(id, r uint64, v keys.Address) []byte { return cat(attPrefix, u64(id), u64(r), v[:]) }
func attsOf(id, r uint64) []byte                 { return cat(attPrefix, u64(id), u64(r)) }
func agreedKey(id, r uint64, i uint32) []byte    { return cat(agreedPrefix, u64(id), u64(r), u32(i)) }
func agreedOf(id uint64) []byte                  { return cat(agreedPrefix, u64(id)) }
func perSenderKey(id, r uint64, a keys.Address) []byte {
	return cat(perSenderPfx, u64(id), u64(r), a[:])
}

// PoolName is the bank pool (and emission live-module name) of contest id.
func PoolName(id uint64) string { return fmt.Sprintf("contest-%d", id) }

// DepositPoolName is the bank pool holding contest id's commit deposits
// (not an emission pool: the gauge never names it).
func DepositPoolName(id uint64) string { return fmt.Sprintf("contest-%d-deposits", id) }

// Contest statuses.
const (
	StatusLive    = "live"
	StatusRetired = "retired"
)

// record is a contest as stored.
type record struct {
	_               struct{} `cbor:",toarray"`
	ID              uint64
	Spec            Spec
	Status          string
	CreatedHeight   uint64
	StartHeight     uint64 // first block of round 1
	RetiredHeight   uint64
	Best            int64 // baseline until a breakthrough
	BestBuilder     keys.Address
	BestModel       string
	CarryBuilders   uint64   // builders' share rolled over
	CarryValidators uint64   // validators' share nobody earned, rolled over
	DatasetCIDs     []string // per spec dataset: its CID (sealed: once revealed)
	LastClosed      uint64   // last round closed
	Burned          uint64   // pool burned at retirement
	LastResult      *RoundResult
}

// liveEntry is the value of contest/live/<id>: what end-block needs to
// know, without decoding the spec every block.
type liveEntry struct {
	_        struct{} `cbor:",toarray"`
	Start    uint64
	Schedule Schedule
}

// owner records who first committed a model (by multihash) in a contest.
type owner struct {
	_       struct{} `cbor:",toarray"`
	Builder keys.Address
	Seq     uint64 // commit sequence of the owning submission
	Round   uint64
	Index   uint32
}

// roundState is a round's bookkeeping.
type roundState struct {
	_           struct{} `cbor:",toarray"`
	Submissions uint32   // commits so far
	Frozen      bool     // the reveal window closed: Scored and Set are final
	Scored      []uint32 // revealed, non-copy submissions: the attestation vector's order
	Set         []Member // the validator set frozen with its stake, by operator address
	SetStake    uint64
	Closed      bool
}

func (m *Module) getRecord(ctx *ledger.Context, id uint64) (record, error) {
	var r record
	if !ctx.GetObj(contestKey(id), &r) {
		return r, fmt.Errorf("%w: no contest %d", ErrUnknownContest, id)
	}
	return r, nil
}

func setRecord(ctx *ledger.Context, r *record) { ctx.SetObj(contestKey(r.ID), r) }

func getRound(ctx *ledger.Context, id, r uint64) roundState {
	var rs roundState
	ctx.GetObj(roundKey(id, r), &rs)
	return rs
}

func setRound(ctx *ledger.Context, id, r uint64, rs *roundState) { ctx.SetObj(roundKey(id, r), rs) }

// nextCounter returns the counter at key (starting at 1) and advances it.
func nextCounter(ctx *ledger.Context, key []byte) uint64 {
	v := ctx.GetU64(key)
	if v == 0 {
		v = 1
	}
	ctx.Set(key, u64(v+1))
	return v
}

func getSub(ctx *ledger.Context, id, r uint64, i uint32) (Submission, bool) {
	var s Submission
	ok := ctx.GetObj(subKey(id, r, i), &s)
	return s, ok
}

func setSub(ctx *ledger.Context, s *Submission) { ctx.SetObj(subKey(s.Contest, s.Round, s.Index), s) }

// submissions lists a round's submissions by index.
func submissions(ctx *ledger.Context, id, r uint64) []Submission {
	var out []Submission
	ctx.Iterate(subsOf(id, r), func(_, raw []byte) bool {
		var s Submission
		mustDecode(raw, &s)
		out = append(out, s)
		return true
	})
	return out
}

// attestations lists a round's attestations by validator address.
func attestations(ctx *ledger.Context, id, r uint64) []Attestation {
	var out []Attestation
	ctx.Iterate(attsOf(id, r), func(_, raw []byte) bool {
		var a Attestation
		mustDecode(raw, &a)
		out = append(out, a)
		return true
	})
	return out
}

func mustDecode(raw []byte, v any) {
	if err := ledger.DecodeStored(raw, v); err != nil {
		panic(fmt.Sprintf("contest: corrupt record %T: %v", v, err))
	}
}
