package main

import (
	"bytes"
	"context"
	"math/rand"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

type contentBackend struct {
	*apitest.Backend
	svc *content.Service
}

func (b contentBackend) Content() *content.Service { return b.svc }

// contentNode is a node's content service and API on loopback.
func contentNode(t *testing.T) (host.Host, string) {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	svc, err := content.Start(context.Background(), t.TempDir(), h, content.ExchangeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		api.ServeListenerWith(ctx, ln, contentBackend{apitest.New(t), svc}, api.NewMetrics(), map[string]http.Handler{"/ipfs/": svc.Gateway})
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return h, "http://" + ln.Addr().String()
}

func TestContentCommandsThroughNode(t *testing.T) {
	ha, urlA := contentNode(t)
	hb, urlB := contentNode(t)
	if err := hb.Connect(context.Background(), peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 5<<20+3)
	rand.New(rand.NewSource(1)).Read(data)
	file := filepath.Join(t.TempDir(), "model.bin")
	os.WriteFile(file, data, 0o644)
	want := strings.TrimSpace(mustCLI(t, "", "add", file, "--only-hash"))

	code, out, errOut := cli(t, "", "add", file, "--node", urlA)
	if code != 0 || strings.TrimSpace(out) != want {
		t.Fatalf("add --node: %d %q %q, want %s", code, out, errOut, want)
	}
	// Not a terminal: a few plain lines, the last one the summary.
	if lines := strings.Count(errOut, "\n"); lines < 2 || lines > 12 || !strings.Contains(errOut, "add: ") || !strings.Contains(errOut, "added 5.0 MiB") {
		t.Errorf("add progress on a pipe: %q", errOut)
	}
	if out := mustCLI(t, "", "pin", "ls", "--node", urlA); strings.TrimSpace(out) != want {
		t.Errorf("pin ls --node: %q", out)
	}

	// B's node fetches from A; -o downloads it from B's gateway.
	dst := filepath.Join(t.TempDir(), "fetched.bin")
	code, out, errOut = cli(t, "", "fetch", want, "--node", urlB, "-o", dst, "--timeout", "30s")
	if code != 0 || strings.TrimSpace(out) != dst {
		t.Fatalf("fetch --node: %d %q %q", code, out, errOut)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("fetched file differs")
	}
	if !strings.Contains(errOut, "node fetched "+want) || !strings.Contains(errOut, "22 blocks received, 0 already held") {
		t.Errorf("fetch --node report: %q", errOut)
	}
	if out := mustCLI(t, "", "cat", want, "--node", urlB); out != string(data) {
		t.Errorf("cat --node: %d bytes", len(out))
	}

	// Errors, each on one line, and no partial output.
	unknown, _ := content.HashReader(context.Background(), strings.NewReader("nobody"), content.AddOptions{})
	dst2 := filepath.Join(t.TempDir(), "unknown.bin")
	code, _, errOut = cli(t, "", "fetch", unknown.String(), "--node", urlB, "-o", dst2, "--timeout", "1s")
	if code != 1 || !strings.Contains(errOut, "timed out") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("fetch --node of an unknown CID: %d %q", code, errOut)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dst2)); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	code, _, errOut = cli(t, "", "fetch", want, "--node", urlB, "-o", filepath.Join(file, "x"))
	if code != 1 || !strings.Contains(errOut, "writable -o path") {
		t.Errorf("fetch --node to an unwritable path: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "pin", "add", unknown.String(), "--node", urlB); code != 1 || !strings.Contains(errOut, "fetch it first") {
		t.Errorf("pin add --node of an unknown CID: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "add", t.TempDir(), "--node", urlA); code != 2 || !strings.Contains(errOut, "one file at a time") {
		t.Errorf("add --node of a directory: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "pin", "ls", "--node", "http://127.0.0.1:1"); code != 1 || !strings.Contains(errOut, "cannot reach the node") {
		t.Errorf("pin ls --node of nothing: %d %q", code, errOut)
	}

	mustCLI(t, "", "pin", "rm", want, "--node", urlB)
	if out := mustCLI(t, "", "gc", "--node", urlB); !strings.HasPrefix(out, "removed 22 blocks") {
		t.Errorf("gc --node: %q", out)
	}
	// Collected on B but still held by A: cat --node fetches it again (as ipfs cat).
	if code, out, errOut := cli(t, "", "cat", want, "--node", urlB); code != 0 || out != string(data) {
		t.Errorf("cat --node after gc: %d, %d bytes, %q", code, len(out), errOut)
	}
}
