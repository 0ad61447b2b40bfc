package attacks

import (
	"context"
	"fmt"
	"math/big"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

// Compute accounts: one honest provider and the sybil's identities, each
// with its own full node running the provider agent (on loopback they
// all share this machine, as a sybil's identities share its hardware).
var (
	sybilNames  = []string{"sybil1", "sybil2"}
	honestProvs = "honestprov"
)

func init() { extraAccounts = append(extraAccounts, append([]string{honestProvs}, sybilNames...)...) }

// runCompute runs the compute attacks (make attacks).
func runCompute(t *testing.T, d *devnet, run func(string, func(*testing.T) outcome)) {
	run("sybil_providers", func(t *testing.T) outcome { return attackSybil(t, d) })
	run("fake_flops", func(t *testing.T) outcome { return attackFakeFLOPs(t, d) })
	run("lazy_job", func(t *testing.T) outcome { return attackLazyJob(t, d) })
	run("wrong_result", func(t *testing.T) outcome { return attackWrongResult(t, d) })
	run("lazy_reexec", func(t *testing.T) outcome { return attackLazyReexec(t, d) })
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startProvider starts a full node whose provider agent signs with key.
func (d *devnet) startProvider(t *testing.T, key string) {
	home := d.providerHome(t, key)
	d.start(node.DevnetNode{Moniker: key, Home: home})
	d.waitSynced(t)
}

// waitSynced waits until the last node added has caught up with node 0,
// so that its provider agent sees its first challenge in time (a provider
// that misses 3 in a row is jailed).
func (d *devnet) waitSynced(t *testing.T) {
	nd := d.info.Nodes[len(d.info.Nodes)-1]
	cl, err := api.NewClient(nd.API)
	if err != nil {
		t.Fatal(err)
	}
	if err := poll(2*time.Minute, func() (bool, error) {
		st, err := cl.Status(context.Background())
		return err == nil && st.Height+2 >= d.height(), nil
	}); err != nil {
		t.Fatalf("%s did not catch up: %v", nd.Moniker, err)
	}
}

// providerHome makes the home of a full node that follows the devnet and
// runs the provider agent with key.
func (d *devnet) providerHome(t *testing.T, key string) string {
	home := filepath.Join(d.dir, "prov-"+key)
	out, err := exec.Command(inferdBin, "init", "--home", home, "--moniker", key,
		"--genesis", filepath.Join(d.info.Nodes[0].Home, node.GenesisFile)).CombinedOutput()
	if err != nil {
		t.Fatalf("init %s: %v\n%s", key, err, out)
	}
	c, err := node.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	c.P2P.ListenAddresses = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", freePort(t))}
	for _, nd := range d.info.Nodes {
		if nd.P2P != "" { // the validators; provider nodes are added without
			c.P2P.BootstrapPeers = append(c.P2P.BootstrapPeers, nd.P2P)
		}
	}
	c.P2P.MDNS = false
	c.API.Address = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.Agent = node.AgentConfig{Key: key, KeyringBackend: "test", KeyringHome: d.dir}
	c.Provider = node.ProviderConfig{Enabled: true, Backend: "cpu"}
	if err := node.SaveConfig(home, c); err != nil {
		t.Fatal(err)
	}
	d.info.Nodes = append(d.info.Nodes, node.DevnetNode{Moniker: key, Home: home, API: "http://" + c.API.Address})
	return home
}

// attackSybil: one operator registers len(sybilNames) providers at tier 0
// (n = 256), each with min_bond, against one honest provider at tier 1
// (n = 512, 8 times the operations) bonding as much as all the sybils
// together. The compute pool is split by verified operations, not by
// identity: over the same epochs each side earns its share of the
// operations, so splitting a machine into identities buys nothing (paying
// per identity would have given the sybils 2/3 of the providers' pot here,
// by operations they get 1/5).
func attackSybil(t *testing.T, d *devnet) outcome {
	var cp compute.Params
	d.params(compute.Name, &cp)
	// The nodes first, synced; then the registrations.
	d.startProvider(t, honestProvs)
	for _, n := range sybilNames {
		d.startProvider(t, n)
	}
	honest := d.sender(honestProvs)
	honest.mustSend(ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 2_000, Tier: 1, Capacity: 1, Bond: cp.MinBond * uint64(len(sybilNames))}))
	var sybils []*sender
	for _, n := range sybilNames {
		s := d.sender(n)
		s.mustSend(ledger.NewMsg(compute.MsgTypeRegister, compute.MsgRegister{Price: 2_000, Tier: 0, Capacity: 1, Bond: cp.MinBond}))
		sybils = append(sybils, s)
	}
	ctx := context.Background()
	prov := func(a keys.Address, h uint64) compute.ProviderInfo {
		p, err := d.cl.Provider(ctx, a, h)
		if err != nil {
			t.Fatal(err)
		}
		return p.ProviderInfo
	}
	all := append([]*sender{honest}, sybils...)
	// Start measuring after an epoch in which every provider passed.
	var h0 uint64
	if err := poll(4*time.Minute, func() (bool, error) {
		h := d.height()
		for _, s := range all {
			if prov(s.addr, h).Uptime == 0 {
				return false, nil
			}
		}
		h0 = h
		return true, nil
	}); err != nil {
		for _, s := range all {
			t.Logf("%s: %+v", s.name, prov(s.addr, api.Latest))
		}
		t.Fatalf("not every provider passed an epoch: %v", err)
	}
	d.waitHeight(h0+3*cp.EpochBlocks, 4*time.Minute)
	h1 := d.height()
	earn := func(s *sender) (int64, uint64) {
		return int64(d.balance(s.addr, h1)) - int64(d.balance(s.addr, h0)), prov(s.addr, h1).VerifiedOps - prov(s.addr, h0).VerifiedOps
	}
	he, hops := earn(honest)
	var se int64
	var sops uint64
	for _, s := range sybils {
		e, ops := earn(s)
		t.Logf("%s: %+d uinf for %d verified ops", s.name, e, ops)
		se, sops = se+e, sops+ops
	}
	t.Logf("sybils (%d identities): %+d uinf for %d ops; honest: %+d uinf for %d ops, blocks %d..%d", len(sybils), se, sops, he, hops, h0, h1)
	if hops == 0 || sops == 0 {
		t.Fatalf("no verified operations in the window: honest %d, sybils %d", hops, sops)
	}
	o := outcome{attack: "sybil providers", attacker: se, honest: he,
		defendedBy: fmt.Sprintf("compute pool split by verified ops (2n^3 per passed challenge), not per identity; min_bond %d uinf each", cp.MinBond)}
	// Each provider's pay is floor(pot * ops / total ops): the sybils may
	// be up to one uinf per identity per epoch short of their ops share,
	// never above it.
	slack := big.NewInt(int64(len(sybils)) * 4)
	o.check = func(a int64) error {
		// a/sops <= he/hops + rounding: a*hops <= he*sops + slack*hops.
		l := new(big.Int).Mul(big.NewInt(a), new(big.Int).SetUint64(hops))
		r := new(big.Int).Mul(big.NewInt(he), new(big.Int).SetUint64(sops))
		r.Add(r, new(big.Int).Mul(slack, new(big.Int).SetUint64(hops)))
		if l.Cmp(r) > 0 {
			return fmt.Errorf("sybils earned %d for %d ops, more per op than the honest %d for %d ops", a, sops, he, hops)
		}
		return nil
	}
	if err := o.check(o.attacker); err != nil {
		t.Fatal(err)
	}
	// Had the pot been paid per identity, the sybils would have had
	// len/(len+1) of the providers' pay.
	o.planted = (se + he) * int64(len(sybils)) / int64(len(sybils)+1)
	// Paid for its work at no more than the honest rate (checked above):
	// earning is not profiting from the attack.
	o.attackerProfits = false
	return o
}
