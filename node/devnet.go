package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
)

// DevnetChainID is the chain id of every devnet.
const DevnetChainID = "inferd-devnet"

// DevnetInfo is <dir>/devnet.json: how to reach each node of a devnet.
type DevnetInfo struct {
	ChainID     string       `json:"chain_id"`
	Nodes       []DevnetNode `json:"nodes"`
	DemoKey     string       `json:"demo_key"`
	DemoAddress keys.Address `json:"demo_address"`
	// The demo contest's designer and builder (also the demo job's user):
	// keys of their own, so that the demo never races a person using the
	// demo key for the same nonces.
	DesignerKey string `json:"designer_key,omitempty"`
	BuilderKey  string `json:"builder_key,omitempty"`
	KeyringHome string `json:"keyring_home"`
}

// DevnetNode is one node of a devnet.
type DevnetNode struct {
	Moniker string `json:"moniker"`
	Home    string `json:"home"`
	API     string `json:"api"`
	P2P     string `json:"p2p"`
	PID     int    `json:"pid,omitempty"`
}

// DevnetOptions shape a new devnet.
type DevnetOptions struct {
	Validators int
	BasePort   int // node i listens on BasePort+10i (p2p) and BasePort+10i+1 (API)
	// AddKey creates a key in the devnet keyring and returns its address.
	AddKey func(name string) (keys.Address, error)
	// Genesis, if set, may adjust the genesis before it is written.
	Genesis func(*ledger.Genesis)
	// CommitDelay overrides consensus.commit_delay (0 keeps the default).
	CommitDelay time.Duration
}

// LoadDevnet reads <dir>/devnet.json.
func LoadDevnet(dir string) (*DevnetInfo, error) {
	raw, err := os.ReadFile(filepath.Join(dir, DevnetFile))
	if err != nil {
		return nil, err
	}
	var d DevnetInfo
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, DevnetFile), err)
	}
	return &d, nil
}

// Save writes devnet.json.
func (d *DevnetInfo) Save(dir string) error {
	b, _ := json.MarshalIndent(d, "", "  ")
	return ledger.WriteFileAtomic(filepath.Join(dir, DevnetFile), append(b, '\n'), 0o644)
}

// PeerIDOf is the libp2p peer id of an ed25519 node key.
func PeerIDOf(priv keys.PrivKey) (peer.ID, error) {
	k, err := lcrypto.UnmarshalEd25519PrivateKey(priv)
	if err != nil {
		return "", err
	}
	return peer.IDFromPrivateKey(k)
}

// portFree reports whether a TCP port on 127.0.0.1 can be bound.
func portFree(port int) bool {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// CreateDevnet writes the homes of a new devnet under dir: one per
// validator, sharing one genesis, with loopback ports and each node
// bootstrapping from the others.
func CreateDevnet(dir string, o DevnetOptions) (*DevnetInfo, error) {
	if o.Validators < 1 || o.Validators > 50 {
		return nil, fmt.Errorf("--validators %d: want 1 to 50", o.Validators)
	}
	if _, err := os.Stat(filepath.Join(dir, DevnetFile)); err == nil {
		return nil, fmt.Errorf("%s already holds a devnet", dir)
	}
	for i := 0; i < o.Validators; i++ {
		for _, p := range []int{o.BasePort + 10*i, o.BasePort + 10*i + 1} {
			if !portFree(p) {
				return nil, fmt.Errorf("port %d on 127.0.0.1 is in use; pick another --base-port", p)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	info := &DevnetInfo{ChainID: DevnetChainID, DemoKey: "demo", KeyringHome: dir}
	g := &ledger.Genesis{ChainID: DevnetChainID, GenesisTime: time.Now().UTC().Truncate(time.Second)}
	demo, err := o.AddKey("demo")
	if err != nil {
		return nil, err
	}
	info.DemoAddress = demo
	g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: demo, Balance: 1_000_000 * ledger.UinfPerINF})
	info.DesignerKey, info.BuilderKey = "designer", "builder"
	for _, name := range []string{info.DesignerKey, info.BuilderKey} {
		a, err := o.AddKey(name)
		if err != nil {
			return nil, err
		}
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: a, Balance: 100_000 * ledger.UinfPerINF})
	}
	var addrs []string
	for i := 0; i < o.Validators; i++ {
		name := fmt.Sprintf("node%d", i)
		home := filepath.Join(dir, name)
		for _, d := range []string{ConfigDir, DataDir} {
			if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
				return nil, err
			}
		}
		if _, err := GenerateKeyFile(filepath.Join(home, NodeKeyFile)); err != nil {
			return nil, err
		}
		nk, err := LoadKeyFile(filepath.Join(home, NodeKeyFile))
		if err != nil {
			return nil, err
		}
		pid, err := PeerIDOf(nk)
		if err != nil {
			return nil, err
		}
		cons, err := GenerateKeyFile(filepath.Join(home, ValidatorKeyFile))
		if err != nil {
			return nil, err
		}
		op, err := o.AddKey(name)
		if err != nil {
			return nil, err
		}
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: op, Balance: 1_000_000 * ledger.UinfPerINF})
		g.Validators = append(g.Validators, ledger.GenesisValidator{Operator: op, ConsPubKey: ledger.HexBytes(cons), Moniker: name, SelfBond: 10_000 * ledger.UinfPerINF, Commission: 100_000})
		p2pPort := o.BasePort + 10*i
		addr := fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", p2pPort, pid)
		addrs = append(addrs, addr)
		info.Nodes = append(info.Nodes, DevnetNode{Moniker: name, Home: home, API: fmt.Sprintf("http://127.0.0.1:%d", p2pPort+1), P2P: addr})
	}
	g.Params = map[string]json.RawMessage{
		"staking":  json.RawMessage(`{"unbonding_time_s":120,"downtime_jail_s":60}`),
		"gov":      json.RawMessage(`{"min_deposit":10000000,"max_deposit_period_s":300,"voting_period_s":30}`),
		"emission": json.RawMessage(`{"epoch_length_blocks":10}`),
		// Short compute epochs so that verified operations show within a minute.
		"compute": json.RawMessage(`{"epoch_blocks":20,"commit_deadline_blocks":8,"attest_deadline_blocks":17,"job_deadline_blocks":40,"job_min_run_blocks":5,"unbonding_blocks":100,"jail_blocks":50,"reexec_window_blocks":15}`),
	}
	if o.Genesis != nil {
		o.Genesis(g)
	}
	if err := chain.ValidateGenesis(g); err != nil {
		return nil, err
	}
	for i, nd := range info.Nodes {
		c := DefaultConfig(nd.Moniker)
		p2pPort := o.BasePort + 10*i
		c.P2P.ListenAddresses = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", p2pPort), fmt.Sprintf("/ip4/127.0.0.1/udp/%d/quic-v1", p2pPort)}
		for j, a := range addrs {
			if j != i {
				c.P2P.BootstrapPeers = append(c.P2P.BootstrapPeers, a)
			}
		}
		c.P2P.MDNS = false // bootstrap peers suffice on loopback, and tests must not reach the LAN
		c.API.Address = fmt.Sprintf("127.0.0.1:%d", p2pPort+1)
		// The node's agents sign with its operator key from the devnet keyring.
		c.Agent = AgentConfig{Key: nd.Moniker, KeyringBackend: "test", KeyringHome: dir}
		if o.CommitDelay > 0 {
			c.Consensus.CommitDelay = Duration{o.CommitDelay}
		}
		if err := SaveConfig(nd.Home, c); err != nil {
			return nil, err
		}
		if err := g.Save(filepath.Join(nd.Home, GenesisFile)); err != nil {
			return nil, err
		}
	}
	if err := info.Save(dir); err != nil {
		return nil, err
	}
	return info, nil
}

// ErrNoDevnet is returned by LoadDevnet callers when dir holds no devnet.
var ErrNoDevnet = errors.New("no devnet here")

// FreeBasePort finds a DevnetOptions.BasePort for n nodes on 127.0.0.1:
// one whose ports BasePort+10i and BasePort+10i+1 are free for every i < n
// at the moment of asking (tests and tools that start several devnets).
func FreeBasePort(n int) (int, error) {
	for attempt := 0; attempt < 50; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		base := 20000 + ln.Addr().(*net.TCPAddr).Port%30000
		ln.Close()
		ok := true
		for i := 0; i < n && ok; i++ {
			for _, p := range []int{base + 10*i, base + 10*i + 1} {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					ok = false
					break
				}
				l.Close()
			}
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no free block of %d ports on 127.0.0.1", 2*n)
}
