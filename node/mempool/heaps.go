package mempool

// tailHeap orders senders by the eviction rank of their last tx, weakest
// first. Senders record their index for heap.Fix and heap.Remove.
type tailHeap []*sender

func (h tailHeap) Len() int           { return len(h) }
func (h tailHeap) Less(i, j int) bool { return rankLess(h[i].key, h[j].key) }
func (h tailHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *tailHeap) Push(x any) {
	s := x.(*sender)
	s.heapIdx = len(*h)
	*h = append(*h, s)
}
func (h *tailHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.heapIdx = -1
	return s
}

// cand is a sender seen as if only its first n txs were left.
type cand struct {
	s   *sender
	n   int
	key rank
}

// candHeap orders eviction candidates, weakest first.
type candHeap []cand

func (h candHeap) Len() int           { return len(h) }
func (h candHeap) Less(i, j int) bool { return rankLess(h[i].key, h[j].key) }
func (h candHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)        { *h = append(*h, x.(cand)) }
func (h *candHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// head is a sender's next ready tx during Reap.
type head struct {
	s *sender
	i int
}

// headHeap orders senders' next ready txs, best first.
type headHeap []head

func (h headHeap) Len() int           { return len(h) }
func (h headHeap) Less(i, j int) bool { return better(h[i].s.txs[h[i].i], h[j].s.txs[h[j].i]) }
func (h headHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *headHeap) Push(x any)        { *h = append(*h, x.(head)) }
func (h *headHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
