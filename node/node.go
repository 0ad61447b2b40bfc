package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/consensus/wal"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/store/badgerstore"
	"github.com/inferd/inferd/node/blocks"
	"github.com/inferd/inferd/node/blockstore"
	"github.com/inferd/inferd/node/mempool"
)

// Data directory layout under <home>/data.
const (
	StateDir    = "data/state"
	BlocksDir   = "data/blocks"
	WALFile     = "data/cs.wal"
	ValsetFile  = "data/valsets.cbor"
	DevnetFile  = "devnet.json"
	HomeLockDir = "data/LOCK"
)

// Node is a full node: ledger, block store, mempool, consensus engine,
// networking and API, opened from a home directory.
type Node struct {
	Home    string
	Config  Config
	Genesis *ledger.Genesis
	Chain   *chain.Chain
	Blocks  *blockstore.Store
	Mempool *mempool.Mempool
	Engine  *Engine
	Log     *slog.Logger

	// AgentKey, when set before Start, signs the transactions of the
	// background agents (the validator operator's or provider's account
	// key); Agents are started with it.
	AgentKey keys.PrivKey
	Agents   []AgentFunc

	ledgerStore *badgerstore.Store
	wal         *wal.WAL
	nodeKey     keys.PrivKey
	valKey      keys.PrivKey
	closers     []func() error
	apiToken    string          // [api] token_file or $INFERD_API_TOKEN; "" on loopback without one
	recheckView *ledger.Context // see recheck; engine goroutine only
	txSigs      *verifiedTxs    // txs whose signatures were checked outside the mempool (batches, blocks)
}

// Open loads a home directory written by `inferd init` and opens its
// stores. The transport is attached by Start.
func Open(home string, log *slog.Logger) (*Node, error) {
	cfg, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	// Before any store opens: an exposed API without a token is refused.
	tok, err := cfg.API.apiToken(home)
	if err != nil {
		return nil, err
	}
	g, err := ledger.LoadGenesis(filepath.Join(home, GenesisFile))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(home, GenesisFile), err)
	}
	if err := chain.ValidateGenesis(g); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(home, GenesisFile), err)
	}
	n := &Node{Home: home, Config: cfg, Genesis: g, Log: log, apiToken: tok, txSigs: newVerifiedTxs(maxVerifiedTxs)}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	if n.nodeKey, err = LoadKeyFile(filepath.Join(home, NodeKeyFile)); err != nil {
		return nil, fmt.Errorf("node key: %v", err)
	}
	if n.valKey, err = LoadKeyFile(filepath.Join(home, ValidatorKeyFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("validator key: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(home, DataDir), 0o700); err != nil {
		return nil, err
	}
	if n.ledgerStore, err = badgerstore.Open(filepath.Join(home, StateDir), ledgerStoreOptions); err != nil {
		return nil, err
	}
	// The store can be swapped by state sync (installRestoredState).
	n.closers = append(n.closers, func() error { return n.ledgerStore.Close() })
	if err := n.openChain(); err != nil {
		return nil, err
	}
	if _, has := n.Chain.Height(); !has {
		if _, err := n.Chain.InitGenesis(g); err != nil {
			return nil, err
		}
	} else if n.Chain.ChainID() != g.ChainID {
		return nil, fmt.Errorf("the state in %s is for chain %q, the genesis for %q", filepath.Join(home, StateDir), n.Chain.ChainID(), g.ChainID)
	}
	if n.Blocks, err = blockstore.Open(filepath.Join(home, BlocksDir), blockstore.Options{}); err != nil {
		return nil, err
	}
	n.closers = append(n.closers, n.Blocks.Close)
	// The recheck asks whether a sender can still pay its fee. A balance
	// falls only through the account's own txs (fees, sends, bonds,
	// deposits, escrows: every debit in the ledger is of the tx's sender),
	// so after a block only its senders need a recheck; a full pass every
	// fullRecheckEvery blocks catches anything else. A tx missed in between
	// fails in its block without a fee and leaves the pool, as it would
	// with any stale tx.
	n.Mempool = mempool.New(mempool.Config{MaxTxs: cfg.Mempool.MaxTxs, MaxBytes: cfg.Mempool.MaxBytes, Recheck: n.recheck, FullRecheckEvery: fullRecheckEvery})
	if n.valKey != nil {
		if n.wal, err = wal.Open(filepath.Join(home, WALFile)); err != nil {
			return nil, err
		}
		n.closers = append(n.closers, n.wal.Close)
	}
	ok = true
	return n, nil
}

// ledgerStoreOptions: the ledger commits without fsync. The block store's
// fsync of each block (with the set that decided it) is the one a block
// needs: start-up replays what the ledger lost (Engine.replay), so a crash
// loses no committed block. docs/architecture.md, "One fsync per block".
var ledgerStoreOptions = badgerstore.Options{NoSync: true}

// openChain builds n.Chain over n.ledgerStore.
func (n *Node) openChain() error {
	// Transactions in our mempool had their signatures checked on admission,
	// those in txSigs in a batch or a block before the engine got it; the
	// ledger need not check them again when a block includes them.
	verified := func(h ledger.TxHash) bool {
		return (n.Mempool != nil && n.Mempool.Has(h)) || (n.txSigs != nil && n.txSigs.has(h))
	}
	c, err := chain.New(n.ledgerStore, chain.Options{Evidence: blocks.EvidenceVerifier{}, Ledger: ledger.Options{Verified: verified}})
	if err != nil {
		return err
	}
	n.Chain = c
	return nil
}

// ValidatorAddress is this node's consensus address (zero without a key).
func (n *Node) ValidatorAddress() keys.Address {
	if n.valKey == nil {
		return keys.Address{}
	}
	return keys.AddressOf(n.valKey.Public().(keys.PubKey))
}

// NewEngine builds the consensus engine over transport t.
func (n *Node) NewEngine(t Transport, metrics EngineMetrics) error {
	c := n.Config.Consensus
	e, err := NewEngine(EngineConfig{
		ChainID: n.Genesis.ChainID, Chain: n.Chain, Blocks: n.Blocks, Mempool: n.Mempool, Transport: t,
		ValidatorKey: n.valKey, WAL: n.wal, ValsetPath: filepath.Join(n.Home, ValsetFile),
		Timeouts: consensus.Timeouts{
			Propose: c.TimeoutPropose.Duration, ProposeDelta: c.TimeoutDelta.Duration,
			Prevote: c.TimeoutPrevote.Duration, PrevoteDelta: c.TimeoutDelta.Duration,
			Precommit: c.TimeoutPrecommit.Duration, PrecommitDelta: c.TimeoutDelta.Duration,
		},
		CommitDelay: c.CommitDelay.Duration, Log: n.Log, Metrics: metrics,
		// As CometBFT: an interval alone also waits for txs, up to it.
		WaitForTxs: !c.CreateEmptyBlocks || c.CreateEmptyBlocksInterval.Duration > 0, EmptyBlocksInterval: c.CreateEmptyBlocksInterval.Duration,
	})
	if err != nil {
		return err
	}
	n.Engine = e
	return nil
}

// Close releases the stores, newest first.
func (n *Node) Close() error {
	var first error
	for i := len(n.closers) - 1; i >= 0; i-- {
		if err := n.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	n.closers = nil
	return first
}

// SubmitTx checks a transaction against the latest state and adds it to the
// mempool. It returns the hash; the caller gossips the bytes.
func (n *Node) SubmitTx(raw []byte) (ledger.TxHash, error) {
	return n.submitTx(raw, false)
}

// submitTx is SubmitTx; sigChecked says the gossip validator already
// verified the signature.
func (n *Node) submitTx(raw []byte, sigChecked bool) (ledger.TxHash, error) {
	h := ledger.HashTx(raw)
	if n.Mempool.Has(h) {
		return h, fmt.Errorf("%w: %x", mempool.ErrDuplicate, h[:8])
	}
	tx, err := ledger.DecodeTx(raw)
	if err != nil {
		return h, err
	}
	return n.admitTx(raw, h, tx, sigChecked)
}

// admitTx is submitTx after decoding: raw's hash h and its decoded tx.
func (n *Node) admitTx(raw []byte, h ledger.TxHash, tx *ledger.Tx, sigChecked bool) (ledger.TxHash, error) {
	if !sigChecked {
		if err := ledger.VerifyTx(n.Genesis.ChainID, tx); err != nil {
			return h, err
		}
	}
	var a admission
	err := n.Chain.Query(n.latestHeight(), func(ctx *ledger.Context) error {
		a = n.readAdmission(ctx, tx)
		return nil
	})
	if err != nil {
		return h, err
	}
	return h, n.admitWith(raw, tx, a)
}

// admission is what the latest state says about a tx's sender.
type admission struct{ nonce, balance, minFee uint64 }

func (n *Node) latestHeight() uint64 { h, _ := n.Chain.Height(); return h }

func (n *Node) readAdmission(ctx *ledger.Context, tx *ledger.Tx) admission {
	return admission{
		nonce:   ledger.AccountNonce(ctx, tx.Body.Sender),
		balance: n.Chain.Bank.Balance(ctx, tx.Body.Sender),
		minFee:  n.Chain.Bank.MinFee(ctx),
	}
}

// admitWith checks tx against a and adds it to the mempool.
func (n *Node) admitWith(raw []byte, tx *ledger.Tx, a admission) error {
	nonce, balance, minFee := a.nonce, a.balance, a.minFee
	if tx.Body.Nonce < nonce {
		return fmt.Errorf("%w: nonce %d already used; the account's next nonce is %d", ledger.ErrWrongNonce, tx.Body.Nonce, nonce)
	}
	if tx.Body.Fee < minFee {
		return fmt.Errorf("%w: fee %d uinf, minimum %d uinf", ledger.ErrInsufficientFee, tx.Body.Fee, minFee)
	}
	if tx.Body.Fee > balance {
		return fmt.Errorf("%w: balance %d uinf cannot pay the fee %d uinf", ledger.ErrInsufficientFunds, balance, tx.Body.Fee)
	}
	return n.Mempool.Add(raw, tx, nonce)
}

// fullRecheckEvery: see the mempool's construction in Open.
const fullRecheckEvery = 100

// recheck runs after every block on each pending tx of the block's
// senders (on every pending tx each fullRecheckEvery blocks): a sender who can no
// longer pay the fee loses the tx (its nonce order is the mempool's job).
// It is called only from Mempool.Update on the engine goroutine, so it
// keeps one view of the latest state per height instead of opening one
// per transaction.
func (n *Node) recheck(tx *ledger.Tx) error {
	h, _ := n.Chain.Height()
	if n.recheckView == nil || n.recheckView.Height != h {
		v, err := n.Chain.View(h)
		if err != nil {
			return err
		}
		n.recheckView = v
	}
	bal := n.Chain.Bank.Balance(n.recheckView, tx.Body.Sender)
	if bal < tx.Body.Fee {
		return fmt.Errorf("%w: balance %d cannot pay fee %d", ledger.ErrInsufficientFunds, bal, tx.Body.Fee)
	}
	return nil
}
