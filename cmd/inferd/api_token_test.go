package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/api/apitest"
)

// The content commands pass --api-token (or $INFERD_API_TOKEN) to a node
// whose write endpoints need one; without it they fail saying how to.
func TestContentCommandsSendTheAPIToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	t.Setenv(envAPIToken, "")
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
		api.ServeOptions(ctx, ln, contentBackend{apitest.New(t), svc}, nil, api.Options{Token: token})
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	url := "http://" + ln.Addr().String()
	file := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(file, []byte("some model"), 0o644)

	code, _, errOut := cli(t, "", "add", file, "--node", url)
	if code != 1 || !strings.Contains(errOut, "--api-token") || !strings.Contains(errOut, envAPIToken) {
		t.Fatalf("add without a token: exit %d, %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "gc", "--node", url, "--api-token", "wrong-token-wrong-token"); code != 1 || !strings.Contains(errOut, "wrong") {
		t.Fatalf("gc with a wrong token: exit %d, %q", code, errOut)
	}
	cidStr := strings.TrimSpace(mustCLI(t, "", "add", file, "--node", url, "--api-token", token))
	t.Setenv(envAPIToken, token)
	mustCLI(t, "", "gc", "--node", url)
	if out := mustCLI(t, "", "pin", "ls", "--node", url); strings.TrimSpace(out) != cidStr {
		t.Fatalf("pin ls: %q, want %s", out, cidStr)
	}
	// status/query/tx commands take the flag too.
	if code, _, errOut := cli(t, "", "status", "--node", url, "--api-token", token); code != 0 {
		t.Fatalf("status --api-token: %d %q", code, errOut)
	}
}
