package api

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
)

// Backend is what the server needs from the node. Every method must be
// safe for concurrent use.
type Backend interface {
	// Status describes the node and the tip of its chain.
	Status() Status
	// Chain is the ledger, queried at any committed height. It may return
	// nil while the node is starting; the server then answers 503.
	Chain() *chain.Chain
	// LatestHeight is the last committed height.
	LatestHeight() uint64
	// Block returns a committed block; an error wrapping ErrNotFound when
	// there is none at that height.
	Block(height uint64) (BlockView, error)
	// Tx returns a committed transaction; an error wrapping ErrNotFound
	// when it is unknown or not committed yet.
	Tx(hash [32]byte) (TxView, error)
	// SubmitTx checks a transaction against the latest state, adds it to
	// the mempool and gossips it. Rejections wrap a ledger sentinel
	// (ledger.ErrBadSignature, ledger.ErrWrongNonce, ...) or one of
	// ErrMempoolFull, ErrAlreadyKnown, ErrNotReady; the message reaches
	// the client verbatim.
	SubmitTx(raw []byte) ([32]byte, error)
	// SubscribeBlocks delivers each newly committed block until cancel is
	// called. A slow subscriber may miss blocks (the node must not block
	// on it); the channel is closed after cancel or when the node stops.
	SubscribeBlocks() (blocks <-chan BlockView, cancel func())
}

// Errors a Backend wraps so that the server picks the right HTTP status.
var (
	ErrNotFound     = errors.New("not found")                             // 404
	ErrNotReady     = errors.New("node is not ready")                     // 503
	ErrPruned       = errors.New("pruned")                                // 410
	ErrMempoolFull  = errors.New("mempool is full")                       // 503
	ErrAlreadyKnown = errors.New("transaction is already in the mempool") // 409
	// ErrNoncePending: another pending tx of the sender has this nonce
	// (and a replacement must pay a higher fee); sign with the next one.
	ErrNoncePending = errors.New("the nonce is taken by a pending transaction") // 409
)

// Status is GET /status.
type Status struct {
	ChainID    string          `json:"chain_id"`
	Height     uint64          `json:"height"`     // last committed height
	BlockHash  ledger.HexBytes `json:"block_hash"` // hash of the block at Height
	AppHash    ledger.HexBytes `json:"app_hash"`   // app hash after applying Height
	BlockTime  time.Time       `json:"block_time"` // time of the block at Height
	Peers      int             `json:"peers"`
	NodeID     string          `json:"node_id"` // libp2p peer id
	Moniker    string          `json:"moniker"`
	CatchingUp bool            `json:"catching_up"` // block-syncing, not in consensus yet
	// Validator is this node's consensus address while it is in the
	// validator set; empty on a full node.
	Validator string `json:"validator"`
	// ConsensusAddress is the address of the node's consensus key, in the
	// validator set or not (empty without a key).
	ConsensusAddress string `json:"consensus_address,omitempty"`
	Version          string `json:"version,omitempty"`
}

// BlockView is a committed block as the API shows it.
type BlockView struct {
	Height        uint64          `json:"height"`
	Hash          ledger.HexBytes `json:"hash"`
	AppHash       ledger.HexBytes `json:"app_hash"` // app hash after applying this block
	LastBlockHash ledger.HexBytes `json:"last_block_hash"`
	Time          time.Time       `json:"time"`
	Proposer      keys.Address    `json:"proposer"`
	NumTxs        int             `json:"num_txs"`
	Txs           []TxHash        `json:"txs"` // hashes, in block order
	LastCommit    CommitSummary   `json:"last_commit"`
}

// CommitSummary is the commit of the previous block carried in a block.
type CommitSummary struct {
	Height      uint64 `json:"height"`
	Round       uint32 `json:"round"`
	Signatures  int    `json:"signatures"`   // precommits included
	Validators  int    `json:"validators"`   // size of the set that voted
	SignedPower uint64 `json:"signed_power"` // voting power behind them
	TotalPower  uint64 `json:"total_power"`
}

// TxHash is a transaction hash, shown as hex.
type TxHash = ledger.HexBytes

// TxView is a committed transaction.
type TxView struct {
	Hash   TxHash       `json:"hash"`
	Height uint64       `json:"height"`
	Index  int          `json:"index"` // position in the block
	Tx     []byte       `json:"tx"`    // canonical bytes, base64 in JSON
	Body   *TxBodyView  `json:"body,omitempty"`
	Result TxResultView `json:"result"`
}

// TxBodyView is a decoded transaction body.
type TxBodyView struct {
	ChainID string       `json:"chain_id"`
	Sender  keys.Address `json:"sender"`
	Nonce   uint64       `json:"nonce"`
	Fee     uint64       `json:"fee"`
	Memo    string       `json:"memo,omitempty"`
	Msgs    []MsgView    `json:"msgs"`
}

// MsgView is one decoded message. Value is the module's message struct as
// JSON (or, for a type this build does not know, {"raw": base64}).
type MsgView struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// TxResultView is the outcome of a committed transaction.
type TxResultView struct {
	OK     bool           `json:"ok"`
	Error  string         `json:"error,omitempty"`
	Events []ledger.Event `json:"events,omitempty"`
}

// NewTxView builds the view of the transaction raw, committed at height
// with index and result res; a Backend's Tx can return it as is.
func NewTxView(raw []byte, height uint64, index int, res ledger.TxResult) TxView {
	h := ledger.HashTx(raw)
	v := TxView{Hash: h[:], Height: height, Index: index, Tx: raw,
		Result: TxResultView{OK: res.OK, Error: res.Error, Events: res.Events}}
	if tx, err := ledger.DecodeTx(raw); err == nil {
		v.Body = NewTxBodyView(&tx.Body)
	}
	return v
}

// NewTxBodyView decodes a body's messages for display.
func NewTxBodyView(b *ledger.TxBody) *TxBodyView {
	out := &TxBodyView{ChainID: b.ChainID, Sender: b.Sender, Nonce: b.Nonce, Fee: b.Fee, Memo: b.Memo, Msgs: []MsgView{}}
	for _, m := range b.Msgs {
		out.Msgs = append(out.Msgs, MsgView{Type: m.Type, Value: decodeMsg(m)})
	}
	return out
}

// Response bodies of the ledger queries. Each carries the height it was
// read at.
type (
	AccountResponse struct {
		Height uint64 `json:"height"`
		chain.Account
	}
	ValidatorsResponse struct {
		Height     uint64                `json:"height"`
		Validators []chain.ValidatorInfo `json:"validators"`
	}
	DelegationsResponse struct {
		Height      uint64               `json:"height"`
		Delegations []staking.Delegation `json:"delegations"`
	}
	UnbondingsResponse struct {
		Height     uint64              `json:"height"`
		Unbondings []staking.Unbonding `json:"unbondings"`
	}
	ProposalsResponse struct {
		Height    uint64         `json:"height"`
		Proposals []ProposalView `json:"proposals"`
	}
	ProposalResponse struct {
		Height uint64 `json:"height"`
		ProposalDetail
	}
	GaugeResponse struct {
		Height uint64 `json:"height"`
		emission.GaugeReport
	}
	PoolsResponse struct {
		Height uint64            `json:"height"`
		Pools  map[string]uint64 `json:"pools"`
	}
	SupplyResponse struct {
		Height uint64 `json:"height"`
		chain.SupplyReport
	}
	// ParamsResponse maps a module name to its parameters.
	ParamsResponse struct {
		Height uint64                     `json:"height"`
		Params map[string]json.RawMessage `json:"params"`
	}
	// SubmitResponse is the answer to POST /txs.
	SubmitResponse struct {
		Hash TxHash `json:"hash"`
	}
	// HealthResponse is GET /healthz.
	HealthResponse struct {
		OK         bool   `json:"ok"`
		Height     uint64 `json:"height"`
		CatchingUp bool   `json:"catching_up"`
	}
)

// ProposalView is a governance proposal (gov.Proposal with its status as a
// name, so that it decodes as well as it encodes).
type ProposalView struct {
	ID           uint64          `json:"id"`
	Proposer     keys.Address    `json:"proposer"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	Content      gov.Content     `json:"content"`
	Status       string          `json:"status"`
	SubmitTime   int64           `json:"submit_time"` // unix ns
	DepositEnd   int64           `json:"deposit_end"`
	TotalDeposit uint64          `json:"total_deposit"`
	VotingStart  int64           `json:"voting_start"`
	VotingEnd    int64           `json:"voting_end"`
	FinalTally   gov.TallyResult `json:"final_tally"`
	Result       string          `json:"result,omitempty"`
}

// ProposalDetail is a proposal with its votes, deposits and running tally.
type ProposalDetail struct {
	ProposalView
	Votes    []gov.Vote       `json:"votes"`
	Deposits []gov.Deposit    `json:"deposits"`
	Tally    *gov.TallyResult `json:"current_tally,omitempty"`
}

func newProposalView(p gov.Proposal) ProposalView {
	return ProposalView{ID: p.ID, Proposer: p.Proposer, Title: p.Title, Description: p.Description, Content: p.Content,
		Status: p.Status.String(), SubmitTime: p.SubmitTime, DepositEnd: p.DepositEnd, TotalDeposit: p.TotalDeposit,
		VotingStart: p.VotingStart, VotingEnd: p.VotingEnd, FinalTally: p.FinalTally, Result: p.Result}
}
