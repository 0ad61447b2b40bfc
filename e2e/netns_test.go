package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"encoding/json"

	"github.com/inferd/inferd/node"
)

// The namespace test puts each validator in its own network namespace
// (created and removed by the test), joined by a bridge in a fifth
// namespace, with addresses 10.77.0.1-4 that exist only inside them.

const netnsSubnet = "10.77.0."

func runIP(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func netnsAvailable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespace tests need root (CI runs them as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) not installed; .ci/run installs it")
	}
	name := fmt.Sprintf("infprobe%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns does not work here: %v %s", err, out)
	}
	exec.Command("ip", "netns", "del", name).Run()
}

type nsNet struct {
	t      *testing.T
	prefix string
	n      int
}

func (s *nsNet) ns(i int) string { return fmt.Sprintf("%s%d", s.prefix, i) }
func (s *nsNet) bridge() string  { return s.prefix + "br" }
func (s *nsNet) ip(i int) string { return fmt.Sprintf("%s%d", netnsSubnet, i+1) }

func setupNetns(t *testing.T, n int) *nsNet {
	s := &nsNet{t: t, prefix: fmt.Sprintf("inf%d-", os.Getpid()%100000), n: n}
	t.Cleanup(func() {
		for i := 0; i < n; i++ {
			exec.Command("ip", "netns", "del", s.ns(i)).Run()
		}
		exec.Command("ip", "netns", "del", s.bridge()).Run()
	})
	runIP(t, "netns", "add", s.bridge())
	runIP(t, "-n", s.bridge(), "link", "add", "br0", "type", "bridge")
	runIP(t, "-n", s.bridge(), "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		runIP(t, "netns", "add", s.ns(i))
		runIP(t, "-n", s.ns(i), "link", "set", "lo", "up")
		runIP(t, "-n", s.ns(i), "link", "add", "eth0", "type", "veth", "peer", "name", fmt.Sprintf("p%d", i), "netns", s.bridge())
		runIP(t, "-n", s.ns(i), "addr", "add", s.ip(i)+"/24", "dev", "eth0")
		runIP(t, "-n", s.ns(i), "link", "set", "eth0", "up")
		runIP(t, "-n", s.bridge(), "link", "set", fmt.Sprintf("p%d", i), "master", "br0", "up")
	}
	return s
}

// partition blackholes traffic between the two groups.
func (s *nsNet) partition(a, b []int, on bool) {
	verb := "add"
	if !on {
		verb = "del"
	}
	for _, i := range a {
		for _, j := range b {
			runIP(s.t, "-n", s.ns(i), "route", verb, "blackhole", s.ip(j)+"/32")
			runIP(s.t, "-n", s.ns(j), "route", verb, "blackhole", s.ip(i)+"/32")
		}
	}
}

// TestNetnsGetHelper is run inside a namespace by the test itself to read
// a node's API there; it does nothing in a normal run.
func TestNetnsGetHelper(t *testing.T) {
	url := os.Getenv("INFERD_NETNS_GET")
	if url == "" {
		t.Skip("helper for TestNetnsPartition")
	}
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(url)
	if err != nil {
		fmt.Println("ERR", err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("BODY %s\n", strings.ReplaceAll(string(body), "\n", " "))
}

func (s *nsNet) status(i int, port int) (status, error) {
	cmd := exec.Command("ip", "netns", "exec", s.ns(i), os.Args[0], "-test.run=^TestNetnsGetHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "INFERD_NETNS_GET="+fmt.Sprintf("http://%s:%d/status", s.ip(i), port))
	out, err := cmd.Output()
	if err != nil {
		return status{}, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "BODY ") {
			var st status
			err := json.Unmarshal([]byte(line[5:]), &st)
			return st, err
		}
	}
	return status{}, fmt.Errorf("no answer: %s", out)
}

func (s *nsNet) waitHeight(i, port int, h uint64, d time.Duration) status {
	deadline := time.Now().Add(d)
	var st status
	var err error
	for time.Now().Before(deadline) {
		if st, err = s.status(i, port); err == nil && st.Height >= h {
			return st
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.t.Fatalf("node %d did not reach height %d in %v (at %d, %v)", i, h, d, st.Height, err)
	return st
}

func TestNetnsPartition(t *testing.T) {
	skipShort(t)
	netnsAvailable(t)
	s := setupNetns(t, 4)
	tn := newNet(t, 4, 100*time.Millisecond)
	const p2pPort, apiPort = 26656, 26657
	var addrs []string
	for i, nd := range tn.info.Nodes {
		id := nd.P2P[strings.LastIndex(nd.P2P, "/")+1:]
		addrs = append(addrs, fmt.Sprintf("/ip4/%s/tcp/%d/p2p/%s", s.ip(i), p2pPort, id))
	}
	for i, nd := range tn.info.Nodes {
		c, err := node.LoadConfig(nd.Home)
		if err != nil {
			t.Fatal(err)
		}
		c.P2P.ListenAddresses = []string{fmt.Sprintf("/ip4/%s/tcp/%d", s.ip(i), p2pPort)}
		c.P2P.BootstrapPeers = nil
		for j, a := range addrs {
			if j != i {
				c.P2P.BootstrapPeers = append(c.P2P.BootstrapPeers, a)
			}
		}
		c.API.Address = fmt.Sprintf("%s:%d", s.ip(i), apiPort)
		// An API off loopback needs a token to start (reads stay open).
		if _, err := node.NewAPIToken(nd.Home); err != nil {
			t.Fatal(err)
		}
		c.API.TokenFile = node.APITokenFile
		if err := node.SaveConfig(nd.Home, c); err != nil {
			t.Fatal(err)
		}
	}
	for i, nd := range tn.info.Nodes {
		logf, _ := os.OpenFile(filepath.Join(nd.Home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		cmd := exec.Command("ip", "netns", "exec", s.ns(i), inferdBin, "run", "--home", nd.Home)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &proc{t: t, home: nd.Home, cmd: cmd, done: make(chan struct{}), log: logf}
		go func() { cmd.Wait(); logf.Close(); close(p.done) }()
		tn.procs = append(tn.procs, p)
	}
	s.waitHeight(0, apiPort, 5, 90*time.Second)

	s.partition([]int{0, 1}, []int{2, 3}, true)
	time.Sleep(3 * time.Second) // in-flight commits finish
	before := make([]status, 4)
	for i := range before {
		before[i], _ = s.status(i, apiPort)
	}
	partition := 30 * time.Second
	if testing.Short() {
		partition = 5 * time.Second
	}
	time.Sleep(partition)
	for i := range before {
		after, err := s.status(i, apiPort)
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if after.Height != before[i].Height {
			t.Fatalf("node %d committed %d -> %d during a 2|2 partition", i, before[i].Height, after.Height)
		}
	}
	s.partition([]int{0, 1}, []int{2, 3}, false)
	healed := time.Now()
	top := before[0].Height
	for _, b := range before {
		top = max(top, b.Height)
	}
	for i := 0; i < 4; i++ {
		s.waitHeight(i, apiPort, top+1, 60*time.Second)
		t.Logf("node %d committed height %d %v after healing", i, top+1, time.Since(healed).Round(100*time.Millisecond))
	}
	if took := time.Since(healed); took > 10*time.Second {
		t.Fatalf("commits resumed only %v after healing, want within 10s", took)
	}
	// No fork: every node agrees on the block at the first height after healing.
	ref, _ := s.status(0, apiPort)
	s.waitHeight(3, apiPort, ref.Height, 20*time.Second)

	// Latency and loss on every link need sch_netem; say so when missing.
	if out, err := exec.Command("ip", "netns", "exec", s.ns(0), "tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "50ms", "10ms", "loss", "1%").CombinedOutput(); err != nil {
		t.Logf("tc netem unavailable in this kernel (%s): the latency-and-loss part is skipped", strings.TrimSpace(string(out)))
		return
	}
	for i := 1; i < 4; i++ {
		exec.Command("ip", "netns", "exec", s.ns(i), "tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "50ms", "10ms", "loss", "1%").Run()
	}
	st, _ := s.status(0, apiPort)
	s.waitHeight(0, apiPort, st.Height+10, 60*time.Second)
}
