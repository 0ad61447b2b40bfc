package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/inferd/inferd/node/api"
)

// EnvAPIToken overrides [api] token_file.
const EnvAPIToken = "INFERD_API_TOKEN"

// APITokenFile is where `inferd init` writes a token, under the home.
const APITokenFile = "config/api_token"

// NewAPIToken writes a fresh random token (32 bytes, hex) to
// <home>/config/api_token, readable by the owner only; it never
// overwrites a file there. It returns the path.
func NewAPIToken(home string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	path := filepath.Join(home, APITokenFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write the API token: %v", err)
	}
	if _, err := fmt.Fprintln(f, hex.EncodeToString(b[:])); err != nil {
		f.Close()
		return "", fmt.Errorf("write the API token: %v", err)
	}
	return path, f.Close()
}

func (c *APIConfig) validate() error {
	switch {
	case c.MaxBodyBytes < 1:
		return errors.New("config: api.max_body_bytes must be positive (default 262144)")
	case c.MaxAddBytes < 1:
		return errors.New("config: api.max_add_bytes must be positive (default 274877906944, 256 GiB)")
	case c.MaxConcurrentRequests < 1:
		return errors.New("config: api.max_concurrent_requests must be at least 1")
	case c.MaxEventStreams < 1:
		return errors.New("config: api.max_event_streams must be at least 1")
	}
	for _, o := range c.CORSAllowedOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("config: api.cors_allowed_origins: %q is not an origin (want scheme://host[:port], e.g. https://app.example, or *)", o)
		}
	}
	return nil
}

// apiToken reads the API token: $INFERD_API_TOKEN, else [api] token_file
// (relative to home), else none. It refuses to go on without one when
// the API listens beyond loopback, and says how to make one.
func (c *APIConfig) apiToken(home string) (string, error) {
	tok := strings.TrimSpace(os.Getenv(EnvAPIToken))
	src := "$" + EnvAPIToken
	if tok == "" && c.TokenFile != "" {
		path := c.TokenFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(home, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("config: api.token_file: %v (create it with: openssl rand -hex 32 > %s && chmod 600 %s)", err, path, path)
		}
		if tok = strings.TrimSpace(string(b)); tok == "" {
			return "", fmt.Errorf("config: api.token_file %s is empty (fill it with: openssl rand -hex 32 > %s)", path, path)
		}
		src = path
	}
	if err := api.CheckToken(c.Address, tok); err != nil {
		if errors.Is(err, api.ErrTokenRequired) {
			path := filepath.Join(home, APITokenFile)
			return "", fmt.Errorf("config: api.address %s is not a loopback address, so the API's write endpoints (content add, fetch, pin, gc) need a token and none is set: "+
				"create one with `openssl rand -hex 32 > %s && chmod 600 %s` and set token_file = %q under [api] in %s (or set $%s), or listen on 127.0.0.1",
				c.Address, path, path, APITokenFile, filepath.Join(home, ConfigFile), EnvAPIToken)
		}
		return "", fmt.Errorf("%s: %v", src, err)
	}
	return tok, nil
}

// apiOptions are the api.Options of this configuration with token.
func (c *APIConfig) apiOptions(token string) api.Options {
	o := api.DefaultOptions()
	o.Token = token
	o.MaxBodyBytes, o.MaxAddBytes = c.MaxBodyBytes, c.MaxAddBytes
	o.MaxConcurrent, o.MaxEventStreams = c.MaxConcurrentRequests, c.MaxEventStreams
	o.CORSAllowedOrigins = c.CORSAllowedOrigins
	return o
}
