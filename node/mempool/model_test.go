package mempool

import (
	"bytes"
	"errors"
	"math/big"
	"sort"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// model is a naive mempool with the same policy: a flat list, every
// decision by brute force. The random test checks Mempool against it.
type model struct {
	cfg  Config
	txs  []mtx
	next map[keys.Address]uint64 // only for senders with txs
	seq  uint64
	// evicted counts txs evicted, so the random test can tell that it
	// exercised eviction.
	evicted int
}

type mtx struct {
	hash   ledger.TxHash
	raw    []byte
	tx     *ledger.Tx
	sender keys.Address
	nonce  uint64
	fee    uint64
	size   int
	seq    uint64
}

// ratio is fee per byte as an exact rational, independent of cmpPrio.
func ratio(fee uint64, size int) *big.Rat {
	return new(big.Rat).SetFrac(new(big.Int).SetUint64(fee), big.NewInt(int64(size)))
}

// mrank is the model's eviction rank, compared by mrankLess.
type mrank struct {
	ready bool
	prio  *big.Rat
	seq   uint64
}

// mrankLess: gapped before ready, then lower fee per byte, then newer.
func mrankLess(a, b mrank) bool {
	if a.ready != b.ready {
		return b.ready
	}
	if c := a.prio.Cmp(b.prio); c != 0 {
		return c < 0
	}
	return a.seq > b.seq
}

func newModel(cfg Config) *model { return &model{cfg: cfg, next: map[keys.Address]uint64{}} }

func (m *model) of(a keys.Address, txs []mtx) []mtx {
	var out []mtx
	for _, t := range txs {
		if t.sender == a {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].nonce < out[j].nonce })
	return out
}

// rankIn is the eviction rank of t within pool txs (next: its sender's nonce).
func rankIn(t mtx, txs []mtx, next uint64) mrank {
	var mine []mtx
	for _, u := range txs {
		if u.sender == t.sender && u.nonce <= t.nonce {
			mine = append(mine, u)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].nonce < mine[j].nonce })
	ready := true
	weak := mine[0]
	for i, u := range mine {
		if u.nonce != next+uint64(i) {
			ready = false
		}
		if ratio(u.fee, u.size).Cmp(ratio(weak.fee, weak.size)) < 0 {
			weak = u
		}
	}
	return mrank{ready: ready, prio: ratio(weak.fee, weak.size), seq: t.seq}
}

func without(txs []mtx, drop func(mtx) bool) []mtx {
	var out []mtx
	for _, t := range txs {
		if !drop(t) {
			out = append(out, t)
		}
	}
	return out
}

func (m *model) gc() {
	has := map[keys.Address]bool{}
	for _, t := range m.txs {
		has[t.sender] = true
	}
	for a := range m.next {
		if !has[a] {
			delete(m.next, a)
		}
	}
}

func (m *model) add(raw []byte, tx *ledger.Tx, acct uint64) error {
	defer m.gc()
	if tx == nil || len(raw) == 0 {
		return ErrInvalid
	}
	if len(raw) > ledger.MaxTxBytes || len(raw) > m.cfg.MaxBytes {
		return ErrTooLarge
	}
	h := ledger.HashTx(raw)
	for _, t := range m.txs {
		if t.hash == h {
			return ErrDuplicate
		}
	}
	a := tx.Body.Sender
	next, ok := m.next[a]
	if !ok || acct > next {
		next = acct
		m.next[a] = next
		m.txs = without(m.txs, func(t mtx) bool { return t.sender == a && t.nonce < next })
	}
	n := tx.Body.Nonce
	if n < next {
		return ErrNonceTooLow
	}
	if n-next >= uint64(m.cfg.MaxPerSender) {
		return ErrTooManyPending
	}
	nt := mtx{hash: h, raw: raw, tx: tx, sender: a, nonce: n, fee: tx.Body.Fee, size: len(raw), seq: m.seq}
	pool := without(m.txs, func(t mtx) bool { return t.sender == a && t.nonce == n })
	if len(pool) < len(m.txs) {
		for _, t := range m.txs {
			if t.sender == a && t.nonce == n && nt.fee <= t.fee {
				return ErrFeeTooLowToReplace
			}
		}
	}
	pool = append(pool, nt)
	r := rankIn(nt, pool, next)
	for {
		total := 0
		for _, t := range pool {
			total += t.size
		}
		if len(pool) <= m.cfg.MaxTxs && total <= m.cfg.MaxBytes {
			break
		}
		// The weakest tail among the other senders.
		var victim *mtx
		var vr mrank
		for _, s := range m.senders(pool) {
			if s == a {
				continue
			}
			mine := m.of(s, pool)
			tail := mine[len(mine)-1]
			tr := rankIn(tail, pool, m.next[s])
			if victim == nil || mrankLess(tr, vr) {
				victim, vr = &tail, tr
			}
		}
		if victim == nil || !mrankLess(vr, r) {
			return ErrFull
		}
		vh := victim.hash
		pool = without(pool, func(t mtx) bool { return t.hash == vh })
	}
	m.seq++
	m.evicted += len(m.txs) + 1 - len(pool)
	if len(pool) == len(m.txs) { // a replacement, not an eviction
		m.evicted--
	}
	m.txs = pool
	return nil
}

func (m *model) senders(txs []mtx) []keys.Address {
	set := map[keys.Address]bool{}
	for _, t := range txs {
		set[t.sender] = true
	}
	return sortedAddrs(set)
}

func (m *model) reap(maxBytes, maxTxs int) [][]byte {
	taken := map[ledger.TxHash]bool{}
	skipped := map[keys.Address]bool{}
	var out [][]byte
	used := 0
	for maxTxs < 0 || len(out) < maxTxs {
		var best *mtx
		for _, s := range m.senders(m.txs) {
			if skipped[s] {
				continue
			}
			for i, t := range m.of(s, m.txs) {
				if t.nonce != m.next[s]+uint64(i) {
					break // not ready
				}
				if taken[t.hash] {
					continue
				}
				c := 0
				if best != nil {
					c = ratio(t.fee, t.size).Cmp(ratio(best.fee, best.size))
				}
				if best == nil || c > 0 || (c == 0 && t.seq < best.seq) {
					tt := t
					best = &tt
				}
				break
			}
		}
		if best == nil {
			break
		}
		if maxBytes >= 0 && used+best.size > maxBytes {
			skipped[best.sender] = true
			continue
		}
		taken[best.hash] = true
		out = append(out, best.raw)
		used += best.size
	}
	return out
}

func (m *model) update(committed [][]byte, nonceOf func(keys.Address) uint64) {
	defer m.gc()
	touched := map[keys.Address]bool{}
	for _, raw := range committed {
		h := ledger.HashTx(raw)
		found := false
		for _, t := range m.txs {
			if t.hash == h {
				touched[t.sender], found = true, true
			}
		}
		if found {
			m.txs = without(m.txs, func(t mtx) bool { return t.hash == h })
		} else if tx, err := ledger.DecodeTx(raw); err == nil {
			touched[tx.Body.Sender] = true
		}
	}
	for _, a := range sortedAddrs(touched) {
		if _, ok := m.next[a]; !ok {
			continue
		}
		if len(m.of(a, m.txs)) == 0 {
			continue
		}
		n := nonceOf(a)
		m.next[a] = n
		m.txs = without(m.txs, func(t mtx) bool { return t.sender == a && t.nonce < n })
	}
	if m.cfg.Recheck == nil {
		return
	}
	for _, a := range m.senders(m.txs) {
		for _, t := range m.of(a, m.txs) {
			if m.cfg.Recheck(t.tx) != nil {
				cut := t.nonce
				m.txs = without(m.txs, func(u mtx) bool { return u.sender == a && u.nonce >= cut })
				break
			}
		}
	}
}

func (m *model) bytes() int {
	n := 0
	for _, t := range m.txs {
		n += t.size
	}
	return n
}

func sameErr(a, b error) bool {
	for _, e := range []error{ErrFull, ErrDuplicate, ErrNonceTooLow, ErrFeeTooLowToReplace, ErrTooManyPending, ErrTooLarge, ErrInvalid} {
		if errors.Is(a, e) != errors.Is(b, e) {
			return false
		}
	}
	return (a == nil) == (b == nil)
}

func sameList(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
