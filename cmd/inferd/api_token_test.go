package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/node"
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

// init --api-address beyond loopback writes a token file (0600) and points
// the config at it, so the node it made can start; on loopback it writes
// none.
func TestInitWritesATokenForAnExposedAPI(t *testing.T) {
	clearEnv(t)
	t.Setenv(envAPIToken, "")
	home := filepath.Join(t.TempDir(), "n1")
	out := mustCLI(t, "", "init", "--home", home, "--chain-id", "dev-1", "--moniker", "one", "--keyring-backend", "test", "--api-address", "0.0.0.0:26657")
	path := filepath.Join(home, node.APITokenFile)
	if !strings.Contains(out, path) || !strings.Contains(out, "--api-token") {
		t.Errorf("init output does not point at the token: %s", out)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", st, err)
	}
	tok, _ := os.ReadFile(path)
	if len(strings.TrimSpace(string(tok))) != 64 {
		t.Fatalf("token %q, want 64 hex digits", tok)
	}
	cfg, err := node.LoadConfig(home)
	if err != nil || cfg.API.Address != "0.0.0.0:26657" || cfg.API.TokenFile != node.APITokenFile {
		t.Fatalf("config: %+v %v", cfg.API, err)
	}
	n, err := node.Open(home, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("the node init made does not open: %v", err)
	}
	n.Close()

	local := filepath.Join(t.TempDir(), "n2")
	mustCLI(t, "", "init", "--home", local, "--chain-id", "dev-1", "--moniker", "two", "--keyring-backend", "test")
	if _, err := os.Stat(filepath.Join(local, node.APITokenFile)); err == nil {
		t.Error("init on loopback wrote a token")
	}
	if code, _, errOut := cli(t, "", "init", "--home", filepath.Join(t.TempDir(), "n3"), "--chain-id", "dev-1", "--moniker", "x", "--api-address", "nope"); code != 2 || !strings.Contains(errOut, "api.address") {
		t.Errorf("bad --api-address: %d %q", code, errOut)
	}
}
