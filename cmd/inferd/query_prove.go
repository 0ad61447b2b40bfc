package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/consensus"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/ledger/store"
	"github.com/inferd/inferd/light"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

// proveArgs are the flags of 'query ... --prove' (docs/light.md).
type proveArgs struct {
	prove       bool
	home        string // the query's --home
	genesis     string
	trustHeight uint64
	trustHash   string
	period      time.Duration
}

// proveNow is the clock --prove checks the trusting period with.
var proveNow = time.Now

// provable lists the queries that --prove verifies.
var provable = map[string]bool{"account": true, "balance": true, "validator": true, "provider": true, "contest": true}

// addProveCmds adds the --prove flags to the query command, the balance
// and validator queries (read from proofs), and makes account, provider
// and contest verify their answer when --prove is given.
func addProveCmds(q *cobra.Command, a *nodeArgs) {
	p := &proveArgs{}
	pf := q.PersistentFlags()
	pf.BoolVar(&p.prove, "prove", false, "verify the answer against a signed header instead of trusting the node (account, balance, validator, provider, contest)")
	pf.StringVar(&p.genesis, "genesis", "", "genesis file whose validator set to trust (default <home>/config/genesis.json)")
	pf.Uint64Var(&p.trustHeight, "trust-height", 0, "trust the validator set of this height (with --trust-hash) instead of the genesis")
	pf.StringVar(&p.trustHash, "trust-hash", "", "hash of the block at --trust-height, from a source you trust (hex)")
	pf.DurationVar(&p.period, "trusting-period", light.DefaultTrustingPeriod, "how long a trusted validator set stays trusted after its block's time")
	for _, c := range q.Commands() {
		name, orig := c.Name(), c.RunE
		if !provable[name] || orig == nil {
			continue
		}
		c.RunE = func(cc *cobra.Command, args []string) error {
			if p.prove {
				return runProven(cc, a, p, name, args[0])
			}
			return orig(cc, args)
		}
	}
	q.AddCommand(
		&cobra.Command{Use: "balance ADDRESS", Short: "Show an account's balance, read from a proof (verified with --prove)", Args: exactArgs("ADDRESS"),
			RunE: func(c *cobra.Command, args []string) error { return runProven(c, a, p, "balance", args[0]) }},
		&cobra.Command{Use: "validator OPERATOR", Short: "Show one validator's record, read from a proof (verified with --prove)", Args: exactArgs("OPERATOR"),
			RunE: func(c *cobra.Command, args []string) error { return runProven(c, a, p, "validator", args[0]) }},
	)
}

// provenKey is one ledger key a query reads.
type provenKey struct {
	name string
	key  []byte
}

func keysFor(a *nodeArgs, kind, arg string) ([]provenKey, error) {
	if kind == "contest" {
		id, err := strconv.ParseUint(arg, 10, 64)
		if err != nil || id == 0 {
			return nil, usagef("contest %q: want a contest id (a positive integer)", arg)
		}
		return []provenKey{{"contest", contest.RecordKey(id)}}, nil
	}
	addr, err := a.addr(kind, arg)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "account":
		return []provenKey{{"balance", bank.BalanceKey(addr)}, {"nonce", ledger.AccountKey(addr)}}, nil
	case "balance":
		return []provenKey{{"balance", bank.BalanceKey(addr)}}, nil
	case "validator":
		return []provenKey{{"validator", staking.ValidatorKey(addr)}}, nil
	case "provider":
		return []provenKey{{"provider", compute.ProviderKey(addr)}}, nil
	}
	return nil, fmt.Errorf("query %s cannot be proven", kind)
}

// ProvenResult is what 'query ... --prove -o json' prints.
type ProvenResult struct {
	Verified     bool            `json:"verified"`
	Height       uint64          `json:"height"`        // the state's height
	HeaderHeight uint64          `json:"header_height"` // the header whose app hash commits it
	AppHash      ledger.HexBytes `json:"app_hash"`
	SignedPower  int64           `json:"signed_power,omitempty"`
	TotalPower   int64           `json:"total_power,omitempty"`
	Values       map[string]any  `json:"values"`
}

func runProven(c *cobra.Command, a *nodeArgs, p *proveArgs, kind, arg string) error {
	ks, err := keysFor(a, kind, arg)
	if err != nil {
		return err
	}
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	ctx := c.Context()
	var pvs []ledger.ProvenValue
	for _, k := range ks {
		pr, err := cl.Proof(ctx, k.key, h)
		if err != nil {
			return err
		}
		if h == api.Latest {
			h = pr.Height // the rest at the same height
		}
		if pr.Height != h {
			return fmt.Errorf("refused: asked for a proof at height %d, the node answered height %d", h, pr.Height)
		}
		pvs = append(pvs, pr.ProvenValue)
	}
	res := ProvenResult{Height: h, HeaderHeight: h + 1, AppHash: pvs[0].AppHash, Values: map[string]any{}}
	if p.prove {
		p.home = a.keyHome // --home: the keyring for key names and the genesis to trust
		tr, err := p.trusted(ctx, cl)
		if err != nil {
			return err
		}
		lc := &light.Client{Provider: api.LightProvider{Ctx: ctx, Client: cl}, Trusted: tr, Options: light.Options{TrustingPeriod: p.period, Now: proveNow()}}
		lb, pow, err := lc.VerifyHeight(h + 1)
		if err != nil {
			return fmt.Errorf("refused: header %d: %w", h+1, err)
		}
		for i := range pvs {
			if err := light.VerifyProven(&pvs[i], lb); err != nil {
				return fmt.Errorf("refused: %s at height %d: %w", ks[i].name, h, err)
			}
		}
		res.Verified, res.AppHash, res.SignedPower, res.TotalPower = true, lb.Header.AppHash[:], pow.Signed, pow.Total
	}
	for i, k := range ks {
		v, err := decodeProven(k.name, &pvs[i])
		if err != nil {
			return err
		}
		res.Values[k.name] = v
	}
	return a.print(res, func(w *tabwriter.Writer) { printProven(w, kind, arg, &res) })
}

// decodeProven decodes a proven value with the module's own encoding.
func decodeProven(name string, pv *ledger.ProvenValue) (any, error) {
	switch name {
	case "balance", "nonce":
		if !pv.Exists {
			return uint64(0), nil
		}
		if len(pv.Value) != 8 {
			return nil, fmt.Errorf("refused: the %s at height %d is %d bytes, want 8", name, pv.Height, len(pv.Value))
		}
		return binary.BigEndian.Uint64(pv.Value), nil
	}
	if !pv.Exists {
		return nil, fmt.Errorf("no %s at height %d (the proof shows the key %X is absent)", name, pv.Height, []byte(pv.Key))
	}
	var v any
	var err error
	switch name {
	case "validator":
		v, err = staking.DecodeValidator(pv.Value)
	case "provider":
		v, err = compute.DecodeProvider(pv.Value)
	case "contest":
		v, err = contest.DecodeRecord(pv.Value)
	default:
		err = fmt.Errorf("no decoder")
	}
	if err != nil {
		return nil, fmt.Errorf("refused: the %s at height %d does not decode: %w", name, pv.Height, err)
	}
	return v, nil
}

func printProven(w *tabwriter.Writer, kind, arg string, r *ProvenResult) {
	if r.Verified {
		fmt.Fprintf(w, "verified (height %d, app hash %s, signed by %d of %d power)\n", r.Height, fmt.Sprintf("%x", []byte(r.AppHash)), r.SignedPower, r.TotalPower)
	} else {
		fmt.Fprintf(w, "not verified (height %d; add --prove to check it against a signed header)\n", r.Height)
	}
	switch kind {
	case "account", "balance":
		kv(w, "address", arg, "balance", formatAmount(r.Values["balance"].(uint64)))
		if n, ok := r.Values["nonce"]; ok {
			kv(w, "nonce", n)
		}
	case "validator":
		v := r.Values["validator"].(staking.Validator)
		kv(w, "operator", v.Operator, "moniker", v.Moniker, "tokens", formatAmount(v.Tokens), "commission", fmtPPM(uint64(v.Commission)),
			"jailed", v.Jailed, "tombstoned", v.Tombstoned)
	case "provider":
		v := r.Values["provider"].(compute.Provider)
		kv(w, "address", v.Address, "price", formatAmount(v.Price), "capacity", v.Capacity, "tier", v.Tier, "bond", formatAmount(v.Bond),
			"verified ops", v.VerifiedOps, "jailed", v.Jailed)
	case "contest":
		v := r.Values["contest"].(contest.Record)
		kv(w, "id", v.ID, "name", v.Spec.Name, "status", v.Status, "best", v.Best, "best builder", v.BestBuilder, "last closed round", v.LastClosed)
	}
}

// trusted is the validator set the client starts from: the block at
// --trust-height with hash --trust-hash, or the genesis.
func (p *proveArgs) trusted(ctx context.Context, cl *api.Client) (light.TrustedState, error) {
	if p.trustHeight != 0 || p.trustHash != "" {
		want, err := hex.DecodeString(strings.TrimPrefix(p.trustHash, "0x"))
		if p.trustHeight == 0 || err != nil || len(want) != 32 {
			return light.TrustedState{}, usagef("--trust-height H and --trust-hash HASH go together: a height of at least 1 and a 64-hex-digit block hash")
		}
		r, err := cl.Commit(ctx, p.trustHeight)
		if err != nil {
			return light.TrustedState{}, err
		}
		lb, err := r.LightBlock()
		if err != nil {
			return light.TrustedState{}, fmt.Errorf("refused: trusted header %d: %w", p.trustHeight, err)
		}
		if id := lb.Header.Hash(); !strings.EqualFold(hex.EncodeToString(id[:]), hex.EncodeToString(want)) {
			return light.TrustedState{}, fmt.Errorf("refused: the node's block %d has hash %X, not the trusted %X", p.trustHeight, id[:], want)
		}
		if _, err := light.VerifyCommit(&lb.Header, &lb.Commit, lb.Validators); err != nil {
			return light.TrustedState{}, fmt.Errorf("refused: trusted header %d: %w", p.trustHeight, err)
		}
		return light.TrustedState{ChainID: lb.Header.ChainID, Height: lb.Header.Height, Time: time.Unix(0, lb.Header.Time), Validators: lb.Validators}, nil
	}
	path := p.genesis
	if path == "" {
		home, err := keysHome(p.home)
		if err != nil {
			return light.TrustedState{}, err
		}
		path = filepath.Join(home, node.GenesisFile)
	}
	g, err := ledger.LoadGenesis(path)
	if err != nil {
		return light.TrustedState{}, fmt.Errorf("%s: %w (pass --genesis FILE, --home DIR, or --trust-height and --trust-hash)", path, err)
	}
	vals, err := genesisValidators(g)
	if err != nil {
		return light.TrustedState{}, fmt.Errorf("%s: %w", path, err)
	}
	return light.TrustedState{ChainID: g.ChainID, Height: 0, Time: g.GenesisTime, Validators: vals}, nil
}

// genesisValidators runs the genesis on an in-memory ledger and returns
// the consensus set it yields: the set of heights 1 and 2, exactly as a
// node derives it.
func genesisValidators(g *ledger.Genesis) (*consensus.ValidatorSet, error) {
	c, err := chain.New(store.NewMem(), chain.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := c.InitGenesis(g); err != nil {
		return nil, err
	}
	set, err := c.ConsensusSet(0)
	if err != nil {
		return nil, err
	}
	var vs []consensus.Validator
	for _, v := range set {
		vs = append(vs, consensus.Validator{Address: keys.AddressOf(v.ConsPubKey), PubKey: keys.PubKey(v.ConsPubKey), Power: int64(v.Power)})
	}
	if len(vs) == 0 {
		return nil, errors.New("the genesis has no bonded validator")
	}
	return consensus.NewValidatorSet(vs)
}
