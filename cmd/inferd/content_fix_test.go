package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// cat --node of a CID the node does not hold: the node fetches it from its
// peers (as ipfs cat does) instead of answering 404.
func TestCatThroughNodeFetches(t *testing.T) {
	ha, urlA := contentNode(t)
	hb, urlB := contentNode(t)
	if err := hb.Connect(context.Background(), peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(file, []byte("held only by node A\n"), 0o644)
	id := strings.TrimSpace(mustCLI(t, "", "add", file, "--node", urlA))
	out := mustCLI(t, "", "cat", id, "--node", urlB)
	if out != "held only by node A\n" {
		t.Fatalf("cat --node through B: %q", out)
	}
	// Not pinned by cat: it stays garbage for gc, as ipfs cat leaves it.
	if pins := mustCLI(t, "", "pin", "ls", "--node", urlB); strings.Contains(pins, id) {
		t.Fatalf("cat pinned %s on B: %q", id, pins)
	}
	// Nobody holds it: the error says so, with no "0 of 0 bytes".
	missing := "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku" // held by neither node
	code, _, errOut := cli(t, "", "cat", missing, "--node", urlB, "--timeout", "300ms")
	if code != 1 || !strings.Contains(errOut, "does not hold it and could not fetch it") || strings.Contains(errOut, "0 of 0 bytes") || !strings.Contains(errOut, "before the first block arrived") || !oneLineError(errOut) {
		t.Fatalf("cat of a CID nobody holds: %d %q", code, errOut)
	}
}

// A CID with a typo in the spare bits of its last character decodes to
// another spelling's CID: refused, never echoed back as that other CID.
func TestMistypedCIDRefused(t *testing.T) {
	clearEnv(t)
	home := t.TempDir()
	good := "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
	bad := good[:len(good)-1] + "v" // 'u' and 'v' differ only in the spare bits
	for _, args := range [][]string{{"cat", bad, "--home", home}, {"pin", "add", bad, "--home", home}, {"fetch", bad, "--node", "http://127.0.0.1:1"}} {
		code, out, errOut := cli(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "canonical") || strings.Contains(out, good) || !oneLineError(errOut) {
			t.Errorf("inferd %v: exit %d out %q err %q", args, code, out, errOut)
		}
	}
	if code, _, errOut := cli(t, "", "cat", "BAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU", "--home", home, "--timeout", time.Second.String()); code == 2 {
		t.Errorf("the upper-case spelling is a CID too: %q", errOut)
	}
}
