package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"

	"github.com/inferd/inferd/content"
)

func TestContentCommands(t *testing.T) {
	home := t.TempDir()
	file := filepath.Join(t.TempDir(), "zeros.bin")
	if err := os.WriteFile(file, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	const zeros = "bafybeiggzq4ryi7hscq5hzvzcnk4urnxt3asp37dhgvnjilf7exskximla"
	if out := mustCLI(t, "", "add", file, "--only-hash", "--home", home); strings.TrimSpace(out) != zeros {
		t.Fatalf("add --only-hash printed %q, want %s", out, zeros)
	}
	if _, err := os.Stat(filepath.Join(home, content.Dir)); !os.IsNotExist(err) {
		t.Errorf("--only-hash created the store (stat: %v)", err)
	}
	if out := mustCLI(t, "", "add", file, "--home", home); strings.TrimSpace(out) != zeros {
		t.Fatalf("add printed %q", out)
	}
	small := filepath.Join(t.TempDir(), "hello.txt")
	os.WriteFile(small, []byte("hello\n"), 0o644)
	helloCID := strings.TrimSpace(mustCLI(t, "", "add", small, "--home", home))
	if out := mustCLI(t, "", "cat", helloCID, "--home", home); out != "hello\n" {
		t.Errorf("cat printed %q", out)
	}
	out := mustCLI(t, "", "pin", "ls", "--home", home)
	if !strings.Contains(out, zeros) || !strings.Contains(out, helloCID) {
		t.Errorf("pin ls: %q", out)
	}
	mustCLI(t, "", "pin", "rm", helloCID, "--home", home)
	if out := mustCLI(t, "", "gc", "--home", home); !strings.HasPrefix(out, "removed 1 blocks") {
		t.Errorf("gc printed %q", out)
	}
	if code, _, errOut := cli(t, "", "cat", helloCID, "--home", home); code != 1 || !strings.Contains(errOut, "not in the local content store") {
		t.Errorf("cat after gc: code %d, %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "pin", "add", helloCID, "--home", home); code != 1 || !strings.Contains(errOut, "not in the local content store") {
		t.Errorf("pin add of a collected CID: code %d, %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "cat", "notacid", "--home", home); code != 2 || !strings.Contains(errOut, `bad CID "notacid"`) {
		t.Errorf("cat notacid: code %d, %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "add", file, "--chunker", "size-x", "--only-hash"); code != 1 || !strings.Contains(errOut, "chunker") {
		t.Errorf("bad chunker: code %d, %q", code, errOut)
	}

	// A running node holds the store: the error says what to do.
	s, err := content.Open(filepath.Join(home, content.Dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, _, errOut := cli(t, "", "pin", "ls", "--home", home)
	if code != 1 || !strings.Contains(errOut, "the store is in use by a running node; pass --node http://127.0.0.1:") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("locked store: code %d, %q", code, errOut)
	}
}

func TestFetchCommand(t *testing.T) {
	ctx := context.Background()
	src, err := content.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	data := bytes.Repeat([]byte("model weights "), 100000)
	id, err := src.AddReader(ctx, bytes.NewReader(data), content.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ex := content.NewExchange(ctx, h, src, content.ExchangeOptions{})
	defer ex.Close()
	addr := h.Addrs()[0].String() + "/p2p/" + h.ID().String()

	home := t.TempDir()
	out := filepath.Join(t.TempDir(), "model.bin")
	code, _, errOut := cli(t, "", "fetch", id.String(), "--peer", addr, "-o", out, "--home", home)
	if code != 0 || !strings.Contains(errOut, "blocks received, 0 already held") {
		t.Fatalf("fetch: %d %q", code, errOut)
	}
	t.Logf("stderr of fetch:\n%s", errOut)
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("fetched file differs")
	}
	if out := mustCLI(t, "", "pin", "ls", "--home", home); strings.TrimSpace(out) != id.String() {
		t.Errorf("pin ls after fetch: %q", out)
	}
	if code, _, errOut := cli(t, "", "fetch", "garbage", "--peer", addr, "--home", home); code != 2 || !strings.Contains(errOut, "bad CID") {
		t.Errorf("fetch garbage: %d %q", code, errOut)
	}
	unknown, _ := content.HashReader(ctx, strings.NewReader("nobody"), content.AddOptions{})
	code, _, errOut = cli(t, "", "fetch", unknown.String(), "--peer", addr, "--home", home, "--timeout", "1s", "-o", out+".2")
	if code != 1 || !strings.Contains(errOut, "timed out") {
		t.Errorf("fetch unknown: %d %q", code, errOut)
	}
	if _, err := os.Stat(out + ".2"); !os.IsNotExist(err) {
		t.Error("an output file was left after a failed fetch")
	}
}
