package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inferd/inferd/node"
)

// freePort is a loopback TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// The documented way to join a network as a plain full node (docs/operations.md,
// "Join as a full node"): init with the network's genesis, run with a
// bootstrap peer and listen flags; no hand-edited TOML. The fifth node
// reaches the validators' tip, has the same blocks, and says it is not a
// validator.
func TestJoinAsFullNode(t *testing.T) {
	skipShort(t)
	tn := newNet(t, 4, 100*time.Millisecond)
	tn.startAll()
	api0 := tn.info.Nodes[0].API
	waitHeight(t, api0, 3, 60*time.Second)

	home := filepath.Join(t.TempDir(), "fifth")
	out, err := exec.Command(inferdBin, "init", "--home", home, "--moniker", "fifth",
		"--genesis", filepath.Join(tn.info.Nodes[0].Home, node.GenesisFile)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "full node") {
		t.Fatalf("init --genesis: %v\n%s", err, out)
	}
	p2pPort, apiPort := freePort(t), freePort(t)
	api := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	logf, err := os.Create(filepath.Join(home, "node.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(inferdBin, "run", "--home", home,
		"--bootstrap", tn.info.Nodes[0].P2P,
		"--p2p.laddr", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", p2pPort),
		"--api.laddr", fmt.Sprintf("127.0.0.1:%d", apiPort))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, home: home, api: api, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	tn.procs = append(tn.procs, p) // stopped with the others
	t.Cleanup(func() {
		if t.Failed() {
			raw, _ := os.ReadFile(filepath.Join(home, "node.log"))
			t.Logf("--- fifth log ---\n%s", raw)
		}
	})

	tip, err := statusOf(api0)
	if err != nil {
		t.Fatal(err)
	}
	st := waitHeight(t, api, tip.Height+2, 45*time.Second)
	if st.ChainID != tn.info.ChainID || st.Peers == 0 {
		t.Fatalf("fifth node status: %+v", st)
	}
	if got, want := blockAt(t, api, tip.Height).Hash, blockAt(t, api0, tip.Height).Hash; got != want {
		t.Fatalf("block %d: fifth node has %s, node0 %s", tip.Height, got, want)
	}
	table, err := exec.Command(inferdBin, "status", "--node", api, "-o", "table").CombinedOutput()
	if err != nil || !strings.Contains(string(table), "validator:") || !strings.Contains(string(table), "no (full node)") {
		t.Fatalf("status of the full node: %v\n%s", err, table)
	}
	// Kubo-style id and swarm peers through the API match the offline show-node-id.
	pid, err := exec.Command(inferdBin, "show-node-id", "--home", home).Output()
	if err != nil {
		t.Fatal(err)
	}
	idOut, err := exec.Command(inferdBin, "id", "--node", api, "-o", "json").Output()
	if err != nil || !strings.Contains(string(idOut), strings.TrimSpace(string(pid))) {
		t.Fatalf("id: %v\n%s (show-node-id %s)", err, idOut, pid)
	}
	peers, err := exec.Command(inferdBin, "swarm", "peers", "--node", api, "-o", "table").Output()
	node0 := tn.info.Nodes[0].P2P[strings.LastIndex(tn.info.Nodes[0].P2P, "/p2p/"):]
	if err != nil || !strings.Contains(string(peers), node0) {
		t.Fatalf("swarm peers lacks the bootstrap peer %s: %v\n%s", node0, err, peers)
	}
	raw, _ := os.ReadFile(filepath.Join(home, "node.log"))
	if !strings.Contains(string(raw), fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/", p2pPort)) {
		t.Fatalf("the node did not log its dialable p2p address:\n%s", raw)
	}
}
