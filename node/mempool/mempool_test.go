package mempool

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
)

const chainID = "mempool-test"

type account struct {
	priv keys.PrivKey
	addr keys.Address
}

func accounts(n int, seed int64) []account {
	r := rand.New(rand.NewSource(seed))
	out := make([]account, n)
	for i := range out {
		pub, priv, _ := keys.Generate(r)
		out[i] = account{priv: priv, addr: keys.AddressOf(pub)}
	}
	return out
}

// mk signs a transfer; memo pads it to vary its size.
func mk(a account, nonce, fee uint64, memo int) ([]byte, *ledger.Tx) {
	tx, raw := ledger.SignTx(chainID, a.priv, nonce, fee, strings.Repeat("m", memo), ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: keys.Address{1}, Amount: 1}))
	return raw, tx
}

func add(t *testing.T, m *Mempool, a account, nonce, fee uint64, acct uint64) []byte {
	t.Helper()
	raw, tx := mk(a, nonce, fee, 0)
	if err := m.Add(raw, tx, acct); err != nil {
		t.Fatalf("add nonce %d fee %d: %v", nonce, fee, err)
	}
	return raw
}

func nonces(t *testing.T, raws [][]byte) []string {
	t.Helper()
	var out []string
	for _, raw := range raws {
		tx, err := ledger.DecodeTx(raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%x:%d", tx.Body.Sender[:1], tx.Body.Nonce))
	}
	return out
}

func TestNonceOrderAndGaps(t *testing.T) {
	acc := accounts(1, 1)[0]
	m := New(Config{})
	add(t, m, acc, 7, 10, 5) // gap: 5 and 6 missing
	add(t, m, acc, 6, 10, 5)
	if got := m.Reap(-1, -1); len(got) != 0 {
		t.Fatalf("reaped %d txs behind a gap", len(got))
	}
	add(t, m, acc, 5, 1, 5) // fills the gap; cheap, but first
	got := nonces(t, m.Reap(-1, -1))
	want := fmt.Sprintf("%x:5 %x:6 %x:7", acc.addr[:1], acc.addr[:1], acc.addr[:1])
	if strings.Join(got, " ") != want {
		t.Fatalf("reaped %v, want %s", got, want)
	}
	raw, tx := mk(acc, 4, 100, 0)
	if err := m.Add(raw, tx, 5); !errors.Is(err, ErrNonceTooLow) {
		t.Fatalf("nonce below the account: %v", err)
	}
	raw, tx = mk(acc, 5+DefaultMaxPerSender, 100, 0)
	if err := m.Add(raw, tx, 5); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("nonce too far ahead: %v", err)
	}
	// A newer account nonce drops what it made stale.
	add(t, m, acc, 8, 10, 7)
	if m.Size() != 2 {
		t.Fatalf("size %d after the account moved to nonce 7, want 2 (nonces 7 and 8)", m.Size())
	}
}

func TestFeePriorityAcrossSenders(t *testing.T) {
	accs := accounts(3, 2)
	m := New(Config{})
	add(t, m, accs[0], 0, 50, 0)
	add(t, m, accs[0], 1, 900, 0) // high, but behind its sender's 50
	add(t, m, accs[1], 0, 100, 0)
	add(t, m, accs[2], 0, 10, 0)
	got := strings.Join(nonces(t, m.Reap(-1, -1)), " ")
	a := func(i int, n int) string { return fmt.Sprintf("%x:%d", accs[i].addr[:1], n) }
	want := strings.Join([]string{a(1, 0), a(0, 0), a(0, 1), a(2, 0)}, " ")
	if got != want {
		t.Fatalf("reap order %s, want %s", got, want)
	}
	if got := m.Reap(-1, 2); len(got) != 2 {
		t.Fatalf("maxTxs 2 gave %d", len(got))
	}
	// Fee per byte, not fee: the same fee on a bigger tx ranks lower.
	m = New(Config{})
	big, bigTx := mk(accs[0], 0, 1000, 200)
	small, smallTx := mk(accs[1], 0, 1000, 0)
	if err := m.Add(big, bigTx, 0); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(small, smallTx, 0); err != nil {
		t.Fatal(err)
	}
	if got := m.Reap(-1, 1); string(got[0]) != string(small) {
		t.Fatal("the bigger tx with the same fee came first")
	}
	// A sender whose next tx does not fit is passed over; others fill in.
	if got := m.Reap(len(small), -1); len(got) != 1 || string(got[0]) != string(small) {
		t.Fatalf("byte limit: got %d txs", len(got))
	}
}

func TestReplacementAndDuplicates(t *testing.T) {
	acc := accounts(1, 3)[0]
	m := New(Config{})
	first := add(t, m, acc, 0, 10, 0)
	raw, tx := mk(acc, 0, 10, 0)
	if err := m.Add(raw, tx, 0); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("same tx twice: %v", err)
	}
	raw, tx = mk(acc, 0, 10, 5) // same nonce and fee, other bytes
	if err := m.Add(raw, tx, 0); !errors.Is(err, ErrFeeTooLowToReplace) {
		t.Fatalf("same fee replacement: %v", err)
	}
	raw, tx = mk(acc, 0, 11, 5)
	if err := m.Add(raw, tx, 0); err != nil {
		t.Fatalf("higher fee replacement: %v", err)
	}
	if m.Size() != 1 || m.Has(ledger.HashTx(first)) || !m.Has(ledger.HashTx(raw)) || m.Bytes() != len(raw) {
		t.Fatalf("after replacement: size %d bytes %d", m.Size(), m.Bytes())
	}
}

func TestEviction(t *testing.T) {
	accs := accounts(4, 4)
	m := New(Config{MaxTxs: 3})
	add(t, m, accs[0], 0, 30, 0)
	add(t, m, accs[1], 0, 20, 0)
	low := add(t, m, accs[2], 0, 10, 0)
	// Lower or equal priority than everything held: refused, nothing evicted.
	raw, tx := mk(accs[3], 0, 10, 0)
	if err := m.Add(raw, tx, 0); !errors.Is(err, ErrFull) {
		t.Fatalf("equal-priority tx on a full pool: %v", err)
	}
	if m.Size() != 3 || !m.Has(ledger.HashTx(low)) {
		t.Fatal("a refused tx evicted something")
	}
	// Higher: the lowest goes.
	add(t, m, accs[3], 0, 25, 0)
	if m.Has(ledger.HashTx(low)) || m.Size() != 3 {
		t.Fatal("the lowest-priority tx was not the one evicted")
	}
	// A tx ranks as the weakest of its sender's txs up to it: a rich tx
	// behind a 20-fee head ranks 20 and cannot evict the 25 and 30 (and
	// never evicts its own sender's head).
	raw, tx = mk(accs[1], 1, 1000, 0)
	if err := m.Add(raw, tx, 0); !errors.Is(err, ErrFull) {
		t.Fatalf("rich tx behind a 20-fee head: %v", err)
	}
	// Behind the 30-fee head it ranks 30 and evicts the weakest, the 20.
	head20 := m.Reap(-1, -1)[2]
	add(t, m, accs[0], 1, 1000, 0)
	if m.Has(ledger.HashTx(head20)) || m.Size() != 3 {
		t.Fatal("the 20-fee tx was not evicted")
	}
	// Byte limit: a big tx may evict several smaller ones, all weaker.
	m = New(Config{MaxBytes: 3 * len(low)})
	var smalls [][]byte
	for i := 0; i < 3; i++ {
		smalls = append(smalls, add(t, m, accs[i], 0, 10, 0))
	}
	big, bigTx := mk(accs[3], 0, 100_000, len(low)+len(low)/2) // about 2.5 small txs
	if err := m.Add(big, bigTx, 0); err != nil {
		t.Fatalf("big rich tx: %v", err)
	}
	if m.Size() != 1 || m.Bytes() != len(big) {
		t.Fatalf("after the big tx: %d txs, %d bytes", m.Size(), m.Bytes())
	}
	for i, s := range smalls {
		if m.Has(ledger.HashTx(s)) {
			t.Fatalf("small tx %d survived the big one", i)
		}
	}
}

func TestEvictionPrefersGappedTxs(t *testing.T) {
	accs := accounts(3, 5)
	m := New(Config{MaxTxs: 2})
	gapped := add(t, m, accs[0], 3, 1000, 0) // waits for nonces 0..2
	add(t, m, accs[1], 0, 10, 0)
	add(t, m, accs[2], 0, 11, 0)
	if m.Has(ledger.HashTx(gapped)) {
		t.Fatal("a ready tx was evicted before a gapped one")
	}
}

func TestUpdate(t *testing.T) {
	accs := accounts(3, 6)
	m := New(Config{})
	a0 := add(t, m, accs[0], 0, 10, 0)
	add(t, m, accs[0], 1, 10, 0)
	add(t, m, accs[0], 2, 10, 0)
	add(t, m, accs[1], 4, 10, 4)
	// accs[1]'s nonce 4 is used by a tx we never saw (submitted elsewhere).
	foreign, _ := mk(accs[1], 4, 99, 3)
	state := map[keys.Address]uint64{accs[0].addr: 2, accs[1].addr: 5}
	calls := 0
	m.Update([][]byte{a0, foreign}, func(a keys.Address) uint64 { calls++; return state[a] })
	if m.Size() != 1 || m.Has(ledger.HashTx(a0)) {
		t.Fatalf("size %d after update, want 1 (accs[0] nonce 2)", m.Size())
	}
	if calls != 2 {
		t.Fatalf("nonceOf called %d times, want once per touched sender", calls)
	}
	if got := m.Reap(-1, -1); len(got) != 1 {
		t.Fatalf("reap after update: %d", len(got))
	}
	// Recheck removes a failing tx and the same sender's later ones.
	broke := map[uint64]bool{}
	m = New(Config{Recheck: func(tx *ledger.Tx) error {
		if broke[tx.Body.Nonce] {
			return errors.New("cannot pay")
		}
		return nil
	}})
	for n := uint64(0); n < 4; n++ {
		add(t, m, accs[2], n, 10, 0)
	}
	broke[2] = true
	m.Update(nil, func(keys.Address) uint64 { return 0 })
	if m.Size() != 2 {
		t.Fatalf("size %d after recheck, want 2", m.Size())
	}
}

// TestAgainstModel runs random operations on a Mempool and on the naive
// model and requires the same answers throughout.
func TestAgainstModel(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	evicted := 0
	for seed := int64(1); seed <= int64(seeds); seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { evicted += runModel(t, seed, 1500) })
	}
	if evicted == 0 {
		t.Fatal("no run evicted anything: eviction is untested")
	}
}

func runModel(t *testing.T, seed int64, steps int) (evicted int) {
	r := rand.New(rand.NewSource(seed))
	accs := accounts(16, seed)
	banned := map[uint64]bool{}
	cfg := Config{MaxTxs: 30, MaxBytes: 30 * 190, MaxPerSender: 6, Recheck: func(tx *ledger.Tx) error {
		if banned[tx.Body.Fee] {
			return errors.New("banned fee")
		}
		return nil
	}}
	m, ref := New(cfg), newModel(cfg)
	state := map[keys.Address]uint64{}
	var sent [][]byte // every raw tx submitted, for duplicates
	outcomes := map[string]int{}
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("seed %d: "+format, append([]any{seed}, a...)...)
	}
	for step := 0; step < steps; step++ {
		switch op := r.Intn(100); {
		case op < 80:
			a := accs[r.Intn(len(accs))]
			var raw []byte
			var tx *ledger.Tx
			if len(sent) > 0 && r.Intn(10) == 0 {
				raw = sent[r.Intn(len(sent))]
				var err error
				if tx, err = ledger.DecodeTx(raw); err != nil {
					fail("%v", err)
				}
			} else {
				nonce := state[a.addr] + uint64(r.Intn(cfg.MaxPerSender))
				if r.Intn(10) == 0 {
					nonce += 2
				}
				if r.Intn(10) == 0 && nonce > 0 {
					nonce = state[a.addr] - 1
				}
				fee, memo := uint64(1+r.Intn(40)), r.Intn(120)
				if seed%2 == 1 { // few distinct priorities: ties decide
					fee, memo = uint64(1+r.Intn(6)), 40*r.Intn(2)
				}
				raw, tx = mk(a, nonce, fee, memo)
				sent = append(sent, raw)
			}
			acct := state[tx.Body.Sender]
			e1, e2 := m.Add(raw, tx, acct), ref.add(raw, tx, acct)
			if !sameErr(e1, e2) {
				fail("step %d: add: mempool %v, model %v", step, e1, e2)
			}
			outcomes[errName(e1)]++
		case op < 92:
			maxB, maxN := -1, -1
			if r.Intn(2) == 0 {
				maxB = r.Intn(3000)
			}
			if r.Intn(2) == 0 {
				maxN = r.Intn(15)
			}
			if got, want := m.Reap(maxB, maxN), ref.reap(maxB, maxN); !sameList(got, want) {
				fail("step %d: reap(%d, %d): %d txs, model %d", step, maxB, maxN, len(got), len(want))
			}
		default:
			block := m.Reap(r.Intn(4000), r.Intn(12))
			block = block[:r.Intn(len(block)+1)] // the proposer may take fewer
			if r.Intn(4) == 0 {                  // a tx from elsewhere
				a := accs[r.Intn(len(accs))]
				raw, _ := mk(a, state[a.addr], 7, 1)
				block = append(block, raw)
			}
			for _, raw := range block {
				tx, _ := ledger.DecodeTx(raw)
				if tx.Body.Nonce == state[tx.Body.Sender] {
					state[tx.Body.Sender]++
				}
			}
			if r.Intn(3) == 0 {
				banned = map[uint64]bool{uint64(1 + r.Intn(40)): true}
			}
			nonceOf := func(a keys.Address) uint64 { return state[a] }
			m.Update(block, nonceOf)
			ref.update(block, nonceOf)
		}
		if m.Size() != len(ref.txs) || m.Bytes() != ref.bytes() {
			fail("step %d: size %d/%d bytes, model %d/%d", step, m.Size(), m.Bytes(), len(ref.txs), ref.bytes())
		}
		for _, tx := range ref.txs {
			if !m.Has(tx.hash) {
				fail("step %d: model holds a tx the mempool does not", step)
			}
		}
		if m.Size() > cfg.MaxTxs || m.Bytes() > cfg.MaxBytes {
			fail("step %d: limits exceeded: %d txs, %d bytes", step, m.Size(), m.Bytes())
		}
	}
	if got, want := m.Reap(-1, -1), ref.reap(-1, -1); !sameList(got, want) {
		fail("final reap differs")
	}
	// The run must have reached every outcome, or it tested less than it seems.
	for _, want := range []string{"ok", "full", "duplicate", "nonce too low", "too many pending", "fee too low to replace"} {
		if outcomes[want] == 0 {
			fail("no add ended %q in %d steps: %v", want, steps, outcomes)
		}
	}
	t.Logf("outcomes %v, evicted %d", outcomes, ref.evicted)
	return ref.evicted
}

func errName(err error) string {
	for name, e := range map[string]error{"full": ErrFull, "duplicate": ErrDuplicate, "nonce too low": ErrNonceTooLow,
		"too many pending": ErrTooManyPending, "fee too low to replace": ErrFeeTooLowToReplace, "too large": ErrTooLarge, "invalid": ErrInvalid} {
		if errors.Is(err, e) {
			return name
		}
	}
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// TestConcurrentUse runs Add, Reap, Update and the getters from several
// goroutines (run with -race); the pool must stay within its limits.
func TestConcurrentUse(t *testing.T) {
	accs := accounts(8, 9)
	m := New(Config{MaxTxs: 50})
	var txs [][]byte
	var decoded []*ledger.Tx
	for i, a := range accs {
		for n := uint64(0); n < 20; n++ {
			raw, tx := mk(a, n, uint64(1+i)*n+1, 0)
			txs, decoded = append(txs, raw), append(decoded, tx)
		}
	}
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func(w int) {
			defer func() { done <- struct{}{} }()
			for i := w; i < len(txs); i += 4 {
				m.Add(txs[i], decoded[i], 0)
				m.Has(ledger.HashTx(txs[i]))
				if i%10 == 0 {
					m.Update(m.Reap(-1, 5), func(keys.Address) uint64 { return 0 })
				}
			}
		}(w)
	}
	for w := 0; w < 4; w++ {
		<-done
	}
	if m.Size() > 50 || m.Size() != len(m.Reap(-1, -1))+countNotReady(m) {
		t.Fatalf("size %d", m.Size())
	}
}

func countNotReady(m *Mempool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.senders {
		n += len(s.txs) - s.ready
	}
	return n
}
