package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

// cluster is the network under test: homes made by node.CreateDevnet (and
// full nodes beside them), the processes the runner started, and the
// clients that reach their APIs.
type cluster struct {
	m       *Manifest
	bin     string
	dir     string
	info    *node.DevnetInfo
	names   []string
	homes   []string
	apis    []string
	clients []*api.Client
	senders []keys.PrivKey
	ns      *netns   // nil on loopback
	proxy   *proxies // nil unless latency is scheduled
	logf    func(string, ...any)

	mu    sync.Mutex
	procs []*proc
}

// proc is one inferd process started by the runner.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func newCluster(m *Manifest, bin, dir string, logf func(string, ...any)) (*cluster, error) {
	c := &cluster{m: m, bin: bin, dir: dir, names: m.NodeNames(), logf: logf}
	c.procs = make([]*proc, len(c.names))
	ok := false
	defer func() {
		if !ok {
			c.close() // namespaces and proxies made so far
		}
	}()
	kr, err := keystore.Open(filepath.Join(dir, "keyring"), keystore.BackendTest)
	if err != nil {
		return nil, err
	}
	c.senders = make([]keys.PrivKey, m.Load.Senders)
	for i := range c.senders {
		if _, c.senders[i], err = keys.Generate(rand.Reader); err != nil {
			return nil, err
		}
	}
	base, err := node.FreeBasePort(m.Validators + m.FullNodes)
	if err != nil {
		return nil, err
	}
	c.info, err = node.CreateDevnet(dir, node.DevnetOptions{
		Validators: m.Validators, BasePort: base, CommitDelay: m.CommitDelay.Duration,
		AddKey: func(name string) (keys.Address, error) {
			i, err := kr.Add(name, "")
			return i.Address, err
		},
		Genesis: func(g *ledger.Genesis) {
			for _, s := range c.senders {
				g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: keys.AddressOf(s.Public().(keys.PubKey)), Balance: 1_000 * ledger.UinfPerINF})
			}
		},
	})
	if err != nil {
		return nil, err
	}
	for _, nd := range c.info.Nodes {
		c.homes = append(c.homes, nd.Home)
		c.apis = append(c.apis, nd.API)
	}
	for i := 0; i < m.FullNodes; i++ {
		home, apiURL, err := c.addFullNode(i, base+10*(m.Validators+i))
		if err != nil {
			return nil, err
		}
		c.homes = append(c.homes, home)
		c.apis = append(c.apis, apiURL)
	}
	if m.NeedsNetns() {
		c.ns = newNetns(len(c.names))
		if err := c.ns.setup(m.UsesProxy()); err != nil {
			return nil, err
		}
		if err := c.placeInNetns(); err != nil {
			return nil, err
		}
	}
	for i, nd := range c.homes {
		cfg, err := node.LoadConfig(nd)
		if err != nil {
			return nil, err
		}
		cfg.LogLevel = "warn"
		if err := node.SaveConfig(nd, cfg); err != nil {
			return nil, err
		}
		cl, err := api.NewClient(c.apis[i])
		if err != nil {
			return nil, err
		}
		tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
		if c.ns != nil {
			tr.DialContext = c.ns.dial
		}
		cl.HTTP = &http.Client{Timeout: 3 * time.Second, Transport: tr}
		c.clients = append(c.clients, cl)
	}
	ok = true
	return c, nil
}

// addFullNode makes the home of a non-validator that bootstraps from every
// validator, as an operator joining the network would.
func (c *cluster) addFullNode(i, port int) (string, string, error) {
	name := fmt.Sprintf("full%d", i)
	home := filepath.Join(c.dir, name)
	for _, d := range []string{node.ConfigDir, node.DataDir} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			return "", "", err
		}
	}
	if _, err := node.GenerateKeyFile(filepath.Join(home, node.NodeKeyFile)); err != nil {
		return "", "", err
	}
	g, err := os.ReadFile(filepath.Join(c.info.Nodes[0].Home, node.GenesisFile))
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(home, node.GenesisFile), g, 0o644); err != nil {
		return "", "", err
	}
	cfg := node.DefaultConfig(name)
	cfg.P2P.ListenAddresses = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port)}
	for _, nd := range c.info.Nodes {
		cfg.P2P.BootstrapPeers = append(cfg.P2P.BootstrapPeers, nd.P2P)
	}
	cfg.API.Address = fmt.Sprintf("127.0.0.1:%d", port+1)
	cfg.Consensus.CommitDelay = node.Duration{Duration: c.m.CommitDelay.Duration}
	if err := node.SaveConfig(home, cfg); err != nil {
		return "", "", err
	}
	return home, fmt.Sprintf("http://127.0.0.1:%d", port+1), nil
}

// placeInNetns rewrites every node's addresses to its namespace; with the
// proxy on, bootstrap peers are the proxies in the host namespace.
func (c *cluster) placeInNetns() error {
	s := c.ns
	ids := make([]string, len(c.homes))
	for i, home := range c.homes {
		priv, err := node.LoadKeyFile(filepath.Join(home, node.NodeKeyFile))
		if err != nil {
			return err
		}
		pid, err := node.PeerIDOf(priv)
		if err != nil {
			return err
		}
		ids[i] = pid.String()
	}
	peerAddr := func(j int) string {
		if c.m.UsesProxy() {
			return fmt.Sprintf("/ip4/%s/tcp/%d/p2p/%s", s.hostIP(), s.proxyPort(j), ids[j])
		}
		return fmt.Sprintf("/ip4/%s/tcp/%d/p2p/%s", s.ip(j), s.p2pPort, ids[j])
	}
	for i, home := range c.homes {
		cfg, err := node.LoadConfig(home)
		if err != nil {
			return err
		}
		cfg.P2P.ListenAddresses = []string{fmt.Sprintf("/ip4/%s/tcp/%d", s.ip(i), s.p2pPort)}
		cfg.P2P.BootstrapPeers = nil
		for j := range c.homes {
			// Full nodes dial the validators; validators dial each other.
			if j != i && j < c.m.Validators {
				cfg.P2P.BootstrapPeers = append(cfg.P2P.BootstrapPeers, peerAddr(j))
			}
		}
		cfg.API.Address = fmt.Sprintf("%s:%d", s.ip(i), s.apiPort)
		// An API off loopback needs a token to start (reads and POST /txs stay open).
		if _, err := node.NewAPIToken(home); err != nil {
			return err
		}
		cfg.API.TokenFile = node.APITokenFile
		c.apis[i] = fmt.Sprintf("http://%s:%d", s.ip(i), s.apiPort)
		if err := node.SaveConfig(home, cfg); err != nil {
			return err
		}
	}
	if c.m.UsesProxy() {
		var targets []string
		for i := range c.homes {
			targets = append(targets, fmt.Sprintf("%s:%d", s.ip(i), s.p2pPort))
		}
		p, err := startProxies(
			func(i int) (net.Listener, error) { return s.listen(fmt.Sprintf("%s:%d", s.hostIP(), s.proxyPort(i))) },
			targets,
			func(addr string) (net.Conn, error) { return s.dial(context.Background(), "tcp", addr) },
			lastOctetNode(len(c.homes)))
		if err != nil {
			return err
		}
		c.proxy = p
	}
	return nil
}

// start starts node i (again).
func (c *cluster) start(i int) error {
	logf, err := os.OpenFile(filepath.Join(c.homes[i], "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var cmd *exec.Cmd
	if c.ns != nil {
		cmd = c.ns.command(i, c.bin, "run", "--home", c.homes[i])
	} else {
		cmd = exec.Command(c.bin, "run", "--home", c.homes[i])
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %v", c.names[i], err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	c.mu.Lock()
	c.procs[i] = p
	c.mu.Unlock()
	return nil
}

func (c *cluster) proc(i int) *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[i]
}

// signal sends sig to node i's process (the one the runner started).
func (c *cluster) signal(i int, sig syscall.Signal) error {
	p := c.proc(i)
	if p == nil || !p.alive() {
		return fmt.Errorf("%s is not running", c.names[i])
	}
	return p.cmd.Process.Signal(sig)
}

// stop sends sig and waits up to d for the exit, then SIGKILLs.
func (c *cluster) stop(i int, sig syscall.Signal, d time.Duration) {
	p := c.proc(i)
	if p == nil || !p.alive() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGCONT) // a paused process cannot act on SIGTERM
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// close stops every process the runner started and removes the namespaces.
func (c *cluster) close() {
	var wg sync.WaitGroup
	for i := range c.names {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop(i, syscall.SIGTERM, 10*time.Second) }()
	}
	wg.Wait()
	if c.proxy != nil {
		c.proxy.close()
	}
	if c.ns != nil {
		c.ns.teardown()
	}
}

// tailLogs returns the last lines of every node's log.
func (c *cluster) tailLogs(lines int) string {
	var b strings.Builder
	for i, home := range c.homes {
		raw, _ := os.ReadFile(filepath.Join(home, "node.log"))
		ls := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		if len(ls) > lines {
			ls = ls[len(ls)-lines:]
		}
		fmt.Fprintf(&b, "--- %s (%s) ---\n%s\n", c.names[i], home, strings.Join(ls, "\n"))
	}
	return b.String()
}
