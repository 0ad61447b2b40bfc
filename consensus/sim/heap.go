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
type eventHeap struct{ es []event }

func (h *eventHeap) Len() int { return len(h.es) }

func less(a, b *event) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

func (h *eventHeap) push(e event) {
	h.es = append(h.es, e)
	i := len(h.es) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h.es[i], &h.es[p]) {
			break
		}
		h.es[i], h.es[p] = h.es[p], h.es[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	top := h.es[0]
	last := len(h.es) - 1
	h.es[0] = h.es[last]
	h.es[last] = event{}
	h.es = h.es[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && less(&h.es[l], &h.es[m]) {
			m = l
		}
		if r < last && less(&h.es[r], &h.es[m]) {
			m = r
		}
		if m == i {
			break
		}
		h.es[i], h.es[m] = h.es[m], h.es[i]
		i = m
	}
	return top
}
