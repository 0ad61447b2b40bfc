package sim

import (
	"time"

	"github.com/inferd/inferd/consensus"
)

type eventKind uint8

const (
	evDeliver eventKind = iota
	evTimeout
	evGossip
	evCrash
	evRestart
)

// packet is what travels between simulated nodes: a consensus message, a
// status ("I am at height H": peers that committed H answer with its
// certificate), or a certificate (the precommits that committed a height).
type packet struct {
	msg    consensus.Message
	status uint64 // height of the sender
	round  int32  // round of the sender, with status
	cert   []*consensus.Vote
}

type event struct {
	at      time.Duration
	seq     uint64
	kind    eventKind
	node    int
	from    int
	inc     int
	pkt     packet
	timeout consensus.Timeout
}

// eventHeap is a binary min-heap ordered by (at, seq): deterministic order.
// The heap holds small keys; events live in a slab with a free list, so
// sifting moves 24 bytes instead of whole events.
type eventHeap struct {
	keys []hkey
	slab []event
	free []int32
}

type hkey struct {
	at   time.Duration
	seq  uint64
	slot int32
}

func (h *eventHeap) Len() int { return len(h.keys) }

func less(a, b *hkey) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

func (h *eventHeap) push(e event) {
	var slot int32
	if n := len(h.free); n > 0 {
		slot = h.free[n-1]
		h.free = h.free[:n-1]
		h.slab[slot] = e
	} else {
		slot = int32(len(h.slab))
		h.slab = append(h.slab, e)
	}
	h.keys = append(h.keys, hkey{e.at, e.seq, slot})
	i := len(h.keys) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h.keys[i], &h.keys[p]) {
			break
		}
		h.keys[i], h.keys[p] = h.keys[p], h.keys[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	top := h.keys[0]
	last := len(h.keys) - 1
	h.keys[0] = h.keys[last]
	h.keys = h.keys[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && less(&h.keys[l], &h.keys[m]) {
			m = l
		}
		if r < last && less(&h.keys[r], &h.keys[m]) {
			m = r
		}
		if m == i {
			break
		}
		h.keys[i], h.keys[m] = h.keys[m], h.keys[i]
		i = m
	}
	e := h.slab[top.slot]
	h.slab[top.slot] = event{}
	h.free = append(h.free, top.slot)
	return e
}
