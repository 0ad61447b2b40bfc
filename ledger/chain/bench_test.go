package chain

import (
	"crypto/ed25519"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/ledger/store/badgerstore"
)

const benchBlockTxs = 5000

// benchLedger is a genesis of nSenders funded accounts and pre-signed
// blocks of benchBlockTxs transfers each.
type benchLedger struct {
	g       *ledger.Genesis
	senders []*acct
}

func newBenchLedger(nSenders int) *benchLedger {
	r := rand.New(rand.NewSource(42))
	bl := &benchLedger{g: &ledger.Genesis{ChainID: "bench-1", GenesisTime: genesisTime}}
	for i := 0; i < nSenders; i++ {
		a := newAcct(r)
		bl.senders = append(bl.senders, a)
		bl.g.Accounts = append(bl.g.Accounts, ledger.GenesisAccount{Address: a.addr, Balance: testBalance})
	}
	cons := newAcct(r).priv.Public().(keys.PubKey)
	bl.g.Validators = []ledger.GenesisValidator{{Operator: bl.senders[0].addr, ConsPubKey: ledger.HexBytes(cons), Moniker: "v", SelfBond: testSelfBond}}
	return bl
}

// blocks signs n blocks; recipients are fresh addresses when fresh (so the
// state grows by one account per transfer), else other senders.
func (bl *benchLedger) blocks(n int, fresh bool) []*ledger.Block {
	out := make([]*ledger.Block, n)
	k := len(bl.senders)
	seq := 0
	for h := 1; h <= n; h++ {
		b := &ledger.Block{Height: uint64(h), Time: genesisTime.UnixNano() + int64(h)*1e9}
		for i := 0; i < benchBlockTxs; i++ {
			from := bl.senders[seq%k]
			var to keys.Address
			if fresh {
				copy(to[:], fmt.Sprintf("acct-%015d", seq))
			} else {
				to = bl.senders[(seq+1)%k].addr
			}
			seq++
			_, raw := ledger.SignTx(bl.g.ChainID, from.priv, from.nonce, testFee, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: 1}))
			from.nonce++
			b.Txs = append(b.Txs, raw)
		}
		out[h-1] = b
	}
	return out
}

// BenchmarkApplyBlock measures ledger.ApplyBlock on blocks of 5,000 signed
// transfers (execution, app hash and commit to a store without fsync), with
// and without signature verification. Run with -cpu 1 for the one-core figure.
func BenchmarkApplyBlock(b *testing.B) {
	for _, verify := range []bool{true, false} {
		for _, backend := range []string{"mem", "badger"} {
			name := fmt.Sprintf("%s/verify=%v", backend, verify)
			b.Run(name, func(b *testing.B) {
				bl := newBenchLedger(5000)
				blocks := bl.blocks(b.N, false)
				var st store.Store = store.NewMem()
				if backend == "badger" {
					bs, err := badgerstore.Open(b.TempDir(), badgerstore.Options{NoSync: true})
					if err != nil {
						b.Fatal(err)
					}
					defer bs.Close()
					st = bs
				}
				c, err := New(st, Options{Ledger: ledger.Options{SkipSigVerify: !verify}})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.InitGenesis(bl.g); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for _, blk := range blocks {
					res, err := c.ApplyBlock(blk)
					if err != nil {
						b.Fatal(err)
					}
					if !res.Txs[0].OK {
						b.Fatal(res.Txs[0].Error)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N*benchBlockTxs)/b.Elapsed().Seconds(), "transfers/s")
			})
		}
	}
}

// BenchmarkEd25519Verify is the machine's raw single-core ed25519
// verification rate: the ceiling for applying signed transactions.
func BenchmarkEd25519Verify(b *testing.B) {
	pub, priv, _ := keys.Generate(rand.New(rand.NewSource(1)))
	msg := make([]byte, 150)
	sig := ed25519.Sign(priv, msg)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifies/s")
}

// timedStore records how long each Commit takes.
type timedStore struct {
	store.Store
	took []time.Duration
}

func (t *timedStore) Commit(h uint64, c []store.Change) error {
	start := time.Now()
	err := t.Store.Commit(h, c)
	t.took = append(t.took, time.Since(start))
	return err
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))]
}

// BenchmarkBadgerCommitFsync measures committing the writes of a block of
// 5,000 transfers to Badger with fsync on: median and p99 per block.
func BenchmarkBadgerCommitFsync(b *testing.B) {
	bl := newBenchLedger(5000)
	n := b.N
	if n < 20 {
		n = 20
	}
	blocks := bl.blocks(n, true)
	bs, err := badgerstore.Open(b.TempDir(), badgerstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Close()
	ts := &timedStore{Store: bs}
	c, err := New(ts, Options{Ledger: ledger.Options{SkipSigVerify: true}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.InitGenesis(bl.g); err != nil {
		b.Fatal(err)
	}
	ts.took = nil
	b.ResetTimer()
	for _, blk := range blocks {
		if _, err := c.ApplyBlock(blk); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(ts.took, 0.5).Microseconds())/1000, "commit-p50-ms")
	b.ReportMetric(float64(percentile(ts.took, 0.99).Microseconds())/1000, "commit-p99-ms")
}

// BenchmarkMillionAccounts applies blocks of transfers to fresh addresses
// until the state holds 1,000,000 accounts (set INFERD_BENCH_ACCOUNTS for
// another count), then reports bytes on disk per account and the peak RSS.
// It ignores b.N: one run is the measurement.
func BenchmarkMillionAccounts(b *testing.B) {
	target := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("INFERD_BENCH_ACCOUNTS")); err == nil && v > 0 {
		target = v
	}
	nBlocks := (target + benchBlockTxs - 1) / benchBlockTxs
	bl := newBenchLedger(5000)
	dir := b.TempDir()
	bs, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(bs, Options{Ledger: ledger.Options{SkipSigVerify: true}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.InitGenesis(bl.g); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for done := 0; done < nBlocks; done += 10 {
		chunk := bl.blocks(min(10, nBlocks-done), true)
		for _, blk := range chunk {
			blk.Height += uint64(done)
			blk.Time = genesisTime.UnixNano() + int64(blk.Height)*1e9
			if _, err := c.ApplyBlock(blk); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	bs.DB().Flatten(2)
	bs.Close()
	var size int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			size += info.Size()
		}
		return nil
	})
	accounts := nBlocks*benchBlockTxs + len(bl.senders)
	b.ReportMetric(float64(size)/float64(accounts), "disk-bytes/account")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(accounts), "accounts")
}

// peakRSS reads VmHWM from /proc/self/status, in bytes.
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
