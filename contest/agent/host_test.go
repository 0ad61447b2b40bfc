package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/store"
)

const testChain = "agent-test"

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// network is a real in-memory chain with a mempool and a content store
// shared by fake hosts. Blocks are applied by the test, one second apart.
type network struct {
	t       *testing.T
	c       *chain.Chain
	mu      sync.Mutex
	mempool [][]byte
	content map[string][]byte
	height  uint64
	now     int64
}

type key struct {
	priv keys.PrivKey
	addr keys.Address
}

func newKey(r *rand.Rand) key {
	pub, priv, err := keys.Generate(r)
	if err != nil {
		panic(err)
	}
	return key{priv: priv, addr: keys.AddressOf(pub)}
}

// newNetwork starts a chain whose validators are vals (self-bonds 100, 50,
// 30 INF) and whose accounts are accts.
func newNetwork(t *testing.T, vals, accts []key) *network {
	c, err := chain.New(store.NewMem(), chain.Options{Ledger: ledger.Options{SkipSigVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	g := &ledger.Genesis{ChainID: testChain, GenesisTime: genesisTime, Params: map[string]json.RawMessage{
		"gov":      json.RawMessage(`{"min_deposit":1000,"max_deposit_period_s":100,"voting_period_s":5,"quorum_ppm":334000,"threshold_ppm":500000,"veto_threshold_ppm":334000}`),
		"emission": json.RawMessage(`{"initial_block_reward":1000000,"epoch_length_blocks":10}`),
	}}
	r := rand.New(rand.NewSource(3))
	for i, v := range vals {
		cons := newKey(r)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: v.addr, Balance: 1000 * ledger.UinfPerINF})
		g.Validators = append(g.Validators, ledger.GenesisValidator{Operator: v.addr, ConsPubKey: ledger.HexBytes(cons.priv.Public().(keys.PubKey)),
			Moniker: fmt.Sprint("v", i), SelfBond: []uint64{100, 50, 30}[i] * ledger.UinfPerINF, Commission: 100_000})
	}
	for _, a := range accts {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: a.addr, Balance: 1000 * ledger.UinfPerINF})
	}
	if _, err := c.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	return &network{t: t, c: c, content: map[string][]byte{}, now: genesisTime.UnixNano()}
}

// add stores data and returns its CID (raw, sha2-256).
func (n *network) add(data []byte) cid.Cid {
	mh, _ := multihash.Sum(data, multihash.SHA2_256, -1)
	c := cid.NewCidV1(cid.Raw, mh)
	n.content[c.String()] = data
	return c
}

// block applies the mempool as the next block, checks the invariant and
// returns the results.
func (n *network) block() *ledger.BlockResult {
	n.t.Helper()
	n.mu.Lock()
	txs := n.mempool
	n.mempool = nil
	n.mu.Unlock()
	n.now += int64(time.Second)
	res, err := n.c.ApplyBlock(&ledger.Block{Height: n.height + 1, Time: n.now, Txs: txs})
	if err != nil {
		n.t.Fatal(err)
	}
	n.mu.Lock()
	n.height++
	n.mu.Unlock()
	if err := n.c.CheckInvariants(n.height); err != nil {
		n.t.Fatal(err)
	}
	return res
}

// host is a fake agent.Host for one account.
type host struct {
	n       *network
	k       key
	nonce   uint64
	noFetch map[string]bool // CIDs this host cannot fetch
	slow    map[string]bool // CIDs whose fetch hangs until cancelled
	commits chan uint64
	log     *slog.Logger
}

func (n *network) host(k key) *host {
	return &host{n: n, k: k, noFetch: map[string]bool{}, commits: make(chan uint64), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func (h *host) ChainID() string       { return testChain }
func (h *host) Chain() *chain.Chain   { return h.n.c }
func (h *host) Account() keys.Address { return h.k.addr }
func (h *host) LatestHeight() uint64 {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	return h.n.height
}
func (h *host) Committed() (<-chan uint64, func()) { return h.commits, func() {} }
func (h *host) Submit(_ context.Context, msgs ...ledger.Msg) (ledger.TxHash, error) {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	_, raw := ledger.SignTx(testChain, h.k.priv, h.nonce, 100, "", msgs...)
	h.nonce++
	h.n.mempool = append(h.n.mempool, raw)
	return ledger.HashTx(raw), nil
}
func (h *host) Publish(string, []byte) error             { return nil }
func (h *host) Subscribe(string) (<-chan []byte, func()) { return nil, func() {} }
func (h *host) Add(context.Context, []byte) (cid.Cid, error) {
	return cid.Undef, errors.New("not in tests")
}
func (h *host) Logger() *slog.Logger { return h.log }
func (h *host) Fetch(ctx context.Context, c cid.Cid) ([]byte, error) {
	if h.slow[c.String()] {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if h.noFetch[c.String()] {
		return nil, errors.New("no peer has it")
	}
	b, ok := h.n.content[c.String()]
	if !ok {
		return nil, fmt.Errorf("%s not found", c)
	}
	return b, nil
}

// notify hands height to a goroutine reading h.Committed, twice: the
// second send returns only once the first has been fully handled, so the
// goroutine's transactions are in the mempool before the next block.
func (h *host) notify(height uint64, done <-chan struct{}) {
	for i := 0; i < 2; i++ {
		select {
		case h.commits <- height:
		case <-done:
			return
		}
	}
}
