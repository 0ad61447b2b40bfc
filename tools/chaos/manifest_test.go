package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodManifest = `
name = "t"
validators = 4
full_nodes = 1
network = "netns"
[load]
rate = 5
duration = "30s"
[[perturbation]]
op = "kill"
nodes = ["node3"]
at = "5s"
duration = "5s"
[[perturbation]]
op = "loss"
nodes = ["node1", "full0"]
at = "2s"
duration = "5s"
probability = 0.2
[[perturbation]]
op = "latency"
nodes = ["node0"]
at = "12s"
duration = "5s"
delay = "100ms"
`

func TestParseGoodManifest(t *testing.T) {
	m, err := ParseManifest([]byte(goodManifest))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.NodeNames(), ","); got != "node0,node1,node2,node3,full0" {
		t.Fatalf("node names %s", got)
	}
	if m.Perturbation[0].Op != OpLoss || m.Perturbation[1].Op != OpKill {
		t.Fatalf("schedule not sorted by time: %v, %v", m.Perturbation[0], m.Perturbation[1])
	}
	if m.RecoveryLimit.Duration != 20*time.Second || m.Load.Senders != 20 || !m.UsesProxy() {
		t.Fatalf("defaults: limit %v senders %d proxy %v", m.RecoveryLimit, m.Load.Senders, m.UsesProxy())
	}
}

// Every shipped manifest parses.
func TestShippedManifests(t *testing.T) {
	files, _ := filepath.Glob("manifests/*.toml")
	if len(files) < 3 {
		t.Fatalf("only %d manifests in manifests/", len(files))
	}
	for _, f := range files {
		if _, err := LoadManifest(f); err != nil {
			t.Error(err)
		}
	}
}

func TestBadManifests(t *testing.T) {
	base := "validators = 4\nnetwork = \"netns\"\n[load]\nrate = 5\nduration = \"30s\"\n"
	for _, tc := range []struct{ name, toml, want string }{
		{"unknown top field", "colour = 1\n" + base, "unknown field(s): colour"},
		{"unknown perturbation field", base + "[[perturbation]]\nop = \"kill\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"1s\"\nsignal = 9\n", "unknown field(s): perturbation.signal"},
		{"unknown load field", strings.Replace(base, "rate = 5", "rate = 5\nburst = 3", 1), "unknown field(s): load.burst"},
		{"bad op", base + "[[perturbation]]\nop = \"explode\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"1s\"\n", `op = "explode": want one of kill, pause, restart, disconnect, loss, latency, partition`},
		{"clock skew says why", base + "[[perturbation]]\nop = \"clock_skew\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"1s\"\n", "CLOCK_REALTIME"},
		{"missing node", base + "[[perturbation]]\nop = \"kill\"\nnodes = [\"node7\"]\nat = \"1s\"\nduration = \"1s\"\n", `node "node7" does not exist (this manifest has node0, node1, node2, node3)`},
		{"full node not there", base + "[[perturbation]]\nop = \"kill\"\nnodes = [\"full0\"]\nat = \"1s\"\nduration = \"1s\"\n", `node "full0" does not exist`},
		{"no nodes", base + "[[perturbation]]\nop = \"pause\"\nat = \"1s\"\nduration = \"1s\"\n", "nodes: name at least one node"},
		{"no duration", base + "[[perturbation]]\nop = \"pause\"\nnodes = [\"node1\"]\nat = \"1s\"\n", "duration: missing"},
		{"after the load", base + "[[perturbation]]\nop = \"pause\"\nnodes = [\"node1\"]\nat = \"31s\"\nduration = \"1s\"\n", "not within load.duration"},
		{"bad duration", base + "[[perturbation]]\nop = \"pause\"\nnodes = [\"node1\"]\nat = \"soon\"\nduration = \"1s\"\n", `invalid duration "soon"`},
		{"loss without probability", base + "[[perturbation]]\nop = \"loss\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"1s\"\n", "loss needs it"},
		{"probability on kill", base + "[[perturbation]]\nop = \"kill\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"1s\"\nprobability = 0.5\n", "probability is for op = \"loss\" only"},
		{"probability above 1", base + "[[perturbation]]\nop = \"loss\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"1s\"\nprobability = 1.5\n", "probability = 1.5"},
		{"latency without delay", base + "[[perturbation]]\nop = \"latency\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"1s\"\n", "latency needs it"},
		{"disconnect on loopback", strings.Replace(base, "netns", "loopback", 1) + "[[perturbation]]\nop = \"disconnect\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"1s\"\n", `needs network = "netns"`},
		{"overlap on a node", base + "[[perturbation]]\nop = \"pause\"\nnodes = [\"node1\"]\nat = \"1s\"\nduration = \"5s\"\n[[perturbation]]\nop = \"kill\"\nnodes = [\"node1\"]\nat = \"3s\"\nduration = \"1s\"\n", "overlaps pause node1"},
		{"partition of everyone", base + "[[perturbation]]\nop = \"partition\"\nnodes = [\"node0\", \"node1\", \"node2\", \"node3\"]\nat = \"1s\"\nduration = \"1s\"\n", "leave at least one node on the other side"},
		{"partition with latency", base + "[[perturbation]]\nop = \"partition\"\nnodes = [\"node0\"]\nat = \"1s\"\nduration = \"1s\"\n[[perturbation]]\nop = \"latency\"\nnodes = [\"node1\"]\nat = \"5s\"\nduration = \"1s\"\ndelay = \"1ms\"\n", "cannot be combined with latency"},
		{"partition overlaps a fault on the other side", base + "[[perturbation]]\nop = \"partition\"\nnodes = [\"node0\"]\nat = \"1s\"\nduration = \"5s\"\n[[perturbation]]\nop = \"kill\"\nnodes = [\"node3\"]\nat = \"2s\"\nduration = \"1s\"\n", "overlaps partition node0"},
		{"node twice", base + "[[perturbation]]\nop = \"pause\"\nnodes = [\"node1\", \"node1\"]\nat = \"1s\"\nduration = \"1s\"\n", "named twice"},
		{"bad network", strings.Replace(base, "netns", "docker", 1), `network = "docker"`},
		{"no validators", strings.Replace(base, "validators = 4", "validators = 0", 1), "validators = 0"},
		{"no load", "validators = 4\n", "load.rate = 0"},
		{"no load duration", "validators = 4\n[load]\nrate = 3\n", "load.duration: missing"},
		{"not toml", "validators = [", "expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tc.toml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLoadManifestNamesTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(p, []byte("validators = 4\nbogus = true\n"), 0o644)
	if _, err := LoadManifest(p); err == nil || !strings.Contains(err.Error(), "bad.toml: unknown field(s): bogus") {
		t.Fatalf("got %v", err)
	}
}

// Who a fault touches, who must stand still, whom the load avoids.
func TestScopes(t *testing.T) {
	m, err := ParseManifest([]byte("validators = 4\nfull_nodes = 1\nnetwork = \"netns\"\n[load]\nrate = 1\nduration = \"9s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{m: m, c: &cluster{names: m.NodeNames()}}
	for _, tc := range []struct {
		op    string
		nodes []string
		want  string
	}{
		{OpKill, []string{"node1"}, "apply [1] avoid [1] still [] chain false"},
		{OpPause, []string{"node1", "node2"}, "apply [1 2] avoid [1 2] still [] chain true"},
		{OpKill, []string{"full0"}, "apply [4] avoid [4] still [] chain false"},
		{OpDisconnect, []string{"node3"}, "apply [3] avoid [3] still [3] chain false"},
		{OpPartition, []string{"node0", "node1"}, "apply [0 1 2 3 4] avoid [0 1 2 3 4] still [0 1 2 3 4] chain false"},
		{OpPartition, []string{"node3", "full0"}, "apply [3 4 0 1 2] avoid [3 4] still [3 4] chain false"},
		{OpLoss, []string{"node0"}, "apply [0] avoid [0] still [] chain false"},
	} {
		sc := r.scopeOf(&Perturbation{Op: tc.op, Nodes: tc.nodes})
		got := fmt.Sprintf("apply %v avoid %v still %v chain %v", sc.apply, sc.avoid, sc.still, sc.chainStill)
		if got != tc.want {
			t.Errorf("%s %v: %s, want %s", tc.op, tc.nodes, got, tc.want)
		}
	}
}
