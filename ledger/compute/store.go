package compute

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Store keys, all under "compute/" (see the package documentation).
var (
	keyParams     = []byte("compute/params")
	keyEpoch      = []byte("compute/epoch")
	keyNextJob    = []byte("compute/next_job")
	keyOpenLow    = []byte("compute/jlow")    // no open job has a lower id
	keyOpenCursor = []byte("compute/jcursor") // where a cut-short scan resumes
	keyBonded     = []byte("compute/tot/bonded")
	keyUnbonding  = []byte("compute/tot/unbonding")
	keyEscrow     = []byte("compute/tot/escrowed")
)

const (
	provPrefix  = "compute/prov/"
	availPrefix = "compute/avail/"
	roundPrefix = "compute/round/"
	attPrefix   = "compute/att/"
	jobPrefix   = "compute/job/"
	openPrefix  = "compute/jopen/"
	dlPrefix    = "compute/jdl/"
	drawPrefix  = "compute/jdraw/"
	jprovPrefix = "compute/jprov/"
	rxqPrefix   = "compute/jrx/"
	rxPrefix    = "compute/rx/"
	ubdPrefix   = "compute/ubd/"
)

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func cat(prefix string, parts ...[]byte) []byte {
	out := []byte(prefix)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// addTotal and subTotal keep the running totals Holdings reports. They
// move with every bond, unbonding and escrow change, so Holdings is O(1);
// tests recount them from the records.
func addTotal(ctx *ledger.Context, key []byte, amt uint64) error {
	v, err := ledger.Add(ctx.GetU64(key), amt)
	if err != nil {
		return err
	}
	ctx.SetU64(key, v)
	return nil
}

func subTotal(ctx *ledger.Context, key []byte, amt uint64) {
	v := ctx.GetU64(key)
	if amt > v {
		panic("compute: running total below zero: " + string(key)) // a bookkeeping bug
	}
	ctx.SetU64(key, v-amt)
}

// Providers.

func provKey(a keys.Address) []byte { return cat(provPrefix, a[:]) }

func (*Module) provider(ctx *ledger.Context, a keys.Address) (Provider, bool) {
	var p Provider
	ok := ctx.GetObj(provKey(a), &p)
	return p, ok
}

// availKey orders live providers with free capacity for assignment:
// cheapest first, then most epochs passed (uptime), then address.
func availKey(p *Provider) []byte {
	return cat(availPrefix, u64(p.Price), u64(^p.Uptime), p.Address[:])
}

func available(p *Provider) bool { return p.Live() && p.ActiveJobs < p.Capacity }

// putProvider writes p and keeps the assignment index in step with it.
func (m *Module) putProvider(ctx *ledger.Context, p Provider) {
	if old, ok := m.provider(ctx, p.Address); ok && available(&old) {
		ctx.Delete(availKey(&old))
	}
	if available(&p) {
		ctx.Set(availKey(&p), []byte{1})
	}
	ctx.SetObj(provKey(p.Address), p)
}

func (m *Module) deleteProvider(ctx *ledger.Context, a keys.Address) {
	if old, ok := m.provider(ctx, a); ok && available(&old) {
		ctx.Delete(availKey(&old))
	}
	ctx.Delete(provKey(a))
}

// Epochs and rounds.

func (*Module) epoch(ctx *ledger.Context) (Epoch, bool) {
	var e Epoch
	ok := ctx.GetObj(keyEpoch, &e)
	return e, ok
}

func roundKey(epoch uint64, a keys.Address) []byte { return cat(roundPrefix, u64(epoch), a[:]) }

func attKey(epoch uint64, prov, val keys.Address) []byte {
	return cat(attPrefix, u64(epoch), prov[:], val[:])
}

// Jobs.

func jobKey(id uint64) []byte         { return cat(jobPrefix, u64(id)) }
func openKey(id uint64) []byte        { return cat(openPrefix, u64(id)) }
func dlKey(height, id uint64) []byte  { return cat(dlPrefix, u64(height), u64(id)) }
func rxqKey(height, id uint64) []byte { return cat(rxqPrefix, u64(height), u64(id)) }
func jprovKey(a keys.Address, id uint64) []byte {
	return cat(jprovPrefix, a[:], u64(id))
}
func drawKey(height, id uint64) []byte       { return cat(drawPrefix, u64(height), u64(id)) }
func rxKey(id uint64, v keys.Address) []byte { return cat(rxPrefix, u64(id), v[:]) }

func (*Module) job(ctx *ledger.Context, id uint64) (Job, bool) {
	var j Job
	ok := ctx.GetObj(jobKey(id), &j)
	return j, ok
}

func (*Module) putJob(ctx *ledger.Context, j Job) { ctx.SetObj(jobKey(j.ID), j) }

// idsAt lists the ids queued under prefix/<height>/ in id order.
func idsAt(ctx *ledger.Context, prefix string, height uint64) []uint64 {
	var ids []uint64
	p := cat(prefix, u64(height))
	ctx.Iterate(p, func(k, _ []byte) bool {
		if len(k) == len(p)+8 {
			ids = append(ids, binary.BigEndian.Uint64(k[len(p):]))
		}
		return true
	})
	return ids
}

// blockSeed is a 32-byte seed from the block's beacon as begin-block saw
// it. A beacon value is 32 bytes and used as it is; anything else (none,
// in tests that build BlockInfo by hand) is hashed with the height, so
// every height still has its own seed.
func blockSeed(height uint64, hash []byte) [32]byte {
	if len(hash) == 32 {
		return [32]byte(hash)
	}
	h := sha256.New()
	h.Write([]byte("inferd/compute/v1/blockseed"))
	h.Write(u64(height))
	h.Write(hash)
	var out [32]byte
	h.Sum(out[:0])
	return out
}
