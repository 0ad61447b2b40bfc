package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJobValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	os.WriteFile(good, []byte(`time_limit = "1m"
max_price = "1inf"
[image]
cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
[resources]
cpu = 1
memory = "64MiB"
`), 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte(`kind = "cron"
colour = "blue"
[resources]
memory = "lots"
`), 0o644)

	var out bytes.Buffer
	stdout, stderr = &out, &out
	defer func() { stdout, stderr = os.Stdout, os.Stderr }()
	if code := run([]string{"job", "validate", good}); code != 0 {
		t.Fatalf("good spec: exit %d: %s", code, out.String())
	}
	if !strings.Contains(out.String(), "ok: batch job") {
		t.Errorf("good spec output: %s", out.String())
	}
	out.Reset()
	if code := run([]string{"job", "validate", bad}); code == 0 {
		t.Fatalf("bad spec: exit 0: %s", out.String())
	}
	for _, w := range []string{"kind:", "colour: unknown field", "resources.memory:", "resources.cpu: missing", "image: missing"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("bad spec output lacks %q:\n%s", w, out.String())
		}
	}
	out.Reset()
	if code := run([]string{"job", "validate", filepath.Join(dir, "none.toml")}); code == 0 {
		t.Error("missing file: exit 0")
	}
}

func TestJobRunChecks(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "img.tar")
	os.WriteFile(archive, []byte("not the image"), 0o644)
	spec := filepath.Join(dir, "job.toml")
	os.WriteFile(spec, []byte(`time_limit = "1m"
max_price = "1inf"
[image]
cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
[resources]
cpu = 1
memory = "64MiB"
[[inputs]]
cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
path = "/in/x"
`), 0o644)
	var out bytes.Buffer
	stdout, stderr = &out, &out
	defer func() { stdout, stderr = os.Stdout, os.Stderr }()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"job", "run", spec, "--out", filepath.Join(dir, "o")}, "--image FILE"},
		{[]string{"job", "run", spec, "--image", archive, "--out", filepath.Join(dir, "o")}, "has CID"},
		{[]string{"job", "run", spec}, "--out DIR"},
	} {
		out.Reset()
		if code := run(c.args); code == 0 || !strings.Contains(out.String(), c.want) {
			t.Errorf("%v: exit %d, output %q; want %q", c.args, code, out.String(), c.want)
		}
	}
}
