package blockstore

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

	"github.com/inferd/inferd/ledger"
)

const crashEnv = "INFERD_BLOCKSTORE_CRASH_DIR"

// TestCrashChild is the child of TestCrashSafety: it saves blocks as fast
// as it can until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("child of TestCrashSafety")
	}
	s, err := Open(dir, Options{SmallMemory: true})
	if err != nil {
		fmt.Println("error", err)
		return
	}
	c := newTestChain(t)
	fmt.Println("ready")
	for h := s.Height() + 1; ; h++ {
		b, seen := c.block(h)
		if err := s.SaveBlock(b, seen, results(b)); err != nil {
			fmt.Println("error", err)
			return
		}
		fmt.Println("saved", h)
	}
}

// TestCrashSafety kills a child saving blocks with SIGKILL at random
// moments, and checks after each kill that the store reopens at some height
// at least the previous one, with every height up to it complete (block,
// commit, results, tx index) and nothing of the next height visible.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const kills = 12
	dir := t.TempDir()
	c := newTestChain(t)
	seed := time.Now().UnixNano()
	t.Logf("kill timing seed %d", seed)
	r := rand.New(rand.NewSource(seed))
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
		saved := make(chan struct{}, 1)
		go func() {
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "saved") {
					select {
					case saved <- struct{}{}:
					default:
					}
					continue
				}
				fmt.Fprintln(os.Stderr, "child:", sc.Text())
			}
		}()
		// Wait for the first durable save of this run (a slow start, as
		// under -race on a loaded machine, must not make every kill land
		// before any write), then kill at a random moment after it.
		select {
		case <-saved:
		case <-time.After(60 * time.Second):
		}
		time.Sleep(time.Duration(r.Intn(150)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		s, err := Open(dir, Options{SmallMemory: true})
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", i, err)
		}
		h := s.Height()
		if h < last {
			s.Close()
			t.Fatalf("kill %d: height went back from %d to %d", i, last, h)
		}
		if h > last {
			progressed++
		}
		for k := last; k <= h; k++ {
			if k > 0 {
				checkHeight(t, s, c, k)
			}
		}
		next, _ := c.block(h + 1)
		for _, tx := range next.Txs {
			if _, err := s.Tx(ledger.HashTx(tx)); err == nil {
				s.Close()
				t.Fatalf("kill %d: a tx of height %d is indexed but the store is at %d", i, h+1, h)
			}
		}
		if _, err := s.Block(h + 1); err == nil {
			s.Close()
			t.Fatalf("kill %d: block %d readable but the store is at %d", i, h+1, h)
		}
		last = h
		s.Close()
	}
	if progressed < kills/3 {
		t.Fatalf("the child made progress in only %d of %d runs", progressed, kills)
	}
	t.Logf("%d kills, final height %d, progress in %d runs", kills, last, progressed)
}
