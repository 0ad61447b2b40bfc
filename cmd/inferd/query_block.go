package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inferd/inferd/node/api"
)

// maxBlockTxLines bounds how many transactions a block's table looks up
// and lists (each is one more request to the node).
const maxBlockTxLines = 100

// blockTable renders a block for a person: the proposer by its moniker and
// operator address, and each transaction with its message types and
// sender. The lookups fail soft: a table still prints what it has.
func blockTable(ctx context.Context, cl *api.Client, b api.BlockView) func(w *tabwriter.Writer) {
	proposer := b.Proposer.String() + " (consensus address)"
	if vals, err := cl.Validators(ctx, b.Height); err == nil {
		for _, v := range vals.Validators {
			if v.ConsAddress == b.Proposer {
				proposer = fmt.Sprintf("%s, operator %s", v.Moniker, v.Operator)
			}
		}
	}
	var lines []string
	for i, h := range b.Txs {
		if i == maxBlockTxLines {
			lines = append(lines, fmt.Sprintf("... %d more (inferd query tx HASH; -o json lists every hash)", len(b.Txs)-i))
			break
		}
		line := hexText(h)
		if t, err := cl.Tx(ctx, [32]byte(h)); err == nil && t.Body != nil {
			var types []string
			for _, m := range t.Body.Msgs {
				types = append(types, m.Type)
			}
			result := "ok"
			if !t.Result.OK {
				result = "failed"
			}
			line += fmt.Sprintf("\t%s\tfrom %s\t%s", strings.Join(types, ","), t.Body.Sender, result)
		}
		lines = append(lines, line)
	}
	return func(w *tabwriter.Writer) {
		kv(w, "height", b.Height, "hash", hexText(b.Hash), "app hash", hexText(b.AppHash), "last block", hexText(b.LastBlockHash),
			"time", b.Time.UTC().Format(time.RFC3339Nano), "proposer", proposer,
			"last commit", fmt.Sprintf("%d signatures of %d validators (power %d/%d)", b.LastCommit.Signatures, b.LastCommit.Validators, b.LastCommit.SignedPower, b.LastCommit.TotalPower),
			"txs", b.NumTxs)
		for _, l := range lines {
			fmt.Fprintf(w, "\t%s\n", l)
		}
	}
}
