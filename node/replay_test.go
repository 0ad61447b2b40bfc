package node

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
)

// openNode opens home with an engine on a null transport (replay included).
func openNode(t *testing.T, home string) *Node {
	t.Helper()
	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		n.Close()
		t.Fatalf("start: %v", err)
	}
	return n
}

// The ledger commits without fsync, so a machine crash can leave it
// several blocks behind the block store, and the validator-set file old or
// torn. Start-up replays every missing block with the sets the block store
// kept and reaches the app hash the node had before, then goes on.
func TestReplayOfManyBlocks(t *testing.T) {
	for _, valsets := range []string{"old", "torn", "missing"} {
		t.Run("valset file "+valsets, func(t *testing.T) {
			home := oneValidatorHome(t)
			st4 := runUntil(t, home, 4)
			snap := t.TempDir()
			copyDir(t, filepath.Join(home, StateDir), filepath.Join(snap, "state"))
			copyDir(t, filepath.Join(home, ValsetFile), filepath.Join(snap, "valsets"))
			st := runUntil(t, home, st4.Height+4)
			copyDir(t, filepath.Join(snap, "state"), filepath.Join(home, StateDir))
			switch valsets {
			case "old":
				copyDir(t, filepath.Join(snap, "valsets"), filepath.Join(home, ValsetFile))
			case "torn":
				if err := os.WriteFile(filepath.Join(home, ValsetFile), []byte{0x83, 0x01}, 0o600); err != nil {
					t.Fatal(err)
				}
			case "missing":
				os.Remove(filepath.Join(home, ValsetFile))
			}
			n := openNode(t, home)
			if h, _ := n.Chain.Height(); h != st.Height || n.Blocks.Height() != st.Height {
				t.Fatalf("after start-up: ledger %d, block store %d, want %d", h, n.Blocks.Height(), st.Height)
			}
			for h := st4.Height; h <= st.Height; h++ {
				if _, err := n.Chain.AppHashAt(h); err != nil {
					t.Fatalf("height %d: %v", h, err)
				}
			}
			if got, _ := n.Chain.AppHashAt(st.Height); got != st.AppHash {
				t.Fatalf("replayed app hash %x, before the crash %x", got[:4], st.AppHash[:4])
			}
			n.Close()
			runUntil(t, home, st.Height+2)
		})
	}
}

const crashHomeEnv = "INFERD_TEST_CRASH_HOME"

// TestCrashBetweenWritesChild is the child of TestCrashBetweenWrites: it
// submits txs, then runs the engine and SIGKILLs itself right after the
// block store has stored the first block with transactions, before the
// ledger commits it.
func TestCrashBetweenWritesChild(t *testing.T) {
	home := os.Getenv(crashHomeEnv)
	if home == "" {
		t.Skip("child of TestCrashBetweenWrites")
	}
	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(home, "demo.seed"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keys.FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range sendTxs(n.Genesis.ChainID, priv, 0, 10) {
		if _, err := n.SubmitTx(raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		t.Fatal(err)
	}
	n.Engine.afterStore = func(h uint64) {
		b, err := n.Blocks.Block(h)
		if err == nil && len(b.Txs) > 0 {
			os.WriteFile(filepath.Join(home, "crashed-at"), []byte(strconv.FormatUint(h, 10)), 0o600)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n.Engine.Run(ctx)
	t.Fatal("no block with transactions within 30 s")
}

// A process killed between the block store's write (fsynced) and the
// ledger's commit (not) restarts with every transaction of the block
// committed and the app hash that an independent replay of the whole
// chain from genesis reaches.
func TestCrashBetweenWrites(t *testing.T) {
	home, demo := fundedHome(t)
	runUntil(t, home, 2)
	if err := os.WriteFile(filepath.Join(home, "demo.seed"), demo.Seed(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashBetweenWritesChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashHomeEnv+"="+home)
	out, err := cmd.CombinedOutput()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(home, "crashed-at"))
	if err != nil {
		t.Fatal(err)
	}
	crashed, _ := strconv.ParseUint(string(raw), 10, 64)

	// An independent path to the same height: the whole chain replayed
	// into an empty ledger.
	fresh := filepath.Join(t.TempDir(), "fresh")
	copyDir(t, home, fresh)
	os.RemoveAll(filepath.Join(fresh, StateDir))

	n := openNode(t, home)
	defer n.Close()
	if h, _ := n.Chain.Height(); h != crashed || n.Blocks.Height() != crashed {
		t.Fatalf("after restart: ledger %d, block store %d, want both at the crashed block %d", h, n.Blocks.Height(), crashed)
	}
	got, _ := n.Chain.AppHashAt(crashed)
	sender := keys.AddressOf(demo.Public().(keys.PubKey))
	var nonce uint64
	n.Chain.Query(crashed, func(ctx *ledger.Context) error { nonce = ledger.AccountNonce(ctx, sender); return nil })
	for i, raw := range sendTxs(n.Genesis.ChainID, demo, 0, 10) {
		if _, err := n.Blocks.Tx(ledger.HashTx(raw)); err != nil && uint64(i) < nonce {
			t.Fatalf("tx %d lost: %v", i, err)
		}
	}
	if nonce == 0 {
		t.Fatal("the crashed block's transactions are not in the ledger")
	}

	f := openNode(t, fresh)
	defer f.Close()
	want, err := f.Chain.AppHashAt(crashed)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("app hash after the crash %x, replay from genesis %x", got[:4], want[:4])
	}
	t.Logf("killed after storing block %d; restart replayed it (sender nonce %d), app hash %x matches a replay from genesis", crashed, nonce, got[:4])
}
