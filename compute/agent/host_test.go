package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	hostapi "github.com/inferd/inferd/agent"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/store"
)

const testChainID = "compute-agent-test"

// testParams: 10-block epochs, commits in the first 3 blocks, attestations
// until block 9; every completed job re-executed within 4 blocks.
const testParams = `{"min_bond":1000,"epoch_blocks":10,"commit_deadline_blocks":3,"attest_deadline_blocks":9,
"job_deadline_blocks":20,"job_min_run_blocks":2,"reexec_ppm":1000000,"reexec_window_blocks":4}`

// testNet is a real chain with fake hosts: transactions a host submits go
// into the next block; published gossip is delivered by the test.
type testNet struct {
	t      testing.TB
	c      *chain.Chain
	height uint64
	latest atomic.Uint64 // height, for agents' goroutines
	hosts  []*fakeHost
	now    int64
	mu     sync.Mutex
	txs    [][]byte
	gossip [][]byte
	blobs  map[string][]byte
}

type fakeHost struct {
	net      *testNet
	priv     keys.PrivKey
	addr     keys.Address
	nonce    uint64
	mute     bool // drops what it publishes
	hang     bool // Fetch of missing content waits for ctx (a node searching peers)
	refuse   bool // Submit fails (a full mempool, a nonce gap)
	lastHash ledger.TxHash
	log      *slog.Logger            // nil: discarded
	onSubmit func(msgs []ledger.Msg) // called before a submission is accepted
	mu       sync.Mutex
	heights  chan uint64 // Committed, in async tests
	msgs     chan []byte // Subscribe(TopicCompute), in async tests
}

var _ hostapi.Host = (*fakeHost)(nil)

func newTestNet(t testing.TB, params string, nAccts int) (*testNet, []*fakeHost) {
	t.Helper()
	c, err := chain.New(store.NewMem(), chain.Options{Ledger: ledger.Options{SkipSigVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	n := &testNet{t: t, c: c, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), blobs: map[string][]byte{}}
	r := rand.New(rand.NewSource(5))
	g := &ledger.Genesis{ChainID: testChainID, GenesisTime: time.Unix(0, n.now).UTC(),
		Params: map[string]json.RawMessage{"compute": json.RawMessage(params),
			"emission": json.RawMessage(`{"epoch_length_blocks":10}`)}}
	var hosts []*fakeHost
	for i := 0; i < nAccts; i++ {
		pub, priv, err := keys.Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		h := &fakeHost{net: n, priv: priv, addr: keys.AddressOf(pub), heights: make(chan uint64, 1), msgs: make(chan []byte, 64)}
		n.hosts = append(n.hosts, h)
		hosts = append(hosts, h)
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: h.addr, Balance: 1000 * ledger.UinfPerINF})
	}
	// hosts[0] operates the only validator.
	cpub, _, _ := keys.Generate(r)
	g.Validators = append(g.Validators, ledger.GenesisValidator{Operator: hosts[0].addr, ConsPubKey: ledger.HexBytes(cpub),
		Moniker: "v0", SelfBond: 100 * ledger.UinfPerINF})
	if _, err := c.InitGenesis(g); err != nil {
		t.Fatal(err)
	}
	return n, hosts
}

// block applies the submitted transactions as the next block and returns
// the gossip published since the last block.
func (n *testNet) block() (*ledger.BlockResult, [][]byte) {
	n.t.Helper()
	n.mu.Lock()
	txs, gossip := n.txs, n.gossip
	n.txs, n.gossip = nil, nil
	n.mu.Unlock()
	n.now += int64(time.Second)
	n.height++
	hash := make([]byte, 32)
	copy(hash, fmt.Sprintf("hash-%d", n.height))
	res, err := n.c.ApplyBlock(&ledger.Block{Height: n.height, Time: n.now, LastBlockHash: hash, Txs: txs})
	if err != nil {
		n.t.Fatal(err)
	}
	for i, r := range res.Txs {
		if !r.OK {
			n.t.Logf("height %d tx %d failed: %s", n.height, i, r.Error)
		}
	}
	if err := n.c.CheckInvariants(n.height); err != nil {
		n.t.Fatal(err)
	}
	n.latest.Store(n.height)
	for _, h := range n.hosts {
		select {
		case h.heights <- n.height:
		default: // a slow agent reads the latest height next time
		}
	}
	return res, gossip
}

func (n *testNet) put(data []byte) cid.Cid {
	h, _ := mh.Sum(data, mh.SHA2_256, -1)
	c := cid.NewCidV1(cid.Raw, h)
	n.mu.Lock()
	n.blobs[c.KeyString()] = append([]byte(nil), data...)
	n.mu.Unlock()
	return c
}

func (h *fakeHost) ChainID() string                          { return testChainID }
func (h *fakeHost) Chain() *chain.Chain                      { return h.net.c }
func (h *fakeHost) LatestHeight() uint64                     { return h.net.latest.Load() }
func (h *fakeHost) Committed() (<-chan uint64, func())       { return h.heights, func() {} }
func (h *fakeHost) Account() keys.Address                    { return h.addr }
func (h *fakeHost) Subscribe(string) (<-chan []byte, func()) { return h.msgs, func() {} }

func (h *fakeHost) Logger() *slog.Logger {
	if h.log != nil {
		return h.log
	}
	return slog.New(slog.DiscardHandler)
}

func (h *fakeHost) Submit(_ context.Context, msgs ...ledger.Msg) (ledger.TxHash, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.onSubmit != nil {
		h.onSubmit(msgs)
	}
	if h.refuse {
		return ledger.TxHash{}, fmt.Errorf("mempool full")
	}
	_, raw := ledger.SignTx(testChainID, h.priv, h.nonce, 100, "", msgs...)
	h.nonce++
	h.net.mu.Lock()
	h.net.txs = append(h.net.txs, raw)
	h.net.mu.Unlock()
	h.lastHash = ledger.HashTx(raw)
	return h.lastHash, nil
}

func (h *fakeHost) Publish(topic string, data []byte) error {
	if topic != hostapi.TopicCompute {
		return fmt.Errorf("unexpected topic %q", topic)
	}
	if h.mute {
		return nil
	}
	h.net.mu.Lock()
	h.net.gossip = append(h.net.gossip, data)
	h.net.mu.Unlock()
	for _, o := range h.net.hosts {
		if o != h {
			select {
			case o.msgs <- data:
			default:
			}
		}
	}
	return nil
}

func (h *fakeHost) Fetch(ctx context.Context, c cid.Cid) ([]byte, error) {
	h.net.mu.Lock()
	b, ok := h.net.blobs[c.KeyString()]
	h.net.mu.Unlock()
	if !ok {
		if h.hang {
			<-ctx.Done()
			return nil, fmt.Errorf("fetch %s: %w", c, ctx.Err())
		}
		return nil, fmt.Errorf("fetch %s: not found", c)
	}
	return b, nil
}

func (h *fakeHost) Add(_ context.Context, data []byte) (cid.Cid, error) { return h.net.put(data), nil }
