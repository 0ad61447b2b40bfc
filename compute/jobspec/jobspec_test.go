package jobspec

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/inferd/inferd/codec"
)

const testCID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

const goodBatch = `
kind = "batch"
command = ["/bin/sh", "-c"]
args = ["wc -c /in/data/x > /out/result.txt"]
time_limit = "10m"
max_price = "2.5inf"
network = false
outputs = ["/out/result.txt"]

[image]
cid = "` + testCID + `"

[env]
MODE = "fast"
B_2 = "x"

[resources]
cpu = 1.5
memory = "512MiB"

[resources.gpu]
count = 1
min_vram = "16GiB"
models = ["H100", "A100"]

[[inputs]]
cid = "` + testCID + `"
path = "/in/data"
`

const goodService = `
kind = "service"
command = ["/bin/httpd", "-f", "-p", "8080"]
[image]
ref = "docker.io/library/busybox:1.36@sha256:` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `"
[resources]
cpu = 2
memory = "1GiB"
[service]
port = 8080
health = "/healthz"
duration_blocks = 1000
price_per_block = "100uinf"
`

func TestParseGood(t *testing.T) {
	s, err := Parse([]byte(goodBatch))
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Kind:      KindBatch,
		Image:     Image{CID: testCID},
		Command:   []string{"/bin/sh", "-c"},
		Args:      []string{"wc -c /in/data/x > /out/result.txt"},
		Env:       map[string]string{"MODE": "fast", "B_2": "x"},
		Resources: Resources{MilliCPU: 1500, MemoryBytes: 512 << 20, GPU: &GPU{Count: 1, MinVRAMBytes: 16 << 30, Models: []string{"H100", "A100"}}},
		Inputs:    []Input{{CID: testCID, Path: "/in/data"}},
		Outputs:   []string{"/out/result.txt"},
		TimeLimit: 600,
		MaxPrice:  2_500_000,
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
	sv, err := Parse([]byte(goodService))
	if err != nil {
		t.Fatal(err)
	}
	if sv.Kind != KindService || sv.Service.Port != 8080 || sv.Service.PricePerBlock != 100 || sv.Resources.MilliCPU != 2000 {
		t.Fatalf("service: %+v %+v", sv, sv.Service)
	}
}

func paths(t *testing.T, err error) []string {
	t.Helper()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v is not Errors", err)
	}
	var ps []string
	for _, e := range es {
		if e.Problem == "" {
			t.Errorf("%s: empty problem", e.Path)
		}
		ps = append(ps, e.Path)
	}
	return ps
}

// Every bad field is named, not just the first.
func TestParseNamesEveryBadField(t *testing.T) {
	bad := `
kind = "cron"
command = "not-an-array"
time_limit = "1.5s"
max_price = "lots"
network = "yes"
colour = "blue"
outputs = ["/etc/passwd", "/out/a", "/out/a"]
[image]
cid = "Qm-nope"
ref = "busybox:latest"
[env]
"1BAD" = "x"
[resources]
cpu = "two"
memory = "512 parsecs"
swap = "1G"
[resources.gpu]
count = 0
min_vram = 5
[[inputs]]
cid = "` + testCID + `"
path = "/proc/self"
[[inputs]]
cid = "nope"
path = "relative/dir"
[service]
port = 8080
`
	_, err := Parse([]byte(bad))
	if err == nil {
		t.Fatal("bad spec accepted")
	}
	got := paths(t, err)
	want := []string{"kind", "command", "resources.cpu", "resources.memory", "resources.gpu.min_vram",
		"time_limit", "max_price", "network", "colour", "resources.swap", "image",
		"env.1BAD", "resources.gpu.count", "inputs[0].path", "inputs[1].cid", "inputs[1].path",
		"outputs[0]", "outputs[2]"}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("no error for %s; got %v", w, got)
		}
	}
	t.Logf("%v", err)
}

func TestParseMissing(t *testing.T) {
	_, err := Parse([]byte(`kind = "batch"`))
	got := strings.Join(paths(t, err), " ")
	for _, w := range []string{"image", "resources.cpu", "resources.memory", "time_limit", "max_price"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %s not reported: %v", w, err)
		}
	}
	_, err = Parse([]byte(`kind = "service"
[image]
cid = "` + testCID + `"
[resources]
cpu = 1
memory = "64MiB"
`))
	if got := paths(t, err); len(got) != 1 || got[0] != "service" {
		t.Errorf("service without [service]: %v", err)
	}
}

func TestParseSyntaxAndSize(t *testing.T) {
	if _, err := Parse([]byte("kind = ")); err == nil || !strings.Contains(err.Error(), "not valid TOML") {
		t.Errorf("syntax error: %v", err)
	}
	big := goodBatch + "# " + strings.Repeat("x", MaxSpecBytes)
	if _, err := Parse([]byte(big)); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("oversized spec: %v", err)
	}
}

func TestCaps(t *testing.T) {
	var b strings.Builder
	b.WriteString(goodBatch)
	for i := range MaxInputs {
		fmt.Fprintf(&b, "[[inputs]]\ncid = %q\npath = \"/in/x%d\"\n", testCID, i)
	}
	_, err := Parse([]byte(b.String()))
	if got := paths(t, err); len(got) != 1 || got[0] != "inputs" {
		t.Errorf("too many inputs: %v", err)
	}
	s, _ := Parse([]byte(goodBatch))
	s.Args = make([]string, MaxArgs)
	s.Env = map[string]string{"A": strings.Repeat("v", MaxEnvBytes+1)}
	for i := range MaxOutputs + 1 {
		s.Outputs = append(s.Outputs, fmt.Sprintf("/out/%d", i))
	}
	got := paths(t, s.Validate())
	if !reflect.DeepEqual(got, []string{"args", "env.A", "outputs"}) {
		t.Errorf("caps: %v", got)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"512MiB": 512 << 20, "1GB": 1e9, "4096": 4096, "2 GiB": 2 << 30, "7B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "1.5GiB", "-1", "1XB", "99999999999999999999", "20000000000TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]uint64{"2inf": 2e6, "0.25inf": 250000, "1500uinf": 1500, "1.000001inf": 1000001} {
		if got, err := ParseAmount(in); err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2", "inf", ".5inf", "1.0000001inf", "-1inf", "+1inf", "1e3uinf", "99999999999999999999inf"} {
		if _, err := ParseAmount(in); err == nil {
			t.Errorf("ParseAmount(%q) accepted", in)
		}
	}
}

func TestRefPinned(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	for _, ok := range []string{"busybox@sha256:" + hex, "localhost:5000/team/img:v1@sha256:" + hex} {
		if err := (&Spec{Kind: KindBatch, Image: Image{Ref: ok}}).Validate(); err != nil && strings.Contains(err.Error(), "image") {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"busybox:latest", "busybox@sha256:abc", "BusyBox@sha256:" + hex} {
		err := (&Spec{Kind: KindBatch, Image: Image{Ref: bad}}).Validate()
		if err == nil || !strings.Contains(err.Error(), "image.ref") {
			t.Errorf("%s accepted: %v", bad, err)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, src := range []string{goodBatch, goodService} {
		s, err := Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s, d) {
			t.Fatalf("round trip:\n%+v\n%+v", s, d)
		}
		b2, _ := Encode(d)
		if string(b) != string(b2) {
			t.Fatal("encoding not stable")
		}
	}
	// Invalid specs are neither encoded nor decoded.
	bad := &Spec{Kind: "cron"}
	if _, err := Encode(bad); err == nil {
		t.Error("invalid spec encoded")
	}
	if _, err := Decode(codec.MustMarshal(bad)); err == nil {
		t.Error("invalid spec decoded")
	}
	// Unknown keys and non-canonical forms are refused.
	type extra struct {
		Spec
		X int `cbor:"zzz"`
	}
	s, _ := Parse([]byte(goodBatch))
	if _, err := Decode(codec.MustMarshal(extra{Spec: *s, X: 1})); err == nil {
		t.Error("unknown key decoded")
	}
	b, _ := Encode(s)
	if _, err := Decode(append(b, 0)); err == nil {
		t.Error("trailing byte decoded")
	}
}

func TestExampleFiles(t *testing.T) {
	b, _ := os.ReadFile("testdata/batch.toml")
	if _, err := Parse(b); err != nil {
		t.Errorf("testdata/batch.toml: %v", err)
	}
	b, _ = os.ReadFile("testdata/bad.toml")
	_, err := Parse(b)
	if got := paths(t, err); !reflect.DeepEqual(got, []string{"resources.memory", "colour", "image.ref", "outputs[0]"}) {
		t.Errorf("testdata/bad.toml: %v", err)
	}
}
