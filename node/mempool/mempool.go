package mempool

import (
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// Errors returned by Add. ErrFull, ErrTooManyPending and
// ErrFeeTooLowToReplace are normal under load (tell the submitter to retry
// or pay more); ErrInvalid means the caller passed something Add cannot use.
var (
	ErrFull               = errors.New("mempool: full, and the tx does not outrank the txs it would evict")
	ErrDuplicate          = errors.New("mempool: tx already in the mempool")
	ErrNonceTooLow        = errors.New("mempool: nonce below the account's nonce")
	ErrFeeTooLowToReplace = errors.New("mempool: a tx with this nonce is pending; a replacement must pay a higher fee")
	ErrTooManyPending     = errors.New("mempool: nonce too far ahead of the account's nonce")
	ErrTooLarge           = errors.New("mempool: tx too large")
	ErrInvalid            = errors.New("mempool: invalid tx")
)

// Config sets the limits. Zero fields take the defaults.
type Config struct {
	MaxTxs   int // txs held at most (default 20,000)
	MaxBytes int // total encoded bytes held at most (default 64 MiB)
	// MaxPerSender bounds how far ahead of the account's nonce a tx may be:
	// nonces account..account+MaxPerSender-1 are accepted (default 64). It
	// also bounds the txs held per sender.
	MaxPerSender int
	// Recheck, if set, is run by Update on every remaining tx (senders in
	// address order, each in nonce order); a tx it refuses is removed with
	// the same sender's later txs. Use it for checks against the new state,
	// such as whether the sender can still pay the fee.
	Recheck func(tx *ledger.Tx) error
	// FullRecheckEvery, if above 1, makes the recheck incremental: Update
	// runs Recheck on every tx only every FullRecheckEvery-th call, and in
	// between only on the txs of the senders of the committed block. Use
	// it when the property Recheck checks can change between full passes
	// only for accounts that sent a tx in the block (a balance that only
	// the account's own txs lower). 0 or 1: every Update rechecks all.
	FullRecheckEvery int
}

// Defaults for Config.
const (
	DefaultMaxTxs       = 20_000
	DefaultMaxBytes     = 64 << 20
	DefaultMaxPerSender = 64
)

// Mempool is the pool; see the package comment.
type Mempool struct {
	mu      sync.Mutex
	cfg     Config
	byHash  map[ledger.TxHash]*entry
	senders map[keys.Address]*sender
	tails   tailHeap // senders by eviction rank, weakest first
	count   int
	bytes   int
	seq     uint64
	avail   chan struct{} // see TxsAvailable
	updates uint64        // Update calls, for FullRecheckEvery
	dropped droppedLog    // why admitted txs left uncommitted (dropped.go)
}

type entry struct {
	hash   ledger.TxHash
	raw    []byte
	tx     *ledger.Tx
	sender *sender
	nonce  uint64
	fee    uint64
	size   int
	seq    uint64 // arrival order
}

type sender struct {
	addr    keys.Address
	next    uint64   // the account's nonce as last known
	txs     []*entry // ascending nonce
	ready   int      // txs[:ready] continue next without a gap
	key     rank     // rank of the whole queue (its last tx)
	heapIdx int      // in Mempool.tails, or -1
}

// New returns an empty mempool.
func New(cfg Config) *Mempool {
	if cfg.MaxTxs <= 0 {
		cfg.MaxTxs = DefaultMaxTxs
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxPerSender <= 0 {
		cfg.MaxPerSender = DefaultMaxPerSender
	}
	return &Mempool{cfg: cfg, byHash: map[ledger.TxHash]*entry{}, senders: map[keys.Address]*sender{}, avail: make(chan struct{}, 1)}
}

// cmpPrio compares fee per byte exactly: fa/sa vs fb/sb.
func cmpPrio(fa uint64, sa int, fb uint64, sb int) int {
	return ledger.CompareProducts(fa, uint64(sb), fb, uint64(sa))
}

// better reports whether a goes into a block before b.
func better(a, b *entry) bool {
	if c := cmpPrio(a.fee, a.size, b.fee, b.size); c != 0 {
		return c > 0
	}
	return a.seq < b.seq
}

// rank orders txs for eviction: lower ranks go first.
type rank struct {
	ready bool   // the tx is ready
	fee   uint64 // the weakest priority among the sender's txs up to it
	size  int
	seq   uint64 // the tx's own arrival; of equals the newest goes first
}

func rankLess(a, b rank) bool {
	if a.ready != b.ready {
		return !a.ready
	}
	if c := cmpPrio(a.fee, a.size, b.fee, b.size); c != 0 {
		return c < 0
	}
	return a.seq > b.seq
}

// rankOf is the rank of txs[n-1] of s (the last of its first n).
func rankOf(s *sender, n int) rank {
	weak := s.txs[0]
	for _, e := range s.txs[1:n] {
		if cmpPrio(e.fee, e.size, weak.fee, weak.size) < 0 {
			weak = e
		}
	}
	return rank{ready: s.ready >= n, fee: weak.fee, size: weak.size, seq: s.txs[n-1].seq}
}

// Add admits a decoded tx whose signature the caller has verified.
// accountNonce is the sender's nonce in the latest committed state; pooled
// txs of the sender below it are dropped.
func (m *Mempool) Add(raw []byte, tx *ledger.Tx, accountNonce uint64) error {
	if tx == nil || len(raw) == 0 {
		return fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(raw) > ledger.MaxTxBytes || len(raw) > m.cfg.MaxBytes {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(raw))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h := ledger.HashTx(raw)
	if _, dup := m.byHash[h]; dup {
		return fmt.Errorf("%w: %x", ErrDuplicate, h[:8])
	}
	b := &tx.Body
	s := m.senders[b.Sender]
	if s == nil {
		s = &sender{addr: b.Sender, next: accountNonce, heapIdx: -1}
		m.senders[b.Sender] = s
	}
	defer m.fix(s) // drops s again if it ends up empty
	if accountNonce > s.next {
		s.next = accountNonce
		m.dropBelow(s)
		m.senders[b.Sender] = s // dropBelow forgets s if it emptied it
	}
	switch {
	case b.Nonce < s.next:
		return fmt.Errorf("%w: nonce %d, account %s is at %d", ErrNonceTooLow, b.Nonce, b.Sender, s.next)
	case b.Nonce-s.next >= uint64(m.cfg.MaxPerSender):
		return fmt.Errorf("%w: nonce %d, account %s is at %d; at most %d ahead", ErrTooManyPending, b.Nonce, b.Sender, s.next, m.cfg.MaxPerSender)
	}
	e := &entry{hash: h, raw: raw, tx: tx, sender: s, nonce: b.Nonce, fee: b.Fee, size: len(raw), seq: m.seq}
	i := sort.Search(len(s.txs), func(i int) bool { return s.txs[i].nonce >= e.nonce })
	var old *entry
	if i < len(s.txs) && s.txs[i].nonce == e.nonce {
		old = s.txs[i]
		if e.fee <= old.fee {
			return fmt.Errorf("%w: nonce %d of %s pays %d, offered %d", ErrFeeTooLowToReplace, e.nonce, b.Sender, old.fee, e.fee)
		}
	}
	// Rank of the new tx once in place: stage it, measure, unstage.
	m.place(s, i, old, e)
	newRank := rankOf(s, i+1)
	m.place(s, i, e, old)
	addCount, addBytes := 1, e.size
	if old != nil {
		addCount, addBytes = 0, e.size-old.size
	}
	victims, ok := m.makeRoom(newRank, s, addCount, addBytes)
	if !ok {
		return fmt.Errorf("%w: %d txs, %d bytes held", ErrFull, m.count, m.bytes)
	}
	for _, v := range victims {
		m.drop(v, ReasonEvicted)
	}
	m.seq++
	if old != nil {
		delete(m.byHash, old.hash)
		m.count--
		m.bytes -= old.size
		m.dropped.add(old.hash, reasonReplaced(h))
	}
	m.dropped.forget(h)
	m.place(s, i, old, e)
	m.byHash[h] = e
	m.count++
	m.bytes += e.size
	select {
	case m.avail <- struct{}{}:
	default: // a signal is already pending
	}
	return nil
}

// TxsAvailable returns a channel that receives a value after Add admits a
// tx (one pending value stands for any number of admissions). The
// consensus engine waits on it when it does not make empty blocks; it is
// meant for one reader, which then asks HasReady.
func (m *Mempool) TxsAvailable() <-chan struct{} { return m.avail }

// HasReady reports whether Reap would return at least one tx: some sender
// has a tx at its account's nonce.
func (m *Mempool) HasReady() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.senders {
		if s.ready > 0 {
			return true
		}
	}
	return false
}

// place puts e at index i of s (replacing out when non-nil, inserting
// otherwise; e nil removes out) and recomputes the ready prefix.
func (m *Mempool) place(s *sender, i int, out, e *entry) {
	switch {
	case out != nil && e != nil:
		s.txs[i] = e
	case e != nil:
		s.txs = append(s.txs, nil)
		copy(s.txs[i+1:], s.txs[i:])
		s.txs[i] = e
	case out != nil:
		s.txs = append(s.txs[:i], s.txs[i+1:]...)
	}
	s.ready = 0
	for s.ready < len(s.txs) && s.txs[s.ready].nonce == s.next+uint64(s.ready) {
		s.ready++
	}
}

// makeRoom finds the txs to evict so that adding addCount txs and addBytes
// bytes fits the limits, each ranked strictly below r and none of excl's.
// It changes nothing; ok is false if no such set exists.
func (m *Mempool) makeRoom(r rank, excl *sender, addCount, addBytes int) (victims []*entry, ok bool) {
	needCount := m.count + addCount - m.cfg.MaxTxs
	needBytes := m.bytes + addBytes - m.cfg.MaxBytes
	if needCount <= 0 && needBytes <= 0 {
		return nil, true
	}
	if excl.heapIdx >= 0 {
		heap.Remove(&m.tails, excl.heapIdx)
		defer heap.Push(&m.tails, excl)
	}
	// Senders are popped from the heap while simulating, then pushed back.
	var popped []*sender
	defer func() {
		for _, s := range popped {
			heap.Push(&m.tails, s)
		}
	}()
	var cands candHeap // (sender, virtual length) in eviction order
	for needCount > 0 || needBytes > 0 {
		if m.tails.Len() > 0 && (len(cands) == 0 || rankLess(m.tails[0].key, cands[0].key)) {
			s := heap.Pop(&m.tails).(*sender)
			popped = append(popped, s)
			heap.Push(&cands, cand{s: s, n: len(s.txs), key: s.key})
			continue
		}
		if len(cands) == 0 {
			return nil, false
		}
		c := heap.Pop(&cands).(cand)
		if !rankLess(c.key, r) {
			return nil, false
		}
		v := c.s.txs[c.n-1]
		victims = append(victims, v)
		needCount--
		needBytes -= v.size
		if c.n > 1 {
			heap.Push(&cands, cand{s: c.s, n: c.n - 1, key: rankOf(c.s, c.n-1)})
		}
	}
	return victims, true
}

// remove takes e out of the pool.
func (m *Mempool) remove(e *entry) {
	s := e.sender
	i := sort.Search(len(s.txs), func(i int) bool { return s.txs[i].nonce >= e.nonce })
	if i == len(s.txs) || s.txs[i] != e {
		panic("mempool: entry not in its sender's queue")
	}
	m.place(s, i, e, nil)
	delete(m.byHash, e.hash)
	m.count--
	m.bytes -= e.size
	m.fix(s)
}

// dropBelow removes s's txs with nonces below s.next.
func (m *Mempool) dropBelow(s *sender) {
	for len(s.txs) > 0 && s.txs[0].nonce < s.next {
		m.drop(s.txs[0], ReasonNonce)
	}
	m.place(s, 0, nil, nil)
}

// fix updates s's place in the eviction heap, or forgets s when empty.
func (m *Mempool) fix(s *sender) {
	if len(s.txs) == 0 {
		if s.heapIdx >= 0 {
			heap.Remove(&m.tails, s.heapIdx)
		}
		if m.senders[s.addr] == s {
			delete(m.senders, s.addr)
		}
		return
	}
	s.key = rankOf(s, len(s.txs))
	if s.heapIdx < 0 {
		heap.Push(&m.tails, s)
	} else {
		heap.Fix(&m.tails, s.heapIdx)
	}
}

// Reap returns ready txs for a block, best first, each sender's in nonce
// order, within maxBytes total and maxTxs txs (a negative limit means none).
// A sender whose next tx does not fit in the remaining bytes is passed
// over, and smaller txs of other senders may still fill the block. maxBytes
// counts the txs' own bytes, not the block's framing around them. Reap
// removes nothing: Update does, once the block is committed. The returned
// byte slices are shared with the pool and must not be modified.
func (m *Mempool) Reap(maxBytes, maxTxs int) [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	var heads headHeap
	for _, s := range m.senders {
		if s.ready > 0 {
			heads = append(heads, head{s: s})
		}
	}
	heap.Init(&heads)
	var out [][]byte
	used := 0
	for len(heads) > 0 && (maxTxs < 0 || len(out) < maxTxs) {
		h := heads[0]
		e := h.s.txs[h.i]
		if maxBytes >= 0 && used+e.size > maxBytes {
			heap.Pop(&heads)
			continue
		}
		out = append(out, e.raw)
		used += e.size
		if h.i+1 < h.s.ready {
			heads[0].i++
			heap.Fix(&heads, 0)
		} else {
			heap.Pop(&heads)
		}
	}
	return out
}

// Update removes the txs of a committed block and those it made stale.
// nonceOf returns an account's nonce in the new state; it is called once
// for each sender with a tx in committed (txs not in the pool are decoded
// to learn their sender). Then Config.Recheck, if set, runs on every tx
// left (or, between full passes of Config.FullRecheckEvery, on the txs
// left of the block's senders).
func (m *Mempool) Update(committed [][]byte, nonceOf func(keys.Address) uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	touched := map[keys.Address]bool{}
	for _, raw := range committed {
		if e, ok := m.byHash[ledger.HashTx(raw)]; ok {
			touched[e.sender.addr] = true
			m.remove(e)
		} else if tx, err := ledger.DecodeTx(raw); err == nil {
			touched[tx.Body.Sender] = true
		}
	}
	for _, a := range sortedAddrs(touched) {
		s := m.senders[a]
		if s == nil {
			continue
		}
		s.next = nonceOf(a)
		m.dropBelow(s)
		m.fix(s)
	}
	if m.cfg.Recheck == nil {
		return
	}
	m.updates++
	check := touched
	if every := uint64(m.cfg.FullRecheckEvery); every <= 1 || m.updates%every == 0 {
		check = map[keys.Address]bool{}
		for a := range m.senders {
			check[a] = true
		}
	}
	for _, a := range sortedAddrs(check) {
		s := m.senders[a]
		if s == nil {
			continue
		}
		for i, e := range s.txs {
			if err := m.cfg.Recheck(e.tx); err != nil {
				for len(s.txs) > i {
					m.drop(s.txs[len(s.txs)-1], reasonRecheck(err))
				}
				break
			}
		}
	}
}

func sortedAddrs(set map[keys.Address]bool) []keys.Address {
	out := make([]keys.Address, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

// Size is the number of txs held.
func (m *Mempool) Size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count
}

// Bytes is the total size of the txs held.
func (m *Mempool) Bytes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// Has reports whether a tx with hash h is held.
func (m *Mempool) Has(h ledger.TxHash) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byHash[h]
	return ok
}

// Get returns the encoded tx with hash h, if held.
func (m *Mempool) Get(h ledger.TxHash) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byHash[h]
	if !ok {
		return nil, false
	}
	return e.raw, true
}
