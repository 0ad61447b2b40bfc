package node

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
)

// nullTransport drops everything: a single validator needs no peers.
type nullTransport struct{}

func (nullTransport) Broadcast(string, []byte) error { return nil }

func oneValidatorHome(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	base, err := FreeBasePort(1)
	if err != nil {
		t.Fatal(err)
	}
	info, err := CreateDevnet(dir, DevnetOptions{Validators: 1, BasePort: base, CommitDelay: 200 * time.Millisecond,
		AddKey: func(string) (keys.Address, error) {
			pub, _, err := keys.Generate(rand.Reader)
			return keys.AddressOf(pub), err
		}})
	if err != nil {
		t.Fatal(err)
	}
	return info.Nodes[0].Home
}

// runUntil runs the engine of the node in home until it has committed
// height h, then stops it and closes the stores.
func runUntil(t *testing.T, home string, h uint64) EngineStatus {
	t.Helper()
	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Engine.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for n.Engine.Status().Height < h {
		if time.Now().After(deadline) {
			t.Fatalf("no height %d within 30s (at %d)", h, n.Engine.Status().Height)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return n.Engine.Status()
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	os.RemoveAll(to)
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
}

// A crash after the block store saved a block but before the ledger
// committed it leaves the store one block ahead; the next start replays
// that block and reaches the same app hash, then goes on.
func TestReplayOfAStoredBlock(t *testing.T) {
	home := oneValidatorHome(t)
	st5 := runUntil(t, home, 5)
	snap := t.TempDir()
	copyDir(t, filepath.Join(home, StateDir), filepath.Join(snap, "state"))
	copyDir(t, filepath.Join(home, ValsetFile), filepath.Join(snap, "valsets"))
	st := runUntil(t, home, st5.Height+1)
	if st.Height != st5.Height+1 {
		t.Skipf("setup: ran to %d, wanted exactly one block more than %d", st.Height, st5.Height)
	}
	// Put back the ledger and the validator-set file as they were before
	// the last block: the window between storing block st.Height and
	// committing it to the ledger.
	copyDir(t, filepath.Join(snap, "state"), filepath.Join(home, StateDir))
	copyDir(t, filepath.Join(snap, "valsets"), filepath.Join(home, ValsetFile))

	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := n.Chain.Height(); h != st5.Height {
		t.Fatalf("setup: ledger at %d, want %d", h, st5.Height)
	}
	if err := n.NewEngine(nullTransport{}, nil); err != nil {
		t.Fatalf("start after the crash: %v", err)
	}
	if h, _ := n.Chain.Height(); h != n.Blocks.Height() {
		t.Fatalf("ledger at %d, block store at %d after start-up", h, n.Blocks.Height())
	}
	want, _ := n.Chain.AppHashAt(n.Blocks.Height())
	if want != st.AppHash {
		t.Fatalf("replayed app hash %x, before the crash %x", want[:4], st.AppHash[:4])
	}
	n.Close()
	runUntil(t, home, st.Height+2)
}

// A ledger ahead of its block store cannot happen by a crash; if a data
// directory is mixed up like that, start-up refuses with a clear error.
func TestLedgerAheadIsRefused(t *testing.T) {
	home := oneValidatorHome(t)
	runUntil(t, home, 3)
	saved := filepath.Join(t.TempDir(), "blocks-at-3")
	copyDir(t, filepath.Join(home, BlocksDir), saved)
	runUntil(t, home, 5)
	copyDir(t, saved, filepath.Join(home, BlocksDir))
	n, err := Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	err = n.NewEngine(nullTransport{}, nil)
	if err == nil {
		t.Fatal("started with the ledger ahead of the block store")
	}
	t.Logf("refused: %v", err)
}
