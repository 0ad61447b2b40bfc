package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// netns puts every node in a network namespace of its own. A further
// namespace holds the bridge br0 that joins the nodes' veths, with the
// address .254 of the subnet: the runner reaches the nodes' APIs from
// there (its sockets are opened inside that namespace, see inNetns), and
// the latency proxy listens there. Nothing is added to the machine's own
// network namespace, so runs of other people on the machine see nothing.
//
// Faults are iptables rules inside a node's namespace that spare the API
// port: disconnect drops every other packet of eth0; loss drops each with
// a probability (the statistic match). With the proxy on, direct p2p
// dials between nodes are refused so that every link goes through it.
type netns struct {
	prefix  string
	subnet  string // "10.79.0."
	n       int
	apiPort int
	p2pPort int
}

const nsHostOctet = 254

func newNetns(n int) *netns {
	return &netns{prefix: fmt.Sprintf("chaos%d-", os.Getpid()%100000), subnet: "10.79.0.", n: n, apiPort: 26657, p2pPort: 26656}
}

func (s *netns) ns(i int) string     { return fmt.Sprintf("%s%d", s.prefix, i) }
func (s *netns) hostNS() string      { return s.prefix + "br" }
func (s *netns) ip(i int) string     { return fmt.Sprintf("%s%d", s.subnet, i+1) }
func (s *netns) hostIP() string      { return fmt.Sprintf("%s%d", s.subnet, nsHostOctet) }
func (s *netns) proxyPort(i int) int { return 40000 + i }

// netnsUsable says why namespaces cannot be used here, or nil.
func netnsUsable() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (.ci/run installs iproute2 and iptables)", tool)
		}
	}
	name := fmt.Sprintf("chaosprobe%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add does not work here: %v %s", err, strings.TrimSpace(string(out)))
	}
	defer exec.Command("ip", "netns", "del", name).Run()
	if out, err := exec.Command("ip", "netns", "exec", name, "iptables", "-A", "INPUT", "-m", "statistic", "--mode", "random", "--probability", "0.5", "-j", "DROP").CombinedOutput(); err != nil {
		return fmt.Errorf("iptables -m statistic does not work here: %v %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (s *netns) setup(proxy bool) error {
	if err := run("ip", "netns", "add", s.hostNS()); err != nil {
		return err
	}
	cmds := [][]string{
		{"-n", s.hostNS(), "link", "set", "lo", "up"},
		{"-n", s.hostNS(), "link", "add", "br0", "type", "bridge"},
		{"-n", s.hostNS(), "addr", "add", s.hostIP() + "/24", "dev", "br0"},
		{"-n", s.hostNS(), "link", "set", "br0", "up"},
	}
	for i := 0; i < s.n; i++ {
		cmds = append(cmds,
			[]string{"netns", "add", s.ns(i)},
			[]string{"-n", s.ns(i), "link", "set", "lo", "up"},
			[]string{"-n", s.ns(i), "link", "add", "eth0", "type", "veth", "peer", "name", fmt.Sprintf("p%d", i), "netns", s.hostNS()},
			[]string{"-n", s.ns(i), "addr", "add", s.ip(i) + "/24", "dev", "eth0"},
			[]string{"-n", s.ns(i), "link", "set", "eth0", "up"},
			[]string{"-n", s.hostNS(), "link", "set", fmt.Sprintf("p%d", i), "master", "br0", "up"})
	}
	for _, c := range cmds {
		if err := run("ip", c...); err != nil {
			return err
		}
	}
	for i := 0; i < s.n; i++ {
		// The fault chain comes first in INPUT and OUTPUT; API traffic
		// returns before it (the runner must see a node under a fault).
		rules := [][]string{
			{"-N", "CHAOS"},
			{"-A", "INPUT", "-p", "tcp", "--dport", fmt.Sprint(s.apiPort), "-j", "ACCEPT"},
			{"-A", "INPUT", "-i", "eth0", "-j", "CHAOS"},
			{"-A", "OUTPUT", "-p", "tcp", "--sport", fmt.Sprint(s.apiPort), "-j", "ACCEPT"},
			{"-A", "OUTPUT", "-o", "eth0", "-j", "CHAOS"},
		}
		if proxy {
			rules = append(rules, []string{"-A", "OUTPUT", "-o", "eth0", "-p", "tcp", "--dport", fmt.Sprint(s.p2pPort), "-j", "REJECT", "--reject-with", "tcp-reset"})
		}
		for _, r := range rules {
			if err := s.iptables(i, r...); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *netns) iptables(i int, args ...string) error {
	return run("ip", append([]string{"netns", "exec", s.ns(i), "iptables", "-w"}, args...)...)
}

// disconnect drops every p2p packet of node i (on) or none (off).
func (s *netns) disconnect(i int, on bool) error {
	if !on {
		return s.iptables(i, "-F", "CHAOS")
	}
	return s.iptables(i, "-A", "CHAOS", "-j", "DROP")
}

// loss drops each p2p packet of node i, in and out, with probability p.
func (s *netns) loss(i int, p float64) error {
	if p == 0 {
		return s.iptables(i, "-F", "CHAOS")
	}
	return s.iptables(i, "-A", "CHAOS", "-m", "statistic", "--mode", "random", "--probability", fmt.Sprint(p), "-j", "DROP")
}

// dropped counts the packets the fault rules of node i have dropped.
func (s *netns) dropped(i int) (int64, error) {
	out, err := exec.Command("ip", "netns", "exec", s.ns(i), "iptables", "-w", "-L", "CHAOS", "-v", "-x", "-n").Output()
	if err != nil {
		return 0, fmt.Errorf("iptables -L CHAOS in %s: %v", s.ns(i), err)
	}
	var n int64
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[2] == "DROP" {
			k, err := strconv.ParseInt(f[0], 10, 64)
			if err == nil {
				n += k
			}
		}
	}
	return n, nil
}

// partition drops node i's packets from and to the nodes in others.
func (s *netns) partition(i int, others []int) error {
	for _, j := range others {
		if err := s.iptables(i, "-A", "CHAOS", "-s", s.ip(j), "-j", "DROP"); err != nil {
			return err
		}
		if err := s.iptables(i, "-A", "CHAOS", "-d", s.ip(j), "-j", "DROP"); err != nil {
			return err
		}
	}
	return nil
}

func (s *netns) teardown() {
	for i := 0; i < s.n; i++ {
		exec.Command("ip", "netns", "del", s.ns(i)).Run()
	}
	exec.Command("ip", "netns", "del", s.hostNS()).Run()
}

// command runs a program inside node i's namespace. `ip netns exec`
// enters the namespace and execs the program: the PID is the program's.
func (s *netns) command(i int, bin string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", s.ns(i), bin}, args...)...)
}

// inNetns runs f on a fresh OS thread that has entered the named
// namespace; sockets f opens stay in that namespace. The thread is
// discarded afterwards (a goroutine that exits locked takes its thread
// with it), so no other goroutine ever runs in the namespace.
func inNetns(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := os.Open(filepath.Join("/run/netns", name))
		if err != nil {
			errc <- err
			return
		}
		defer fd.Close()
		if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %v", name, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// dialer opens TCP connections from inside the host namespace.
func (s *netns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(s.hostNS(), func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

func (s *netns) listen(addr string) (net.Listener, error) {
	var l net.Listener
	err := inNetns(s.hostNS(), func() error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}
