package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCloudCommandsRefuseBadInput: the cloud commands name what is wrong
// before contacting any node.
func TestCloudCommandsRefuseBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("kind = \"cron\"\ncolour = \"blue\"\n"), 0o644)
	var out bytes.Buffer
	stdout, stderr = &out, &out
	defer func() { stdout, stderr = os.Stdout, os.Stderr }()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"job", "submit", bad, "--from", "me", "--node", "http://127.0.0.1:1"}, "colour: unknown field"},
		{[]string{"job", "get", "0", "-o", dir}, "positive integer id"},
		{[]string{"job", "get", "3", "--node", "http://127.0.0.1:1"}, "-o DIR is required"},
		{[]string{"lease", "forward", "3", "--node", "http://127.0.0.1:1"}, "--from KEY is required"},
		{[]string{"tx", "lease", "close", "x", "--from", "me"}, "positive integer id"},
		{[]string{"tx", "lease", "allow", "3", "not-an-address", "--from", "me"}, "not-an-address"},
	}
	for _, c := range cases {
		out.Reset()
		if code := run(c.args); code == 0 || !strings.Contains(out.String(), c.want) {
			t.Errorf("inferd %s: exit %d, output %q; want a failure naming %q", strings.Join(c.args, " "), code, out.String(), c.want)
		}
	}
}
