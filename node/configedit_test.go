package node

import (
	"errors"
	"strings"
	"testing"
)

func TestEditTOML(t *testing.T) {
	in := "# top\nmoniker = \"a\"\n\n[p2p]\n# peers below\nbootstrap_peers = [\n  \"x\", # first\n  \"y]\",\n]\nmdns = false\n\n[api]\naddress = \"1\"\n"
	got := editTOML(in, "p2p", "bootstrap_peers", `bootstrap_peers = ["z"]`)
	want := "# top\nmoniker = \"a\"\n\n[p2p]\n# peers below\nbootstrap_peers = [\"z\"]\nmdns = false\n\n[api]\naddress = \"1\"\n"
	if got != want {
		t.Fatalf("multi-line array:\n%s\nwant\n%s", got, want)
	}
	got = editTOML(in, "p2p", "max_peers", "max_peers = 3")
	if !strings.Contains(got, "mdns = false\nmax_peers = 3\n\n[api]") {
		t.Fatalf("added key:\n%s", got)
	}
	got = editTOML(in, "agent", "key", `key = "op"`)
	if !strings.HasSuffix(got, "address = \"1\"\n\n[agent]\nkey = \"op\"\n") {
		t.Fatalf("new section:\n%s", got)
	}
	if got = editTOML(in, "", "moniker", `moniker = "b"`); !strings.Contains(got, "# top\nmoniker = \"b\"\n") {
		t.Fatalf("top-level key:\n%s", got)
	}
}

func TestConfigGetSetKeys(t *testing.T) {
	c := DefaultConfig("m")
	keys := ConfigKeys()
	if len(keys) < 19 || keys[0] != "agent.key" {
		t.Fatalf("keys: %v", keys)
	}
	for _, k := range keys {
		v, err := c.Get(k)
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		if err := c.Set(k, v); err != nil {
			t.Fatalf("set %s %q (its own value): %v", k, v, err)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("p2p.nope", "1"); !errors.Is(err, ErrUnknownSetting) || !strings.Contains(err.Error(), "api.address") {
		t.Fatalf("unknown: %v", err)
	}
}
