package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger/store"
)

// Keys of the ledger's own bookkeeping, outside the app-hash tree.
const metaPrefix = "\x00"

var (
	keyMetaChainID = []byte(metaPrefix + "chain_id")
	keyMetaAppHash = []byte(metaPrefix + "app_hash")
	keyMetaTime    = []byte(metaPrefix + "time")
	accPrefix      = "acc/"
)

// ErrBroken is returned after a failed commit left the in-memory state
// ahead of the store; the process must restart to rebuild it from disk.
var ErrBroken = errors.New("ledger: state is inconsistent after a failed commit; restart the node")

// Block is what the ledger applies: the consensus block reduced to what the
// state machine reads.
type Block struct {
	Height        uint64
	Time          int64 // unix nanoseconds; must not go backwards
	Proposer      keys.Address
	LastBlockHash []byte
	LastCommit    []VoteInfo
	Evidence      []Evidence
	Txs           [][]byte
	// BeaconOutput is the block's VRF output (beacon.go), checked by the
	// node against the proposer's key before the block gets here.
	BeaconOutput []byte
}

// TxResult is the outcome of one transaction of a block.
type TxResult struct {
	Hash   TxHash  `json:"hash"`
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Events []Event `json:"events,omitempty"`
	err    error
}

// Err returns the error the transaction failed with, for errors.Is.
func (r TxResult) Err() error { return r.err }

// BlockResult is the outcome of ApplyBlock.
type BlockResult struct {
	Height  uint64
	AppHash [32]byte
	Txs     []TxResult
	Events  []Event // begin- and end-block events
}

// Options configure a State.
type Options struct {
	// SkipSigVerify trusts transaction signatures, for replaying blocks
	// whose transactions were already verified (and for benchmarks).
	SkipSigVerify bool
	// Verified, if set, names transactions whose signatures this process
	// already checked (the node's mempool): they are not checked again.
	// Skipping a check known to pass cannot change any result.
	Verified func(TxHash) bool
}

// State is the ledger: modules over a versioned store.
type State struct {
	st      store.Store
	modules []Module
	routes  map[string]Module
	fees    FeePayer
	opts    Options
	tree    *hashTree
	treeMu  sync.Mutex  // guards tree and undo against Prove on other goroutines
	undo    []undoEntry // proof.go: recent blocks' touched buckets
	treeH   uint64      // the height tree holds
	// rebuildMu guards the last tree rebuilt from the store for a proof
	// at an old height (proof.go).
	rebuildMu sync.Mutex
	rebuilt   *hashTree
	rebuiltH  uint64
	chainID   string
	height    uint64
	hasInit   bool
	appHash   [32]byte
	lastT     int64
	broken    error
	tip       atomic.Pointer[tip]
}

// New opens the ledger over st. If st already holds state, the app-hash tree
// is rebuilt from the latest height. Module order is the order of
// begin-block and end-block; fees names the module that charges fees.
func New(st store.Store, modules []Module, fees FeePayer, opts Options) (*State, error) {
	s := &State{st: st, modules: modules, routes: map[string]Module{}, fees: fees, opts: opts, tree: newHashTree()}
	for _, m := range modules {
		for _, t := range m.MsgTypes() {
			if prev, dup := s.routes[t]; dup {
				return nil, fmt.Errorf("ledger: message type %q registered by %s and %s", t, prev.Name(), m.Name())
			}
			s.routes[t] = m
		}
	}
	h, has := st.Latest()
	if !has {
		return s, nil
	}
	r, err := st.At(h)
	if err != nil {
		return nil, err
	}
	if err := r.Iterate(nil, func(k, v []byte) bool {
		if len(k) == 0 || k[0] != metaPrefix[0] {
			s.tree.update(k, v, false)
		}
		return true
	}); err != nil {
		return nil, fmt.Errorf("ledger: rebuild state commitment: %w", err)
	}
	s.tree.rebuildNodes()
	s.height, s.hasInit, s.treeH = h, true, h
	s.appHash = s.tree.root()
	s.publishTip()
	if v, ok, _ := r.Get(keyMetaAppHash); !ok || string(v) != string(s.appHash[:]) {
		return nil, fmt.Errorf("ledger: the state at height %d does not match its recorded app hash; the data directory is corrupt", h)
	}
	cid, _, _ := r.Get(keyMetaChainID)
	s.chainID = string(cid)
	if t, ok, _ := r.Get(keyMetaTime); ok && len(t) == 8 {
		s.lastT = int64(binary.BigEndian.Uint64(t))
	}
	return s, nil
}

// Height is the last committed height and whether genesis was applied.
// Safe from any goroutine: it reads the snapshot published at each commit.
func (s *State) Height() (uint64, bool) {
	t := s.tip.Load()
	if t == nil {
		return 0, false
	}
	return t.height, true
}

// AppHash is the commitment to the state at Height.
// Safe from any goroutine.
func (s *State) AppHash() [32]byte {
	if t := s.tip.Load(); t != nil {
		return t.appHash
	}
	return [32]byte{}
}

// tip is the last committed height, published for readers on other
// goroutines (the API, gossip validation) while blocks are applied.
type tip struct {
	height  uint64
	appHash [32]byte
}

func (s *State) publishTip() { s.tip.Store(&tip{height: s.height, appHash: s.appHash}) }

// ChainID is the chain id from genesis.
func (s *State) ChainID() string { return s.chainID }

// Modules returns the modules in execution order.
func (s *State) Modules() []Module { return s.modules }

// InitGenesis validates g with every module and commits it as height 0.
func (s *State) InitGenesis(g *Genesis) ([32]byte, error) {
	if s.hasInit {
		return [32]byte{}, fmt.Errorf("ledger: genesis already applied (height %d)", s.height)
	}
	if err := g.ValidateBasic(); err != nil {
		return [32]byte{}, err
	}
	known := map[string]bool{}
	for _, m := range s.modules {
		known[m.Name()] = true
		if err := m.ValidateGenesis(g); err != nil {
			return [32]byte{}, err
		}
	}
	for name := range g.Params {
		if !known[name] {
			return [32]byte{}, GenesisErr("params."+name, "no module named %q", name)
		}
	}
	ctx := &Context{ChainID: g.ChainID, Height: 0, Time: g.GenesisTime.UnixNano(), kv: newCache(emptySource{})}
	err := catchStore(func() error {
		for _, m := range s.modules {
			if err := m.InitGenesis(ctx, g); err != nil {
				return fmt.Errorf("genesis: module %s: %w", m.Name(), err)
			}
		}
		return nil
	})
	if err != nil {
		return [32]byte{}, err
	}
	gb := genesisBeacon(g.ChainID, ctx.kv)
	ctx.SetObj(keyBeacon, Beacon{Value: gb[:], Prev: gb[:]})
	ctx.kv.set(keyMetaChainID, []byte(g.ChainID))
	ctx.kv.set(keyMetaTime, binary.BigEndian.AppendUint64(nil, uint64(ctx.Time)))
	s.chainID, s.lastT = g.ChainID, ctx.Time
	if err := s.commit(0, ctx); err != nil {
		return [32]byte{}, err
	}
	s.hasInit = true
	return s.appHash, nil
}

// ApplyBlock runs b (begin-block, each tx, end-block) and commits the result
// as height b.Height, atomically. A block that cannot be applied (wrong
// height, time going backwards) is refused with ErrBadBlock and changes
// nothing; invalid transactions inside a valid block fail on their own.
// It is Execute followed by Commit.
func (s *State) ApplyBlock(b *Block) (*BlockResult, error) {
	p, err := s.Execute(b)
	if err != nil {
		return nil, err
	}
	return s.Commit(p)
}

// PendingBlock is an executed block not yet committed: its results are
// known, the state is unchanged until Commit.
type PendingBlock struct {
	Result *BlockResult // AppHash is set by Commit
	ctx    *Context
	time   int64
	state  *State
}

// Execute runs b without committing it, so the caller can store the block
// and its results first: a crash then leaves a stored block that the ledger
// replays, never a ledger ahead of its block store. Only one pending block
// may exist; the next Execute or ApplyBlock must follow its Commit.
func (s *State) Execute(b *Block) (*PendingBlock, error) {
	if s.broken != nil {
		return nil, s.broken
	}
	if !s.hasInit {
		return nil, fmt.Errorf("%w: genesis not applied", ErrBadBlock)
	}
	if b.Height != s.height+1 {
		return nil, fmt.Errorf("%w: height %d, expected %d", ErrBadBlock, b.Height, s.height+1)
	}
	if b.Time < s.lastT {
		return nil, fmt.Errorf("%w: time %d is before the previous block's %d", ErrBadBlock, b.Time, s.lastT)
	}
	r, err := s.st.At(s.height)
	if err != nil {
		return nil, err
	}
	ctx := &Context{ChainID: s.chainID, Height: b.Height, Time: b.Time, Proposer: b.Proposer, kv: newCache(storeSource{r})}
	res := &BlockResult{Height: b.Height}
	info := &BlockInfo{Height: b.Height, Time: b.Time, Proposer: b.Proposer, LastBlockHash: b.LastBlockHash, LastCommit: b.LastCommit, Evidence: b.Evidence}
	err = catchStore(func() error {
		bc, err := advanceBeacon(ctx, b.BeaconOutput)
		if err != nil {
			return err
		}
		info.Beacon, info.PrevBeacon = bc.Value, bc.Prev
		for _, m := range s.modules {
			if err := m.BeginBlock(ctx, info); err != nil {
				return fmt.Errorf("begin-block %s: %w", m.Name(), err)
			}
		}
		res.Txs = make([]TxResult, len(b.Txs))
		for i, raw := range b.Txs {
			res.Txs[i] = s.deliverTx(ctx, raw)
		}
		for _, m := range s.modules {
			if err := m.EndBlock(ctx); err != nil {
				return fmt.Errorf("end-block %s: %w", m.Name(), err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Events = ctx.events
	ctx.kv.set(keyMetaTime, binary.BigEndian.AppendUint64(nil, uint64(b.Time)))
	return &PendingBlock{Result: res, ctx: ctx, time: b.Time, state: s}, nil
}

// Commit writes an executed block atomically and returns its result with
// the new app hash.
func (s *State) Commit(p *PendingBlock) (*BlockResult, error) {
	if p.state != s || p.ctx == nil || p.Result.Height != s.height+1 {
		return nil, fmt.Errorf("%w: stale pending block", ErrBadBlock)
	}
	if err := s.commit(p.Result.Height, p.ctx); err != nil {
		return nil, err
	}
	p.ctx = nil
	s.lastT = p.time
	p.Result.AppHash = s.appHash
	return p.Result, nil
}

func (s *State) commit(height uint64, ctx *Context) error {
	changes := ctx.kv.changes()
	s.treeMu.Lock()
	if height > 0 {
		s.tree.saving = map[int][]leaf{}
	}
	for _, c := range changes {
		if len(c.Key) > 0 && c.Key[0] == metaPrefix[0] {
			continue
		}
		s.tree.update(c.Key, c.Value, c.Delete)
	}
	root := s.tree.root()
	if height > 0 {
		s.recordUndo(height, s.tree.saving)
		s.tree.saving = nil
	}
	s.treeH = height
	s.treeMu.Unlock()
	changes = append(changes, store.Change{Key: keyMetaAppHash, Value: root[:]})
	sort.Slice(changes, func(i, j int) bool { return string(changes[i].Key) < string(changes[j].Key) })
	if err := s.st.Commit(height, changes); err != nil {
		s.broken = fmt.Errorf("%w: %v", ErrBroken, err)
		return s.broken
	}
	s.height, s.appHash = height, root
	s.publishTip()
	return nil
}

// deliverTx runs one transaction. Failures before the fee is charged leave
// no trace; failures after it keep the fee and the nonce bump only.
func (s *State) deliverTx(ctx *Context, raw []byte) (res TxResult) {
	res.Hash = HashTx(raw)
	fail := func(err error) TxResult {
		res.OK, res.Error, res.err, res.Events = false, err.Error(), err, nil
		return res
	}
	tx, err := DecodeTx(raw)
	if err != nil {
		return fail(err)
	}
	if tx.Body.ChainID != s.chainID {
		return fail(fmt.Errorf("%w: transaction is for chain %q, this is %q", ErrWrongChainID, tx.Body.ChainID, s.chainID))
	}
	if !s.opts.SkipSigVerify && (s.opts.Verified == nil || !s.opts.Verified(res.Hash)) {
		if err := VerifyTx(s.chainID, tx); err != nil {
			return fail(err)
		}
	}
	for _, m := range tx.Body.Msgs {
		if _, ok := s.routes[m.Type]; !ok {
			return fail(fmt.Errorf("%w: %q", ErrUnknownMsg, m.Type))
		}
	}
	sender := tx.Body.Sender
	nonce := AccountNonce(ctx, sender)
	if tx.Body.Nonce != nonce {
		return fail(fmt.Errorf("%w: got %d, account %s expects %d", ErrWrongNonce, tx.Body.Nonce, sender, nonce))
	}
	if min := s.fees.MinFee(ctx); tx.Body.Fee < min {
		return fail(fmt.Errorf("%w: fee %d uinf, minimum %d uinf", ErrInsufficientFee, tx.Body.Fee, min))
	}
	if err := s.fees.ChargeFee(ctx, sender, tx.Body.Fee); err != nil {
		return fail(err)
	}
	setAccountNonce(ctx, sender, nonce+1)
	child := ctx.child()
	if err := runMsgs(child, s.routes, sender, tx.Body.Msgs); err != nil {
		return fail(err)
	}
	res.OK, res.Events = true, child.events
	child.events = nil
	child.commitInto(ctx)
	return res
}

// runMsgs runs the messages in order. A panic inside a module on a message
// is a bug, but network input must never crash the node: it fails the tx.
// Store failures are re-raised to abort the block.
func runMsgs(ctx *Context, routes map[string]Module, sender keys.Address, msgs []Msg) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if sf, ok := r.(storeFailure); ok {
				panic(sf)
			}
			err = fmt.Errorf("%w: internal error handling message: %v", ErrInvalidMsg, r)
		}
	}()
	for i, m := range msgs {
		if err := routes[m.Type].Handle(ctx, sender, m); err != nil {
			if len(msgs) > 1 {
				return fmt.Errorf("message %d (%s): %w", i, m.Type, err)
			}
			return err
		}
	}
	return nil
}

func catchStore(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			sf, ok := r.(storeFailure)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("ledger: store failure: %w", sf.err)
		}
	}()
	return f()
}

// AccountNonce is the next nonce the account must use.
func AccountNonce(ctx *Context, a keys.Address) uint64 {
	v := ctx.Get(accountKey(a))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func setAccountNonce(ctx *Context, a keys.Address, n uint64) {
	ctx.Set(accountKey(a), binary.BigEndian.AppendUint64(nil, n))
}

func accountKey(a keys.Address) []byte { return append([]byte(accPrefix), a[:]...) }

// View returns a read-only context over the committed state at height, for
// queries. It is safe to use concurrently with ApplyBlock.
func (s *State) View(height uint64) (*Context, error) {
	r, err := s.st.At(height)
	if err != nil {
		return nil, err
	}
	ctx := &Context{ChainID: s.chainID, Height: height, kv: newCache(storeSource{r}), readOnly: true}
	if t, ok, _ := r.Get(keyMetaTime); ok && len(t) == 8 {
		ctx.Time = int64(binary.BigEndian.Uint64(t))
	}
	return ctx, nil
}

// AppHashAt returns the app hash recorded at height.
func (s *State) AppHashAt(height uint64) ([32]byte, error) {
	var h [32]byte
	r, err := s.st.At(height)
	if err != nil {
		return h, err
	}
	v, ok, err := r.Get(keyMetaAppHash)
	if err != nil || !ok || len(v) != 32 {
		return h, fmt.Errorf("ledger: no app hash at height %d: %v", height, err)
	}
	copy(h[:], v)
	return h, nil
}

// Query runs f against a read-only view at height, turning store failures
// into errors.
func (s *State) Query(height uint64, f func(ctx *Context) error) error {
	ctx, err := s.View(height)
	if err != nil {
		return err
	}
	return catchStore(func() error { return f(ctx) })
}
