// Package e2e runs real inferd processes on loopback and checks what a user
// would: blocks, transfers, crashes, partitions and sync. The binary is
// built once per test run.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node"
)

var inferdBin string

func TestMain(m *testing.M) {
	if os.Getenv("INFERD_NETNS_GET") != "" {
		os.Exit(m.Run()) // a helper run inside a namespace: no binary needed
	}
	dir, err := os.MkdirTemp("", "inferd-e2e-bin")
	if err != nil {
		panic(err)
	}
	inferdBin = filepath.Join(dir, "inferd")
	out, err := exec.Command("go", "build", "-o", inferdBin, "../cmd/inferd").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build inferd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is one running node process.
type proc struct {
	t    *testing.T
	home string
	api  string
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// net is a set of validator homes created by node.CreateDevnet.
type testNet struct {
	t     *testing.T
	dir   string
	info  *node.DevnetInfo
	procs []*proc
	kr    *keystore.Keyring
}

// freeBasePort finds a base port whose block of ports is free.
func freeBasePort(t *testing.T, n int) int {
	// n+2: room for the extra nodes a test joins to the devnet.
	base, err := node.FreeBasePort(n + 2)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

func newNet(t *testing.T, n int, commitDelay time.Duration) *testNet {
	t.Helper()
	return newNetGenesis(t, n, commitDelay, nil)
}

// newNetGenesis is newNet with the genesis adjusted by gen (nil: as is),
// e.g. shorter windows for a test.
func newNetGenesis(t *testing.T, n int, commitDelay time.Duration, gen func(*ledger.Genesis)) *testNet {
	t.Helper()
	dir := t.TempDir()
	kr, err := keystore.Open(filepath.Join(dir, "keyring"), keystore.BackendTest)
	if err != nil {
		t.Fatal(err)
	}
	info, err := node.CreateDevnet(dir, node.DevnetOptions{
		Validators: n, BasePort: freeBasePort(t, n), CommitDelay: commitDelay,
		AddKey: func(name string) (keys.Address, error) {
			i, err := kr.Add(name, "")
			return i.Address, err
		},
		Genesis: gen,
	})
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNet{t: t, dir: dir, info: info, kr: kr}
	t.Cleanup(tn.stopAll)
	return tn
}

func (tn *testNet) startAll() {
	for i := range tn.info.Nodes {
		tn.procs = append(tn.procs, tn.start(i))
	}
}

func (tn *testNet) start(i int) *proc {
	nd := tn.info.Nodes[i]
	return startProc(tn.t, nd.Home, nd.API)
}

// startProc runs `inferd run --home home` with the extra flags.
func startProc(t *testing.T, home, api string, flags ...string) *proc {
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(inferdBin, append([]string{"run", "--home", home}, flags...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, home: home, api: api, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	return p
}

// kill stops the process with sig and waits for it.
func (p *proc) kill(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(sig)
	// Longer than the node's own grace for its agents (node.agentStopGrace,
	// 20 s): a provider's cloud agent removes its containers and releases
	// podman's storage on the way out, slower on a loaded machine.
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (tn *testNet) stopAll() {
	for _, p := range tn.procs {
		if p != nil {
			p.kill(syscall.SIGTERM)
		}
	}
	if tn.t.Failed() {
		for _, nd := range tn.info.Nodes {
			raw, _ := os.ReadFile(filepath.Join(nd.Home, "node.log"))
			lines := strings.Split(string(raw), "\n")
			if len(lines) > 30 {
				lines = lines[len(lines)-30:]
			}
			tn.t.Logf("--- %s log tail ---\n%s", nd.Moniker, strings.Join(lines, "\n"))
		}
	}
}

type status struct {
	ChainID   string `json:"chain_id"`
	Height    uint64 `json:"height"`
	BlockHash string `json:"block_hash"`
	AppHash   string `json:"app_hash"`
	Peers     int    `json:"peers"`
}

var client = &http.Client{Timeout: 3 * time.Second}

func getJSON(url string, v any) (int, error) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return resp.StatusCode, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return 200, json.Unmarshal(body, v)
}

func statusOf(api string) (status, error) {
	var s status
	_, err := getJSON(api+"/status", &s)
	return s, err
}

// waitHeight waits until the node at api has committed height h.
func waitHeight(t *testing.T, api string, h uint64, d time.Duration) status {
	t.Helper()
	deadline := time.Now().Add(d)
	var last status
	var err error
	for time.Now().Before(deadline) {
		last, err = statusOf(api)
		if err == nil && last.Height >= h {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not reach height %d within %v (last: height %d, err %v)", api, h, d, last.Height, err)
	return last
}

type blockView struct {
	Height  uint64   `json:"height"`
	Hash    string   `json:"hash"`
	AppHash string   `json:"app_hash"`
	Txs     []string `json:"txs"`
}

func blockAt(t *testing.T, api string, h uint64) blockView {
	t.Helper()
	var b blockView
	if _, err := getJSON(fmt.Sprintf("%s/blocks/%d", api, h), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// postTx submits raw tx bytes and returns the HTTP status and body.
func postTx(api string, raw []byte) (int, string, error) {
	body, _ := json.Marshal(map[string][]byte{"tx": raw})
	resp, err := client.Post(api+"/txs", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func (tn *testNet) signer(name string) keys.PrivKey {
	k, err := tn.kr.Unlock(name, "")
	if err != nil {
		tn.t.Fatal(err)
	}
	return k
}

type account struct {
	Balance uint64 `json:"balance"`
	Nonce   uint64 `json:"nonce"`
}

func accountOf(t *testing.T, api string, a keys.Address) account {
	t.Helper()
	var acc account
	if _, err := getJSON(api+"/accounts/"+a.String(), &acc); err != nil {
		t.Fatal(err)
	}
	return acc
}
