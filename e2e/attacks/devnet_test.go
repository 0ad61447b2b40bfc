// Package attacks runs scripted economic attacks against a real devnet of
// inferd processes and checks who ends up with the money: each attack
// compares the attacker's balance change with an honest participant's over
// the same rounds, and the supply invariant (minted - burned = everything
// held) is checked after the attacks. See docs/incentives.md.
package attacks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

var inferdBin, lazyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "inferd-attacks-bin")
	if err != nil {
		panic(err)
	}
	inferdBin = filepath.Join(dir, "inferd")
	out, err := exec.Command("go", "build", "-o", inferdBin, "../../cmd/inferd").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build inferd: %v\n%s", err, out)
		os.Exit(1)
	}
	lazyBin = filepath.Join(dir, "lazyvalidator")
	if out, err := exec.Command("go", "build", "-o", lazyBin, "./internal/lazyvalidator").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build lazyvalidator: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Accounts the attacks add to the devnet's genesis, each with attackerFunds.
var extraAccounts = append([]string{"attacker", "honest", "copier"}, copyAccounts...)

const attackerFunds = 100_000 * ledger.UinfPerINF

// devnet is a multi-process devnet shared by the attacks of one test.
type devnet struct {
	t     *testing.T
	dir   string
	info  *node.DevnetInfo
	kr    *keystore.Keyring
	cl    *api.Client // node 0
	cls   []*api.Client
	procs []*exec.Cmd
	done  []chan struct{}
	files map[string]cid.Cid // name -> CID of files added to node 0's store
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

// startDevnet creates n validators with the attack accounts in genesis,
// adds files to node 0's content store, and starts every node.
func startDevnet(t *testing.T, n int, files map[string][]byte, genesis func(*ledger.Genesis)) *devnet {
	t.Helper()
	dir := t.TempDir()
	kr, err := keystore.Open(filepath.Join(dir, "keyring"), keystore.BackendTest)
	if err != nil {
		t.Fatal(err)
	}
	var extra []ledger.GenesisAccount
	for _, name := range extraAccounts {
		i, err := kr.Add(name, "")
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, ledger.GenesisAccount{Address: i.Address, Balance: attackerFunds})
	}
	info, err := node.CreateDevnet(dir, node.DevnetOptions{
		Validators: n, BasePort: freeBasePort(t, n), CommitDelay: 300 * time.Millisecond,
		AddKey: func(name string) (keys.Address, error) {
			i, err := kr.Add(name, "")
			return i.Address, err
		},
		Genesis: func(g *ledger.Genesis) {
			g.Accounts = append(g.Accounts, extra...)
			if genesis != nil {
				genesis(g)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := &devnet{t: t, dir: dir, info: info, kr: kr, files: map[string]cid.Cid{}}
	if err := d.addFiles(files); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.stop)
	for i, nd := range info.Nodes {
		if i == lazyNode(n) {
			d.startCmd(nd.Home, lazyBin, "--home", nd.Home, "--keyring", filepath.Join(dir, "keyring"), "--key", nd.Moniker, "--score", fmt.Sprint(lazyScore()))
		} else {
			d.start(nd)
		}
		cl, err := api.NewClient(nd.API)
		if err != nil {
			t.Fatal(err)
		}
		d.cls = append(d.cls, cl)
	}
	d.cl = d.cls[0]
	d.waitHeight(2, 90*time.Second)
	return d
}

// addFiles adds files to node 0's store before it runs (the store is
// free then); the other nodes fetch them over bitswap.
func (d *devnet) addFiles(files map[string][]byte) error {
	if len(files) == 0 {
		return nil
	}
	st, err := content.Open(filepath.Join(d.info.Nodes[0].Home, content.Dir))
	if err != nil {
		return err
	}
	defer st.Close()
	for name, b := range files {
		c, err := addFile(st, name, b)
		if err != nil {
			return err
		}
		d.files[name] = c
	}
	return nil
}

// addFile adds b as one file, or, for a name "dir:<x>", as a directory
// holding b as its one file "model.safetensors" (the wrapped copy).
func addFile(st *content.Store, name string, b []byte) (cid.Cid, error) {
	if !strings.HasPrefix(name, "dir:") {
		return st.AddReader(context.Background(), bytes.NewReader(b), content.AddOptions{})
	}
	dir, err := os.MkdirTemp("", "inferd-wrap")
	if err != nil {
		return cid.Undef, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), b, 0o600); err != nil {
		return cid.Undef, err
	}
	return st.Add(context.Background(), dir, content.AddOptions{})
}

func (d *devnet) start(nd node.DevnetNode) { d.startCmd(nd.Home, inferdBin, "run", "--home", nd.Home) }

// startCmd starts a node process whose home is home; stop ends it by PID.
func (d *devnet) startCmd(home, bin string, args ...string) {
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	d.procs = append(d.procs, cmd)
	d.done = append(d.done, done)
}

// stop sends SIGTERM to each node by PID and kills what is left after 15 s.
func (d *devnet) stop() {
	for _, c := range d.procs {
		c.Process.Signal(syscall.SIGTERM)
	}
	for i, c := range d.procs {
		select {
		case <-d.done[i]:
		case <-time.After(15 * time.Second):
			c.Process.Kill()
			<-d.done[i]
		}
	}
	if d.t.Failed() {
		for _, nd := range d.info.Nodes {
			raw, _ := os.ReadFile(filepath.Join(nd.Home, "node.log"))
			lines := strings.Split(string(raw), "\n")
			if len(lines) > 20 {
				lines = lines[len(lines)-20:]
			}
			d.t.Logf("--- %s log tail ---\n%s", nd.Moniker, strings.Join(lines, "\n"))
		}
	}
}

func (d *devnet) height() uint64 {
	st, err := d.cl.Status(context.Background())
	if err != nil {
		return 0
	}
	return st.Height
}

func (d *devnet) waitHeight(h uint64, timeout time.Duration) {
	d.t.Helper()
	if err := poll(timeout, func() (bool, error) { return d.height() >= h, nil }); err != nil {
		d.t.Fatalf("height %d not reached (at %d): %v", h, d.height(), err)
	}
}

// poll calls f every 300 ms until it reports done, fails, or timeout.
func poll(timeout time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := f()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (d *devnet) addr(name string) keys.Address {
	i, err := d.kr.Get(name)
	if err != nil {
		d.t.Fatal(err)
	}
	return i.Address
}

// balance is the account's spendable balance at height h (0: latest).
func (d *devnet) balance(a keys.Address, h uint64) uint64 {
	d.t.Helper()
	if h == 0 {
		h = api.Latest
	}
	acc, err := d.cl.Account(context.Background(), a, h)
	if err != nil {
		d.t.Fatal(err)
	}
	return acc.Balance
}

func (d *devnet) supply() api.SupplyResponse {
	d.t.Helper()
	s, err := d.cl.Supply(context.Background(), api.Latest)
	if err != nil {
		d.t.Fatal(err)
	}
	return s
}

// checkSupply is the invariant every uinf is accounted for by:
// minted - burned = balances + bonded + unbonding + escrowed + pools.
func checkSupply(s api.SupplyResponse) error {
	var held uint64
	for _, v := range s.Held {
		held += v
	}
	if s.Minted < s.Burned || s.Minted-s.Burned != held || s.Circulating != held {
		return fmt.Errorf("supply at %d: minted %d - burned %d != held %d (%v)", s.Height, s.Minted, s.Burned, held, s.Held)
	}
	return nil
}

// sender signs with one key and submits through node 0. The validators'
// own agents sign with the operator keys too: a nonce taken by one of
// their pending txs moves us on to the next.
type sender struct {
	d    *devnet
	name string
	priv keys.PrivKey
	addr keys.Address
	next uint64
	fees uint64 // fees paid by accepted txs
}

func (d *devnet) sender(name string) *sender {
	priv, err := d.kr.Unlock(name, "")
	if err != nil {
		d.t.Fatal(err)
	}
	return &sender{d: d, name: name, priv: priv, addr: keys.AddressOf(priv.Public().(keys.PubKey))}
}

// minFee is the devnet's bank min_fee.
const minFee = 100

// submit signs and submits msgs as one tx and returns its hash, or the
// node's refusal.
func (s *sender) submit(msgs ...ledger.Msg) ([32]byte, error) {
	ctx := context.Background()
	acc, err := s.d.cl.Account(ctx, s.addr, api.Latest)
	if err != nil {
		return [32]byte{}, err
	}
	nonce := max(acc.Nonce, s.next)
	for tries := 0; ; tries++ {
		_, raw := ledger.SignTx(s.d.info.ChainID, s.priv, nonce, minFee, "attack", msgs...)
		hash, err := s.d.cl.SubmitTx(ctx, raw)
		if err == nil {
			s.next = nonce + 1
			return hash, nil
		}
		if tries == 8 || !strings.Contains(err.Error(), "nonce") {
			return hash, err
		}
		nonce++
	}
}

// send submits and waits for the tx's block; a tx that fails in its
// block returns its view and an error.
func (s *sender) send(msgs ...ledger.Msg) (api.TxView, error) {
	hash, err := s.submit(msgs...)
	if err != nil {
		return api.TxView{}, fmt.Errorf("refused: %w", err)
	}
	var tv api.TxView
	err = poll(time.Minute, func() (bool, error) {
		var err error
		tv, err = s.d.cl.Tx(context.Background(), hash)
		var ae *api.Error
		if errors.As(err, &ae) && ae.Code == 404 {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return tv, err
	}
	s.fees += minFee
	if !tv.Result.OK {
		return tv, fmt.Errorf("%s failed in block %d: %s", msgs[0].Type, tv.Height, tv.Result.Error)
	}
	return tv, nil
}

// mustSend is send that fails the test on any error.
func (s *sender) mustSend(msgs ...ledger.Msg) api.TxView {
	s.d.t.Helper()
	tv, err := s.send(msgs...)
	if err != nil {
		s.d.t.Fatalf("%s: %v", s.name, err)
	}
	return tv
}

// nonce is the account's nonce at height h: the txs it has sent, each of
// which paid minFee.
func (d *devnet) nonce(a keys.Address, h uint64) uint64 {
	d.t.Helper()
	acc, err := d.cl.Account(context.Background(), a, h)
	if err != nil {
		d.t.Fatal(err)
	}
	return acc.Nonce
}

// params decodes one module's parameters.
func (d *devnet) params(module string, out any) {
	d.t.Helper()
	p, err := d.cl.Params(context.Background(), api.Latest)
	if err != nil {
		d.t.Fatal(err)
	}
	if err := json.Unmarshal(p.Params[module], out); err != nil {
		d.t.Fatalf("params %s: %v", module, err)
	}
}

// outcome is one attack's money: what the attacker and the honest
// participant gained (negative: lost) over the same rounds.
type outcome struct {
	attack          string
	attacker        int64
	honest          int64
	defendedBy      string
	attackerProfits bool // the assertion: false for every defended attack
	// check is the attack's exact money assertion on the attacker's
	// figure; the suite also feeds it figures where money moved to the
	// attacker to show that it fails then.
	check func(attacker int64) error
	// planted is the attacker's figure had the defence not held (the
	// deposits refunded, the copy paid, the pool paid out): check must
	// refuse it.
	planted int64
	// exact: check accepts one figure only, so one uinf more fails it
	// (false where it allows rounding, as the sybils' per-op rate does).
	exact bool
}

func (o outcome) String() string {
	return fmt.Sprintf("ATTACK %-22s attacker %+d uinf, honest %+d uinf; defended by %s", o.attack, o.attacker, o.honest, o.defendedBy)
}
