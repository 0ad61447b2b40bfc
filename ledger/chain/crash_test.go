package chain

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/ledger/store/badgerstore"
)

// The crash test runs a child process (this test binary, re-executed) that
// applies a fixed sequence of blocks to a Badger store with fsync on, kills
// it with SIGKILL at random moments, and checks after each kill that the
// reopened state is exactly the reference state at some height, never a
// mixture, and that applying resumes from there.

const crashEnv = "INFERD_CRASH_CHILD_DIR"

type crashPlan struct {
	accts []*acct
	g     *ledger.Genesis
}

func newCrashPlan() *crashPlan {
	r := rand.New(rand.NewSource(77))
	p := &crashPlan{g: &ledger.Genesis{ChainID: "crash-1", GenesisTime: genesisTime}}
	for i := 0; i < 20; i++ {
		a := newAcct(r)
		p.accts = append(p.accts, a)
		p.g.Accounts = append(p.g.Accounts, ledger.GenesisAccount{Address: a.addr, Balance: testBalance})
	}
	cons := newAcct(r).priv.Public().(keys.PubKey)
	p.g.Validators = []ledger.GenesisValidator{{Operator: p.accts[0].addr, ConsPubKey: ledger.HexBytes(cons), Moniker: "v", SelfBond: testSelfBond}}
	return p
}

// block is the fixed block at height h: every account sends once.
func (p *crashPlan) block(h uint64) *ledger.Block {
	b := &ledger.Block{Height: h, Time: genesisTime.UnixNano() + int64(h)*1e9}
	k := uint64(len(p.accts))
	for i, a := range p.accts {
		to := p.accts[(uint64(i)+h)%k].addr
		_, raw := ledger.SignTx(p.g.ChainID, a.priv, h-1, testFee, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: (h*7+uint64(i))%1000 + 1}))
		b.Txs = append(b.Txs, raw)
	}
	return b
}

func openCrashChain(dir string) (*Chain, *badgerstore.Store, error) {
	st, err := badgerstore.Open(dir, badgerstore.Options{SmallMemory: true})
	if err != nil {
		return nil, nil, err
	}
	c, err := New(st, Options{})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return c, st, nil
}

// TestCrashChild is the child process body; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestCrashConsistency")
	}
	p := newCrashPlan()
	c, _, err := openCrashChain(dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	if _, has := c.Height(); !has {
		if _, err := c.InitGenesis(p.g); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
	}
	fmt.Println("ready")
	for {
		h, _ := c.Height()
		if _, err := c.ApplyBlock(p.block(h + 1)); err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
		fmt.Println("applied", h+1)
	}
}

func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 50 processes")
	}
	kills := 50
	p := newCrashPlan()
	ref, err := New(store.NewMem(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	refHash := map[uint64][32]byte{}
	if refHash[0], err = ref.InitGenesis(p.g); err != nil {
		t.Fatal(err)
	}
	refUpTo := func(h uint64) {
		for {
			cur, _ := ref.Height()
			if cur >= h {
				return
			}
			res, err := ref.ApplyBlock(p.block(cur + 1))
			if err != nil {
				t.Fatal(err)
			}
			refHash[cur+1] = res.AppHash
		}
	}
	dir := t.TempDir()
	killSeed := time.Now().UnixNano()
	t.Logf("kill timing seed %d", killSeed)
	r := rand.New(rand.NewSource(killSeed))
	var last uint64
	progressed := 0
	for i := 0; i < kills; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || sc.Text() != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: child did not start: %q", i, sc.Text())
		}
		applied := make(chan struct{}, 1)
		go func() {
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "applied") {
					select {
					case applied <- struct{}{}:
					default:
					}
				}
				if strings.HasPrefix(sc.Text(), "error") {
					fmt.Fprintln(os.Stderr, "child:", sc.Text())
				}
			}
		}()
		// Half the kills land right after start-up (reopening, rebuilding
		// the tree); the others after the run's first durable block, so a
		// slow start cannot make every kill miss the writes.
		if i%2 == 1 {
			select {
			case <-applied:
			case <-time.After(60 * time.Second):
			}
		}
		time.Sleep(time.Duration(r.Intn(150)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		c, st, err := openCrashChain(dir)
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", i, err)
		}
		h, has := c.Height()
		if !has {
			st.Close()
			t.Fatalf("kill %d: genesis lost", i)
		}
		if h < last {
			st.Close()
			t.Fatalf("kill %d: height went back from %d to %d", i, last, h)
		}
		if h > last {
			progressed++
		}
		refUpTo(h)
		if c.AppHash() != refHash[h] {
			st.Close()
			t.Fatalf("kill %d: state at height %d differs from the reference", i, h)
		}
		if err := c.CheckInvariants(h); err != nil {
			st.Close()
			t.Fatalf("kill %d: %v", i, err)
		}
		last = h
		st.Close()
	}
	// Applying continues in-process from wherever the last kill left it,
	// and every past height still answers with its reference app hash.
	c, st, err := openCrashChain(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for j := 0; j < 3; j++ {
		h, _ := c.Height()
		res, err := c.ApplyBlock(p.block(h + 1))
		if err != nil {
			t.Fatal(err)
		}
		refUpTo(h + 1)
		if res.AppHash != refHash[h+1] {
			t.Fatalf("after the crashes, block %d gives another app hash", h+1)
		}
	}
	for h := uint64(0); h <= last; h += 1 + last/10 {
		got, err := c.AppHashAt(h)
		if err != nil || got != refHash[h] {
			t.Fatalf("app hash at height %d: %x %v", h, got, err)
		}
	}
	if progressed < kills/3 {
		t.Fatalf("the child made progress in only %d of %d runs: kills too early to test anything", progressed, kills)
	}
	t.Logf("%d kills, final height %d, progress in %d runs", kills, last, progressed)
}
