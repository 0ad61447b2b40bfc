package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/codec"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/api"
)

// Kinds of transaction file.
const (
	txFileUnsigned = "inferd/unsigned-tx"
	txFileSigned   = "inferd/signed-tx"
)

// txFile is what --generate-only, --dry-run and 'tx sign' print and what
// 'tx sign' and 'tx broadcast' read: Data is the canonical CBOR of the
// TxBody (unsigned) or of the whole Tx (signed); Body is the same body
// decoded, for a person to read before signing. Only Data is trusted.
type txFile struct {
	Kind string          `json:"kind"`
	Hash ledger.HexBytes `json:"hash,omitempty"` // signed: the tx hash
	Body *api.TxBodyView `json:"body"`
	Data ledger.HexBytes `json:"data"`
}

func newUnsignedFile(b ledger.TxBody) txFile {
	return txFile{Kind: txFileUnsigned, Body: api.NewTxBodyView(&b), Data: codec.MustMarshal(b)}
}

func newSignedFile(tx *ledger.Tx, raw []byte) txFile {
	h := ledger.HashTx(raw)
	return txFile{Kind: txFileSigned, Hash: h[:], Body: api.NewTxBodyView(&tx.Body), Data: raw}
}

// printTxFile prints a transaction file: JSON whatever -o says, so that
// the output can be redirected to a file.
func (a *txArgs) printTxFile(f txFile) error { return printJSON(f) }

func readTxFile(path, want string) (txFile, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, 4*ledger.MaxTxBytes))
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return txFile{}, usagef("%v", err)
	}
	var f txFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return f, usagef("%s: not a transaction file (%v); make one with --generate-only or --dry-run", path, err)
	}
	if f.Kind != want {
		hint := "sign it first: inferd tx sign FILE --from KEY"
		if want == txFileUnsigned {
			hint = "it is signed already: inferd tx broadcast FILE"
		}
		if f.Kind != txFileSigned && f.Kind != txFileUnsigned {
			hint = "make one with --generate-only or --dry-run"
		}
		return f, usagef("%s is %q, want %q; %s", path, f.Kind, want, hint)
	}
	return f, nil
}

// keyInfo reads a key's address and public key without unlocking it.
func keyInfo(home, backend, name string) (keystore.Info, error) {
	a := &keysArgs{home: home, backend: backend, output: "text"}
	kr, err := a.open(name)
	if err != nil {
		return keystore.Info{}, err
	}
	info, err := kr.Get(name)
	if err != nil {
		return info, a.explain(err, name)
	}
	return info, nil
}

func newTxSignCmd(a *txArgs) *cobra.Command {
	return &cobra.Command{
		Use:   "sign FILE --from KEY",
		Short: "Sign an unsigned tx file (from --generate-only) offline; prints the signed file",
		Long: `Sign FILE (or - for stdin), an unsigned transaction from --generate-only, with
the key --from, without talking to any node. The key must be the tx's sender.
The output is a signed transaction file for 'inferd tx broadcast'.`,
		Args: exactArgs("FILE"),
		RunE: func(_ *cobra.Command, args []string) error {
			if a.from == "" {
				return usagef("--from KEY is required: the key of the tx's sender")
			}
			f, err := readTxFile(args[0], txFileUnsigned)
			if err != nil {
				return err
			}
			var body ledger.TxBody
			if err := codec.Unmarshal(f.Data, &body); err != nil {
				return fmt.Errorf("%s: data is not a transaction body: %v", args[0], err)
			}
			if a.chainID != "" && a.chainID != body.ChainID {
				return usagef("--chain-id %q, but the tx is for chain %q", a.chainID, body.ChainID)
			}
			priv, addr, err := loadSigner(a.home, a.backend, a.from)
			if err != nil {
				return err
			}
			if addr != body.Sender {
				return usagef("key %q is %s, but the tx's sender is %s: sign with the sender's key", a.from, addr, body.Sender)
			}
			tx := &ledger.Tx{Body: body, Signature: keys.Sign(priv, body.ChainID, keys.DomainTx, codec.MustMarshal(body))}
			raw := codec.MustMarshal(tx)
			if _, err := ledger.DecodeTx(raw); err != nil {
				return fmt.Errorf("%s: %v", args[0], err)
			}
			return a.printTxFile(newSignedFile(tx, raw))
		},
	}
}

func newTxBroadcastCmd(a *txArgs) *cobra.Command {
	return &cobra.Command{
		Use:   "broadcast FILE",
		Short: "Broadcast a signed tx file (from 'tx sign' or --dry-run) and wait for its block",
		Args:  exactArgs("FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			if a.waitTimeout <= 0 {
				return usagef("--wait-timeout must be positive")
			}
			f, err := readTxFile(args[0], txFileSigned)
			if err != nil {
				return err
			}
			tx, err := ledger.DecodeTx(f.Data)
			if err != nil {
				return fmt.Errorf("%s: %v", args[0], err)
			}
			if err := ledger.VerifyTx(tx.Body.ChainID, tx); err != nil {
				return fmt.Errorf("%s: %v", args[0], err)
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			hash, err := cl.SubmitTx(c.Context(), f.Data)
			if err != nil {
				return refusedError{fmt.Errorf("the node refused the transaction: %w", err)}
			}
			return a.await(c.Context(), cl, hash)
		},
	}
}
