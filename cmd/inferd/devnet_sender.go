package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/node/api"
)

// keySender signs transactions with one key and submits them through a
// node's API, waiting for each to be committed. The devnet's demo uses it
// to play the designer, the voters and the builder.
type keySender struct {
	cl      *api.Client
	chainID string
	priv    keys.PrivKey
	addr    keys.Address
	next    uint64 // the nonce after our last accepted tx
}

func newKeySender(ctx context.Context, cl *api.Client, priv keys.PrivKey) (*keySender, error) {
	st, err := cl.Status(ctx)
	if err != nil {
		return nil, err
	}
	return &keySender{cl: cl, chainID: st.ChainID, priv: priv, addr: keys.AddressOf(priv.Public().(keys.PubKey))}, nil
}

// send submits msgs as one transaction and waits up to a minute for it to
// be committed; a transaction that fails in its block is an error.
func (s *keySender) send(ctx context.Context, msgs ...ledger.Msg) (api.TxView, error) {
	acc, err := s.cl.Account(ctx, s.addr, api.Latest)
	if err != nil {
		return api.TxView{}, err
	}
	fee, err := minFee(ctx, s.cl)
	if err != nil {
		return api.TxView{}, err
	}
	// The node's agents sign with the same operator keys: a nonce taken
	// by one of their pending transactions moves us to the next.
	nonce := max(acc.Nonce, s.next)
	var hash [32]byte
	for tries := 0; ; tries++ {
		_, raw := ledger.SignTx(s.chainID, s.priv, nonce, fee, "devnet demo", msgs...)
		hash, err = s.cl.SubmitTx(ctx, raw)
		if err == nil {
			s.next = nonce + 1
			break
		}
		if tries == 8 || !strings.Contains(err.Error(), "nonce") {
			return api.TxView{}, fmt.Errorf("the node refused %s: %w", msgs[0].Type, err)
		}
		nonce++
	}
	// The same wait as every 'inferd tx' command.
	w := txArgs{waitTimeout: time.Minute, poll: 300 * time.Millisecond}
	t, err := w.wait(ctx, s.cl, hash)
	if err != nil {
		return t, err
	}
	if !t.Result.OK {
		return t, fmt.Errorf("%s failed in block %d: %s", msgs[0].Type, t.Height, t.Result.Error)
	}
	return t, nil
}
