package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/emission"
)

// Bounds of the explorer's read-only endpoints, so that one request costs
// a known amount of work whatever its parameters.
const (
	// MaxHistoryPoints caps the samples of GET /history/{supply,gauge}.
	MaxHistoryPoints = 200
	// DefaultHistoryPoints is the sample count when ?points= is absent.
	DefaultHistoryPoints = 60
	// MaxBlocksListed caps GET /blocks?limit=.
	MaxBlocksListed = 100
	// MaxTxsListed caps GET /accounts/{addr}/txs?limit=.
	MaxTxsListed = 100
	// MaxBlocksScanned is how far back one GET /accounts/{addr}/txs looks
	// (there is no index by address; the answer says where to go on).
	MaxBlocksScanned = 2000
	// MaxAccountsListed caps GET /accounts?limit=.
	MaxAccountsListed = 200
	// MaxAccountsScanned bounds the balances GET /accounts reads; past it
	// the answer says "truncated" (a list over a prefix of the addresses).
	MaxAccountsScanned = 100_000
)

func (s *server) handleHistory() {
	s.handle("GET", "/history/supply", s.historySupply)
	s.handle("GET", "/history/gauge", s.historyGauge)
	s.handle("GET", "/blocks", s.blockList)
	s.handle("GET", "/accounts/{addr}/txs", s.accountTxs)
	s.handle("GET", "/validators/uptime", s.uptime)
	s.handle("GET", "/emission", s.emissionReport)
	s.handle("GET", "/accounts", s.accounts)
	s.handle("GET", "/contests/{id}/rounds/{round}", s.contestRound)
}

// AccountBalance is one line of GET /accounts.
type AccountBalance struct {
	Address keys.Address `json:"address"`
	Balance uint64       `json:"balance"`
}

// AccountsResponse is GET /accounts?limit=N: the largest balances first
// (ties by address), out of Accounts accounts with a balance entry.
// Truncated: more than MaxAccountsScanned exist and only that many (in
// address order) were read.
type AccountsResponse struct {
	Height    uint64           `json:"height"`
	Accounts  uint64           `json:"accounts"`
	Truncated bool             `json:"truncated,omitempty"`
	Top       []AccountBalance `json:"top"`
}

func (s *server) accounts(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	limit, err := optLimit(r, 50, MaxAccountsListed)
	if err != nil {
		return err
	}
	out := AccountsResponse{Height: h, Top: []AccountBalance{}}
	var all []AccountBalance
	err = c.Query(h, func(ctx *ledger.Context) error {
		c.Bank.EachBalance(ctx, func(a keys.Address, amt uint64) bool {
			if len(all) == MaxAccountsScanned {
				out.Truncated = true
				return false
			}
			all = append(all, AccountBalance{Address: a, Balance: amt})
			return true
		})
		return nil
	})
	if err != nil {
		return err
	}
	out.Accounts = uint64(len(all))
	sort.SliceStable(all, func(i, j int) bool { return all[i].Balance > all[j].Balance }) // address order breaks ties
	out.Top = append(out.Top, all[:min(limit, len(all))]...)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// SupplyPoint is one sample of GET /history/supply.
type SupplyPoint struct {
	Height uint64    `json:"height"`
	Time   time.Time `json:"time"`
	ledger.Supply
}

// GaugePoint is one sample of GET /history/gauge: the modules' gauge
// weights and shares of the emission at Height.
type GaugePoint struct {
	Height      uint64                  `json:"height"`
	Time        time.Time               `json:"time"`
	TotalWeight uint64                  `json:"total_weight"`
	Modules     []emission.ModuleWeight `json:"modules"`
}

// HistoryResponse is GET /history/supply and GET /history/gauge: samples
// at evenly spaced heights from From to To, both included.
type HistoryResponse[P any] struct {
	From   uint64 `json:"from"`
	To     uint64 `json:"to"`
	Points []P    `json:"points"`
}

// sampleHeights resolves ?from=&to=&points= into at most MaxHistoryPoints
// distinct heights, from and to included.
func (s *server) sampleHeights(r *http.Request) (*chain.Chain, []uint64, error) {
	c := s.b.Chain()
	if c == nil {
		return nil, nil, errorf(http.StatusServiceUnavailable, "not_ready", "the node is starting and its ledger is not open yet; try again shortly")
	}
	latest := s.b.LatestHeight()
	q := r.URL.Query()
	from, to := uint64(1), latest
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = parseHeight("?from", v); err != nil {
			return nil, nil, err
		}
	}
	if v := q.Get("to"); v != "" && v != "latest" {
		if to, err = parseHeight("?to", v); err != nil {
			return nil, nil, err
		}
	}
	if to > latest {
		return nil, nil, errorf(http.StatusNotFound, "height_not_found", "height %d is not committed yet; the latest is %d", to, latest)
	}
	if from > to {
		from = to // a chain younger than the default start
		if q.Get("from") != "" {
			return nil, nil, errorf(http.StatusBadRequest, "bad_height", "?from=%s is after ?to=%d", q.Get("from"), to)
		}
	}
	points := DefaultHistoryPoints
	if v := q.Get("points"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxHistoryPoints {
			return nil, nil, errorf(http.StatusBadRequest, "bad_points", "?points=%q: want 1 to %d", v, MaxHistoryPoints)
		}
		points = n
	}
	return c, spread(from, to, points), nil
}

// spread returns n heights evenly spaced from from to to (fewer when the
// range is shorter), ascending, both ends included.
func spread(from, to uint64, n int) []uint64 {
	span := to - from
	if uint64(n) > span+1 {
		n = int(span + 1)
	}
	if n == 1 {
		return []uint64{to}
	}
	out := make([]uint64, 0, n)
	for i := 0; i < n; i++ {
		// from + span*i/(n-1) without overflow for any uint64 span.
		q, rem := span/uint64(n-1), span%uint64(n-1)
		h := from + q*uint64(i) + rem*uint64(i)/uint64(n-1)
		if len(out) == 0 || out[len(out)-1] != h {
			out = append(out, h)
		}
	}
	return out
}

// blockTime is the time of block h, zero for the genesis (no block).
func (s *server) blockTime(h uint64) time.Time {
	if h == 0 {
		return time.Time{}
	}
	b, err := s.b.Block(h)
	if err != nil {
		return time.Time{}
	}
	return b.Time
}

func (s *server) historySupply(w http.ResponseWriter, r *http.Request) error {
	c, hs, err := s.sampleHeights(r)
	if err != nil {
		return err
	}
	out := HistoryResponse[SupplyPoint]{From: hs[0], To: hs[len(hs)-1], Points: []SupplyPoint{}}
	for _, h := range hs {
		var sup ledger.Supply
		if err := c.Query(h, func(ctx *ledger.Context) error { sup = c.Bank.Supply(ctx); return nil }); err != nil {
			return err
		}
		out.Points = append(out.Points, SupplyPoint{Height: h, Time: s.blockTime(h), Supply: sup})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *server) historyGauge(w http.ResponseWriter, r *http.Request) error {
	c, hs, err := s.sampleHeights(r)
	if err != nil {
		return err
	}
	out := HistoryResponse[GaugePoint]{From: hs[0], To: hs[len(hs)-1], Points: []GaugePoint{}}
	for _, h := range hs {
		g, err := c.Gauge(h)
		if err != nil {
			return err
		}
		out.Points = append(out.Points, GaugePoint{Height: h, Time: s.blockTime(h), TotalWeight: g.TotalWeight, Modules: nonNil(g.Modules)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// BlocksResponse is GET /blocks?to=H&limit=N: blocks from H down, newest first.
type BlocksResponse struct {
	Blocks []BlockView `json:"blocks"`
}

func (s *server) blockList(w http.ResponseWriter, r *http.Request) error {
	latest := s.b.LatestHeight()
	to, err := optHeight(r, "to", latest)
	if err != nil {
		return err
	}
	if to > latest {
		to = latest
	}
	limit, err := optLimit(r, 20, MaxBlocksListed)
	if err != nil {
		return err
	}
	out := BlocksResponse{Blocks: []BlockView{}}
	for h := to; h >= 1 && len(out.Blocks) < limit; h-- {
		b, err := s.b.Block(h)
		if errors.Is(err, ErrNotFound) {
			break // pruned below here
		}
		if err != nil {
			return err
		}
		if b.Txs == nil {
			b.Txs = []TxHash{}
		}
		out.Blocks = append(out.Blocks, b)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// TxSummary is one line of GET /accounts/{addr}/txs.
type TxSummary struct {
	Hash   TxHash       `json:"hash"`
	Height uint64       `json:"height"`
	Index  int          `json:"index"`
	Time   time.Time    `json:"time"`
	Sender keys.Address `json:"sender"`
	Types  []string     `json:"types"` // message types, in order
	Fee    uint64       `json:"fee"`
	OK     bool         `json:"ok"`
}

// AccountTxsResponse is GET /accounts/{addr}/txs?before=H&limit=N: the
// committed transactions that mention the address (as sender, in a
// message or in an event), newest first, found in blocks ScannedTo down to
// ScannedFrom. NextBefore > 0: older blocks remain; ask again with
// ?before=NextBefore.
type AccountTxsResponse struct {
	Address     keys.Address `json:"address"`
	Txs         []TxSummary  `json:"txs"`
	ScannedFrom uint64       `json:"scanned_from"`
	ScannedTo   uint64       `json:"scanned_to"`
	NextBefore  uint64       `json:"next_before"`
}

func (s *server) accountTxs(w http.ResponseWriter, r *http.Request) error {
	a, err := pathAddress(r)
	if err != nil {
		return err
	}
	latest := s.b.LatestHeight()
	before, err := optHeight(r, "before", latest+1)
	if err != nil {
		return err
	}
	if before > latest+1 {
		before = latest + 1
	}
	limit, err := optLimit(r, 25, MaxTxsListed)
	if err != nil {
		return err
	}
	out := AccountTxsResponse{Address: a, Txs: []TxSummary{}}
	if before > 1 {
		out.ScannedTo = before - 1
	}
	want := a.String()
	h := uint64(0)
	if before > 0 {
		h = before - 1
	}
	for ; h >= 1 && before-h <= MaxBlocksScanned && len(out.Txs) < limit; h-- {
		b, err := s.b.Block(h)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		out.ScannedFrom = h
		for i := len(b.Txs) - 1; i >= 0; i-- {
			var hash [32]byte
			copy(hash[:], b.Txs[i])
			v, err := s.b.Tx(hash)
			if err != nil {
				continue // not committed by the ledger yet
			}
			if sum, ok := mentions(v, want); ok {
				sum.Time = b.Time
				out.Txs = append(out.Txs, sum)
			}
		}
	}
	if h >= 1 {
		out.NextBefore = h + 1
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// mentions reports whether the transaction names addr anywhere a reader
// would look: its sender, a message field, an event attribute.
func mentions(v TxView, addr string) (TxSummary, bool) {
	sum := TxSummary{Hash: v.Hash, Height: v.Height, Index: v.Index, OK: v.Result.OK, Types: []string{}}
	found := false
	if v.Body != nil {
		sum.Sender, sum.Fee = v.Body.Sender, v.Body.Fee
		found = v.Body.Sender.String() == addr
		for _, m := range v.Body.Msgs {
			sum.Types = append(sum.Types, m.Type)
			if !found {
				js, _ := json.Marshal(m.Value)
				found = strings.Contains(string(js), addr)
			}
		}
	}
	for _, e := range v.Result.Events {
		for _, val := range e.Attrs {
			found = found || val == addr
		}
	}
	return sum, found
}

// UptimeView is one validator's signing record over the sliding window.
type UptimeView struct {
	Operator    keys.Address `json:"operator"`
	ConsAddress keys.Address `json:"cons_address"`
	StartHeight uint64       `json:"start_height"`
	Counted     uint64       `json:"counted"` // blocks in the window so far (at most window)
	Missed      uint64       `json:"missed"`
	SignedPPM   ledger.PPM   `json:"signed_ppm"` // (counted - missed) / counted; 10^6 before any block
}

// UptimeResponse is GET /validators/uptime.
type UptimeResponse struct {
	Height     uint64       `json:"height"`
	Window     uint64       `json:"window"` // staking.signed_blocks_window
	Validators []UptimeView `json:"validators"`
}

func (s *server) uptime(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	vs, err := c.Validators(h)
	if err != nil {
		return err
	}
	out := UptimeResponse{Height: h, Validators: []UptimeView{}}
	err = c.Query(h, func(ctx *ledger.Context) error {
		out.Window = c.Staking.Params(ctx).SignedBlocksWindow
		for _, v := range vs {
			u := UptimeView{Operator: v.Operator, ConsAddress: v.ConsAddress, SignedPPM: ledger.PPMOne}
			if si, ok := c.Staking.SigningInfo(ctx, v.ConsAddress); ok {
				u.StartHeight, u.Missed, u.Counted = si.StartHeight, si.Missed, min(si.Index, out.Window)
				if u.Counted > 0 && u.Missed <= u.Counted {
					u.SignedPPM = ledger.PPM((u.Counted - u.Missed) * uint64(ledger.PPMOne) / u.Counted)
				}
			}
			out.Validators = append(out.Validators, u)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// EmissionResponse is GET /emission: the last epoch's payout (to
// validators and to module pools), absent before the first epoch.
type EmissionResponse struct {
	Height    uint64                `json:"height"`
	LastEpoch *emission.EpochReport `json:"last_epoch,omitempty"`
}

func (s *server) emissionReport(w http.ResponseWriter, r *http.Request) error {
	c, h, err := s.at(r)
	if err != nil {
		return err
	}
	out := EmissionResponse{Height: h}
	err = c.Query(h, func(ctx *ledger.Context) error {
		if rep, ok := c.Emission.LastEpoch(ctx); ok {
			rep.Validators, rep.Pools = nonNil(rep.Validators), nonNil(rep.Pools)
			out.LastEpoch = &rep
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// optHeight reads an optional height parameter.
func optHeight(r *http.Request, name string, def uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" || v == "latest" {
		return def, nil
	}
	return parseHeight("?"+name, v)
}

// optLimit reads ?limit= (1 to max).
func optLimit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, errorf(http.StatusBadRequest, "bad_limit", "?limit=%q: want 1 to %d", v, max)
	}
	return n, nil
}
