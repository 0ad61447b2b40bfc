package node

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An API on a non-loopback address without a token stops the node before
// any store opens, with a message that names the setting and how to make
// a token; with one, the node opens.
func TestExposedAPINeedsToken(t *testing.T) {
	home := oneValidatorHome(t)
	t.Setenv(EnvAPIToken, "")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Address = "0.0.0.0:26657"
	if err := SaveConfig(home, cfg); err != nil {
		t.Fatal(err)
	}
	_, err = Open(home, quiet)
	if err == nil {
		t.Fatal("a node with an exposed API and no token opened")
	}
	for _, want := range []string{"0.0.0.0:26657", "token_file", "openssl rand -hex 32", EnvAPIToken} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(home, StateDir)); err == nil {
		t.Error("the refused node opened its state store")
	}

	// A missing token file, an empty one and a short one are refused too.
	cfg.API.TokenFile = "config/api_token"
	if err := SaveConfig(home, cfg); err != nil {
		t.Fatal(err)
	}
	tokPath := filepath.Join(home, "config", "api_token")
	for _, c := range []struct{ content, want string }{{"", "no such file"}, {"\n", "is empty"}, {"abc\n", "shorter than"}} {
		os.Remove(tokPath)
		if c.want != "no such file" {
			os.WriteFile(tokPath, []byte(c.content), 0o600)
		}
		if _, err := Open(home, quiet); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("token file %q: %v, want %q", c.content, err, c.want)
		}
	}
	os.WriteFile(tokPath, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	n, err := Open(home, quiet)
	if err != nil {
		t.Fatalf("with a token file: %v", err)
	}
	if n.apiToken != "0123456789abcdef0123456789abcdef" {
		t.Errorf("token %q", n.apiToken)
	}
	n.Close()
	// $INFERD_API_TOKEN wins over the file.
	t.Setenv(EnvAPIToken, "fedcba9876543210fedcba9876543210")
	if n, err = Open(home, quiet); err != nil || n.apiToken != "fedcba9876543210fedcba9876543210" {
		t.Fatalf("with the env token: %v", err)
	}
	n.Close()
}

func TestAPIConfigValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(*APIConfig)
		want string
	}{
		{func(a *APIConfig) { a.MaxBodyBytes = 0 }, "max_body_bytes"},
		{func(a *APIConfig) { a.MaxAddBytes = -1 }, "max_add_bytes"},
		{func(a *APIConfig) { a.MaxConcurrentRequests = 0 }, "max_concurrent_requests"},
		{func(a *APIConfig) { a.MaxEventStreams = 0 }, "max_event_streams"},
		{func(a *APIConfig) { a.CORSAllowedOrigins = []string{"app.example"} }, "cors_allowed_origins"},
		{func(a *APIConfig) { a.CORSAllowedOrigins = []string{"https://app.example/path"} }, "cors_allowed_origins"},
	} {
		cfg := DefaultConfig("n")
		c.edit(&cfg.API)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.want, err)
		}
	}
	cfg := DefaultConfig("n")
	cfg.API.CORSAllowedOrigins = []string{"https://app.example", "http://localhost:3000", "*"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
