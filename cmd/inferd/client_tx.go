package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node/api"
)

const fallbackFee = 100 // uinf

// txArgs are the flags shared by every 'tx' command.
type txArgs struct {
	nodeArgs
	from, home, backend, fee, chainID, nonce, memo string
	async, dryRun, generateOnly                    bool
	waitTimeout                                    time.Duration
	poll                                           time.Duration // how often to look for inclusion
	// spend is what the messages take from the sender's balance beside
	// the fee (a send's amount, a delegation, a deposit, a bond), set by
	// the command: send refuses a tx the balance cannot pay.
	spend uint64
	// submitted is set once the node accepted the tx: from then on an
	// error (a timeout waiting for the block) may hide a committed tx.
	submitted bool
}

func addTxFlags(c *cobra.Command, a *txArgs) {
	addNodeFlags(c, &a.nodeArgs, false)
	pf := c.PersistentFlags()
	pf.StringVar(&a.from, "from", "", "name of the keyring key that signs and pays (required)")
	pf.StringVar(&a.home, "home", "", "home directory with the keyring (default $"+envHome+", else $HOME/.inferd)")
	pf.StringVar(&a.backend, "keyring-backend", string(keystore.BackendFile), "keyring backend: file or test")
	pf.StringVar(&a.fee, "fee", "", "fee, e.g. 100uinf (default: the chain's bank.min_fee)")
	pf.StringVar(&a.chainID, "chain-id", "", "chain id to sign for (default: the node's)")
	pf.StringVar(&a.nonce, "nonce", "", "account nonce (default: the account's next nonce, from the node)")
	pf.StringVar(&a.memo, "memo", "", "memo, at most 256 bytes")
	pf.BoolVar(&a.async, "async", false, "print the hash as soon as the node accepts the tx, without waiting for a block")
	pf.DurationVar(&a.waitTimeout, "wait-timeout", 30*time.Second, "how long to wait for the tx to be committed")
	pf.BoolVar(&a.dryRun, "dry-run", false, "check and sign the tx, print it (a file for 'inferd tx broadcast'), do not broadcast")
	pf.BoolVar(&a.generateOnly, "generate-only", false, "print the unsigned tx (a file for 'inferd tx sign'); needs no passphrase")
	a.poll = 200 * time.Millisecond
}

// broadcastResult is what a tx command prints as JSON.
type broadcastResult struct {
	Hash   api.TxHash        `json:"hash"`
	Height uint64            `json:"height,omitempty"`
	Result *api.TxResultView `json:"result,omitempty"`
	Tx     *api.TxView       `json:"tx,omitempty"`
}

// send signs msgs with --from, submits them and (unless --async) waits
// for inclusion. A transaction that fails in its block is an error carrying
// the ledger's message. What the ledger would refuse for certain (a balance
// short of the fee and a.spend) is refused here, before anything is sent.
// --generate-only prints the unsigned tx, --dry-run the signed one.
func (a *txArgs) send(ctx context.Context, msgs ...ledger.Msg) error {
	if err := a.checkFlags(); err != nil {
		return err
	}
	var fee, nonce uint64
	var err error
	if a.fee != "" {
		if fee, err = parseAmount(a.fee); err != nil {
			return usagef("--fee: %v", err)
		}
	}
	if a.nonce != "" {
		if nonce, err = strconv.ParseUint(a.nonce, 10, 64); err != nil {
			return usagef("--nonce %q: want a non-negative integer", a.nonce)
		}
	}
	var priv keys.PrivKey
	var pub keys.PubKey
	var addr keys.Address
	if a.generateOnly {
		info, err := keyInfo(a.home, a.backend, a.from)
		if err != nil {
			return err
		}
		pub, addr = info.PubKey, info.Address
	} else {
		if priv, addr, err = loadSigner(a.home, a.backend, a.from); err != nil {
			return err
		}
		pub = priv.Public().(keys.PubKey)
	}
	// Offline: --generate-only with everything the node would say given.
	offline := a.generateOnly && a.chainID != "" && a.nonce != "" && a.fee != ""
	var cl *api.Client
	chainID := a.chainID
	if !offline {
		if cl, err = a.client(); err != nil {
			return err
		}
		if chainID == "" {
			st, err := cl.Status(ctx)
			if err != nil {
				return err
			}
			chainID = st.ChainID
		}
		acc, err := cl.Account(ctx, addr, api.Latest)
		if err != nil {
			return err
		}
		if a.nonce == "" {
			nonce = acc.Nonce
		}
		if a.fee == "" {
			if fee, err = minFee(ctx, cl); err != nil {
				return err
			}
		}
		if need := fee + a.spend; need < fee || acc.Balance < need {
			return fmt.Errorf("the balance of %s (%s) is %s; this transaction needs %s (%s fee); nothing was sent", a.from, addr, formatAmount(acc.Balance),
				formatAmount(fee+a.spend), formatAmount(fee))
		}
	}
	body := ledger.TxBody{ChainID: chainID, Sender: addr, PubKey: pub, Nonce: nonce, Fee: fee, Memo: a.memo, Msgs: msgs}
	if a.generateOnly {
		return a.printTxFile(newUnsignedFile(body))
	}
	if a.dryRun {
		tx, raw := ledger.SignTx(chainID, priv, nonce, fee, a.memo, msgs...)
		return a.printTxFile(newSignedFile(tx, raw))
	}
	hash, err := a.submit(ctx, cl, chainID, priv, nonce, fee, msgs)
	if err != nil {
		return err
	}
	a.submitted = true
	return a.await(ctx, cl, hash)
}

// checkFlags checks the flags every tx shares.
func (a *txArgs) checkFlags() error {
	if a.from == "" {
		return usagef("--from KEY is required: the key that signs and pays the fee")
	}
	if len(a.memo) > ledger.MaxMemoBytes {
		return usagef("--memo is %d bytes, at most %d", len(a.memo), ledger.MaxMemoBytes)
	}
	if a.waitTimeout <= 0 {
		return usagef("--wait-timeout must be positive")
	}
	if a.dryRun && a.generateOnly {
		return usagef("--dry-run signs and --generate-only does not: choose one")
	}
	if (a.dryRun || a.generateOnly) && a.async {
		return usagef("--async broadcasts; --dry-run and --generate-only do not: choose one")
	}
	return nil
}

// await prints the accepted tx's hash (--async) or waits for its block and
// prints the result.
func (a *txArgs) await(ctx context.Context, cl *api.Client, hash [32]byte) error {
	if a.async {
		return a.print(broadcastResult{Hash: hash[:]}, func(w *tabwriter.Writer) {
			kv(w, "txhash", hexText(hash[:]), "status", "accepted; not committed yet (see 'inferd query tx HASH')")
		})
	}
	t, err := a.wait(ctx, cl, hash)
	if err != nil {
		return err
	}
	perr := a.print(broadcastResult{Hash: hash[:], Height: t.Height, Result: &t.Result, Tx: &t}, func(w *tabwriter.Writer) {
		printTxTable(w, t)
	})
	if !t.Result.OK {
		return txFailedError{fmt.Errorf("transaction %x failed in block %d: %s", hash[:], t.Height, t.Result.Error)}
	}
	return perr
}

// txFailedError: the tx was committed and failed (its fee is paid).
type txFailedError struct{ error }

func (e txFailedError) Unwrap() error { return e.error }

// refusedError: the node refused the tx; nothing was paid.
type refusedError struct{ error }

func (e refusedError) Unwrap() error { return e.error }

// maxNonceProbes bounds how many pending txs of the account submit steps over.
const maxNonceProbes = 64

// submit signs and submits with nonce. Without --nonce, a nonce taken by a
// pending transaction of the same account (the node's own agent signing
// with this key, another terminal) moves to the next one, as the agents
// do (node/agents.go): the account's nonce from the API counts committed
// transactions only.
func (a *txArgs) submit(ctx context.Context, cl *api.Client, chainID string, priv keys.PrivKey, nonce, fee uint64, msgs []ledger.Msg) ([32]byte, error) {
	for tries := 0; ; tries++ {
		_, raw := ledger.SignTx(chainID, priv, nonce, fee, a.memo, msgs...)
		hash, err := cl.SubmitTx(ctx, raw)
		if err == nil {
			return hash, nil
		}
		if a.nonce == "" && noncePending(err) && tries < maxNonceProbes {
			nonce++
			continue
		}
		if noncePending(err) && a.nonce != "" {
			return hash, refusedError{fmt.Errorf("the node refused the transaction: %w (drop --nonce to take the next free one, or raise --fee to replace the pending tx)", err)}
		}
		return hash, refusedError{fmt.Errorf("the node refused the transaction: %w", err)}
	}
}

// noncePending says whether err is the node's "nonce taken by a pending
// tx" (older nodes answer it as a plain rejection with the mempool's words).
func noncePending(err error) bool {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Err == "nonce_pending" || strings.Contains(ae.Message, "a replacement must pay a higher fee")
}

// minFee reads bank.min_fee from /params, falling back to 100 uinf for a
// node without that endpoint.
func minFee(ctx context.Context, cl *api.Client) (uint64, error) {
	p, err := cl.Params(ctx, api.Latest)
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == http.StatusNotFound {
		return fallbackFee, nil
	}
	if err != nil {
		return 0, err
	}
	var bp bank.Params
	if raw, ok := p.Params[bank.Name]; !ok || json.Unmarshal(raw, &bp) != nil {
		return fallbackFee, nil
	}
	return bp.MinFee, nil
}

// wait polls for the transaction until it is committed or --wait-timeout.
func (a *txArgs) wait(ctx context.Context, cl *api.Client, hash [32]byte) (api.TxView, error) {
	ctx, cancel := context.WithTimeout(ctx, a.waitTimeout)
	defer cancel()
	tick := time.NewTicker(a.poll)
	defer tick.Stop()
	for {
		t, err := cl.Tx(ctx, hash)
		var ae *api.Error
		switch {
		case err == nil:
			return t, nil
		case errors.As(err, &ae) && ae.Err == "tx_dropped":
			return t, err // the node says why; waiting longer cannot help
		case errors.As(err, &ae) && ae.Code == http.StatusNotFound:
		case ctx.Err() != nil:
		default:
			return t, err
		}
		select {
		case <-ctx.Done():
			return t, fmt.Errorf("transaction %x was accepted but not committed within %s; check later with 'inferd query tx %x'", hash[:], a.waitTimeout, hash[:])
		case <-tick.C:
		}
	}
}
