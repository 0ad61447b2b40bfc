// Package apitest provides Backend, an api.Backend over a real ledger on
// an in-memory store, for tests of the API and of the CLI. Submitted
// transactions are checked like a node's mempool would (decode, chain id,
// signature, nonce, fee) and, with AutoCommit, committed at once in a block
// of their own.
//
// Threading: all methods are safe for concurrent use.
package apitest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/light"
	"github.com/inferd/inferd/node/api"
	"github.com/inferd/inferd/node/blocks"
)

// ChainID of the test chain.
const ChainID = "apitest-1"

// Amounts of the genesis.
const (
	Balance  = 1_000 * ledger.UinfPerINF // each funded account
	SelfBond = 100 * ledger.UinfPerINF   // the validator's
	MinFee   = 100
)

// GenesisTime is the time of the genesis; block h is 6 s × h later.
var GenesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Backend is a single-validator chain with no consensus: blocks are made
// by Commit.
type Backend struct {
	C *chain.Chain
	// Genesis is the document the chain started from.
	Genesis *ledger.Genesis
	// Operator is the validator's operator (funded, bonded), with its key.
	Operator    keys.Address
	OperatorKey keys.PrivKey
	ConsKey     keys.PrivKey
	AutoCommit  bool // SubmitTx commits the tx in a new block (default true)
	PeersCount  int
	mu          sync.Mutex
	blocks      []api.BlockView     // by height; [0] is the genesis
	light       []*light.LightBlock // signed headers by height (light.go); [0] is nil
	txs         map[[32]byte]api.TxView
	subs        map[int]chan api.BlockView
	nextSub     int
	pending     [][]byte
	evidence    []ledger.Evidence // for the next block (evidence.go)
	notReady    bool
}

// New opens a chain whose genesis funds each of funded, and the operator of
// one validator, with Balance.
func New(t testing.TB, funded ...keys.Address) *Backend {
	t.Helper()
	r := rand.New(rand.NewSource(1))
	opPub, opPriv, _ := keys.Generate(r)
	consPub, consPriv, _ := keys.Generate(r)
	b := &Backend{Operator: keys.AddressOf(opPub), OperatorKey: opPriv, ConsKey: consPriv, AutoCommit: true, PeersCount: 3,
		txs: map[[32]byte]api.TxView{}, subs: map[int]chan api.BlockView{}}
	g := &ledger.Genesis{ChainID: ChainID, GenesisTime: GenesisTime,
		Params: map[string]json.RawMessage{"gov": json.RawMessage(`{"min_deposit":10000000}`)}}
	for _, a := range append([]keys.Address{b.Operator}, funded...) {
		g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: a, Balance: Balance})
	}
	g.Validators = []ledger.GenesisValidator{{Operator: b.Operator, ConsPubKey: ledger.HexBytes(consPub), Moniker: "val-0",
		SelfBond: SelfBond, Commission: 100_000}}
	c, err := chain.New(store.NewMem(), chain.Options{Evidence: blocks.EvidenceVerifier{}})
	if err != nil {
		t.Fatal(err)
	}
	app, err := c.InitGenesis(g)
	if err != nil {
		t.Fatal(err)
	}
	b.C, b.Genesis = c, g
	b.blocks = []api.BlockView{{Height: 0, Hash: hashOf(0, app[:]), AppHash: app[:], Time: GenesisTime, Txs: []api.TxHash{}}}
	return b
}

func hashOf(h uint64, parts ...[]byte) []byte {
	s := sha256.New()
	s.Write(binary.BigEndian.AppendUint64(nil, h))
	for _, p := range parts {
		s.Write(p)
	}
	return s.Sum(nil)
}

// SetReady makes the backend (and so the API) ready or not (503s).
func (b *Backend) SetReady(ok bool) {
	b.mu.Lock()
	b.notReady = !ok
	b.mu.Unlock()
}

// Commit applies a block of txs (and of any transactions submitted while
// AutoCommit was off) and returns its view.
func (b *Backend) Commit(txs ...[]byte) (api.BlockView, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.commitLocked(txs)
}

func (b *Backend) commitLocked(txs [][]byte) (api.BlockView, error) {
	txs = append(b.pending, txs...)
	b.pending = nil
	prev := b.blocks[len(b.blocks)-1]
	h := prev.Height + 1
	t := GenesisTime.Add(time.Duration(h) * 6 * time.Second)
	blk := &ledger.Block{Height: h, Time: t.UnixNano(), Proposer: keys.AddressOf(b.ConsKey.Public().(keys.PubKey)),
		LastBlockHash: prev.Hash, Txs: txs,
		LastCommit: []ledger.VoteInfo{{Validator: keys.AddressOf(b.ConsKey.Public().(keys.PubKey)), Signed: true}},
		Evidence:   b.evidence}
	b.evidence = nil
	res, err := b.C.ApplyBlock(blk)
	if err != nil {
		return api.BlockView{}, err
	}
	v := api.BlockView{Height: h, AppHash: res.AppHash[:], LastBlockHash: prev.Hash, Time: t, Proposer: blk.Proposer,
		NumTxs: len(txs), Txs: []api.TxHash{},
		LastCommit: api.CommitSummary{Height: h - 1, Signatures: 1, Validators: 1, SignedPower: 100, TotalPower: 100}}
	for i, raw := range txs {
		tv := api.NewTxView(raw, h, i, res.Txs[i])
		b.txs[ledger.HashTx(raw)] = tv
		v.Txs = append(v.Txs, tv.Hash)
	}
	lb, err := b.signBlock(h, t, prev, txs)
	if err != nil {
		return api.BlockView{}, err
	}
	id := lb.Header.Hash()
	v.Hash = id[:]
	if len(b.light) == 0 {
		b.light = append(b.light, nil)
	}
	b.light = append(b.light, lb)
	b.blocks = append(b.blocks, v)
	for _, ch := range b.subs {
		select {
		case ch <- v:
		default: // a slow subscriber misses blocks
		}
	}
	return v, nil
}

// Status implements api.Backend.
func (b *Backend) Status() api.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	last := b.blocks[len(b.blocks)-1]
	return api.Status{ChainID: ChainID, Height: last.Height, BlockHash: last.Hash, AppHash: last.AppHash, BlockTime: last.Time,
		Peers: b.PeersCount, NodeID: "12D3KooWTest", Moniker: "apitest", CatchingUp: b.notReady,
		Validator: keys.AddressOf(b.ConsKey.Public().(keys.PubKey)).String()}
}

// Chain implements api.Backend.
func (b *Backend) Chain() *chain.Chain {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notReady {
		return nil
	}
	return b.C
}

// LatestHeight implements api.Backend.
func (b *Backend) LatestHeight() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return uint64(len(b.blocks) - 1)
}

// Block implements api.Backend.
func (b *Backend) Block(h uint64) (api.BlockView, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if h >= uint64(len(b.blocks)) {
		return api.BlockView{}, fmt.Errorf("%w: no block at height %d", api.ErrNotFound, h)
	}
	return b.blocks[h], nil
}

// Tx implements api.Backend.
func (b *Backend) Tx(hash [32]byte) (api.TxView, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.txs[hash]
	if !ok {
		return v, fmt.Errorf("%w: transaction %X", api.ErrNotFound, hash[:])
	}
	return v, nil
}

// SubmitTx implements api.Backend: the checks of a mempool, then (with
// AutoCommit) a block.
func (b *Backend) SubmitTx(raw []byte) ([32]byte, error) {
	hash := [32]byte(ledger.HashTx(raw))
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notReady {
		return hash, fmt.Errorf("%w: catching up", api.ErrNotReady)
	}
	if _, ok := b.txs[hash]; ok {
		return hash, fmt.Errorf("%w: %X is committed", api.ErrAlreadyKnown, hash[:])
	}
	tx, err := ledger.DecodeTx(raw)
	if err != nil {
		return hash, err
	}
	if err := ledger.VerifyTx(ChainID, tx); err != nil {
		return hash, err
	}
	latest := uint64(len(b.blocks) - 1)
	err = b.C.Query(latest, func(ctx *ledger.Context) error {
		// As the mempool: a nonce held by a pending tx of the sender is
		// taken; the one after the sender's pending txs is next.
		n := ledger.AccountNonce(ctx, tx.Body.Sender)
		for _, p := range b.pending {
			if pt, err := ledger.DecodeTx(p); err == nil && pt.Body.Sender == tx.Body.Sender {
				if pt.Body.Nonce == tx.Body.Nonce {
					return fmt.Errorf("%w: nonce %d of %s is pending", api.ErrNoncePending, tx.Body.Nonce, tx.Body.Sender)
				}
				n = max(n, pt.Body.Nonce+1)
			}
		}
		if tx.Body.Nonce != n {
			return fmt.Errorf("%w: got %d, account %s expects %d", ledger.ErrWrongNonce, tx.Body.Nonce, tx.Body.Sender, n)
		}
		if min := b.C.Bank.MinFee(ctx); tx.Body.Fee < min {
			return fmt.Errorf("%w: fee %d uinf, minimum %d uinf", ledger.ErrInsufficientFee, tx.Body.Fee, min)
		}
		if bal := b.C.Bank.Balance(ctx, tx.Body.Sender); bal < tx.Body.Fee {
			return fmt.Errorf("%w: balance %d uinf cannot pay the fee of %d uinf", ledger.ErrInsufficientFunds, bal, tx.Body.Fee)
		}
		return nil
	})
	if err != nil {
		return hash, err
	}
	if !b.AutoCommit {
		b.pending = append(b.pending, raw)
		return hash, nil
	}
	if _, err := b.commitLocked([][]byte{raw}); err != nil {
		return hash, errors.Join(api.ErrNotReady, err)
	}
	return hash, nil
}

// SubscribeBlocks implements api.Backend.
func (b *Backend) SubscribeBlocks() (<-chan api.BlockView, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextSub
	b.nextSub++
	ch := make(chan api.BlockView, 16)
	b.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, id)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Subscribers is the number of open subscriptions.
func (b *Backend) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
