package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/node/api"
)

func init() { register(newQueryCmd) }

func newQueryCmd() *cobra.Command {
	a := &nodeArgs{}
	c := &cobra.Command{
		Use:     "query",
		Aliases: []string{"q"},
		Short:   "Query blocks, transactions and the ledger through a node's API",
		Long: `Query a node's API. Ledger queries read the state at --height (default: the
latest committed height). Output is a table on a terminal and JSON otherwise;
-o chooses.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for 'inferd query' (see 'inferd query --help')", args[0])
			}
			return c.Help()
		},
	}
	addNodeFlags(c, a, true)
	q := func(use, short string, args cobra.PositionalArgs, run func(c *cobra.Command, a *nodeArgs, args []string) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: args,
			RunE: func(c *cobra.Command, args []string) error { return run(c, a, args) }}
	}
	c.AddCommand(
		q("block [HEIGHT|latest]", "Show a block (default: the latest): hash, app hash, time, proposer, transactions", maxArgs(1, "HEIGHT or latest"), runQueryBlock),
		q("tx HASH", "Show a committed transaction and its result", exactArgs("HASH"), runQueryTx),
		q("account ADDRESS", "Show an account's balance, nonce, delegations and unbondings", exactArgs("ADDRESS"), runQueryAccount),
		q("validators", "List the validators, active ones first by power", exactArgs(), runQueryValidators),
		q("delegations ADDRESS", "List a delegator's delegations", exactArgs("ADDRESS"), runQueryDelegations),
		q("unbondings ADDRESS", "List a delegator's unbonding entries", exactArgs("ADDRESS"), runQueryUnbondings),
		q("proposals [ID]", "List the governance proposals, or show one with its votes and deposits", cobra.MaximumNArgs(1), runQueryProposals),
		q("gauge", "Show the emission gauge: each live module's weight, and the votes", exactArgs(), runQueryGauge),
		q("pools", "Show the balance of every module pool", exactArgs(), runQueryPools),
		q("supply", "Show minted, burned and circulating supply and where it is held", exactArgs(), runQuerySupply),
		q("params", "Show every module's parameters", exactArgs(), runQueryParams),
	)
	c.AddCommand(computeQueries(q)...)
	c.AddCommand(newQueryContestCmds(a)...)
	c.AddCommand(newQueryOverviewCmd(a))
	addProveCmds(c, a) // --prove (query_prove.go)
	return c
}

func runQueryBlock(c *cobra.Command, a *nodeArgs, args []string) error {
	h := api.Latest
	if len(args) == 1 && args[0] != "latest" {
		v, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return usagef("block %q: want a height (a non-negative integer) or latest", args[0])
		}
		h = v
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	b, err := cl.Block(c.Context(), h)
	if err != nil {
		return err
	}
	if a.json() {
		return printJSON(b)
	}
	return a.print(b, blockTable(c.Context(), cl, b))
}

func runQueryTx(c *cobra.Command, a *nodeArgs, args []string) error {
	hash, err := api.ParseTxHash(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	t, err := cl.Tx(c.Context(), hash)
	if err != nil {
		return err
	}
	return a.print(t, func(w *tabwriter.Writer) { printTxTable(w, t) })
}

func printTxTable(w *tabwriter.Writer, t api.TxView) {
	result := "ok"
	if !t.Result.OK {
		result = "FAILED: " + t.Result.Error
	}
	kv(w, "hash", hexText(t.Hash), "height", t.Height, "index", t.Index, "result", result)
	if b := t.Body; b != nil {
		kv(w, "sender", b.Sender, "nonce", b.Nonce, "fee", formatAmount(b.Fee))
		if b.Memo != "" {
			kv(w, "memo", b.Memo)
		}
		for _, m := range b.Msgs {
			kv(w, "msg", m.Type)
		}
	}
	for _, e := range t.Result.Events {
		var attrs []string
		for k, v := range e.Attrs {
			attrs = append(attrs, fmtAttr(k, v))
		}
		sort.Strings(attrs)
		kv(w, "event", e.Type+": "+strings.Join(attrs, ", "))
	}
}

func runQueryAccount(c *cobra.Command, a *nodeArgs, args []string) error {
	addr, err := a.addr("account", args[0])
	if err != nil {
		return err
	}
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Account(c.Context(), addr, h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		kv(w, "address", r.Address, "height", r.Height, "balance", formatAmount(r.Balance), "nonce", r.Nonce)
		for _, d := range r.Delegations {
			kv(w, "delegation", fmt.Sprintf("%s to %s", formatAmount(d.Tokens), d.Validator))
		}
		for _, u := range r.Unbondings {
			kv(w, "unbonding", fmt.Sprintf("%s from %s, done %s", formatAmount(u.Amount), u.Validator, fmtTime(u.CompletionTime)))
		}
	})
}

func runQueryValidators(c *cobra.Command, a *nodeArgs, _ []string) error {
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Validators(c.Context(), h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "MONIKER\tOPERATOR\tPOWER\tTOKENS\tCOMMISSION\tSTATUS")
		for _, v := range r.Validators {
			status := "inactive"
			switch {
			case v.Tombstoned:
				status = "tombstoned"
			case v.Jailed:
				status = "jailed until " + fmtTime(v.JailedUntil)
			case v.Bonded:
				status = "active"
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", v.Moniker, v.Operator, v.Power, formatAmount(v.Tokens), fmtPPM(uint64(v.Commission)), status)
		}
	})
}

func runQueryDelegations(c *cobra.Command, a *nodeArgs, args []string) error {
	addr, err := a.addr("delegator", args[0])
	if err != nil {
		return err
	}
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Delegations(c.Context(), addr, h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "VALIDATOR\tTOKENS\tSHARES")
		for _, d := range r.Delegations {
			fmt.Fprintf(w, "%s\t%s\t%d\n", d.Validator, formatAmount(d.Tokens), d.Shares)
		}
	})
}

func runQueryUnbondings(c *cobra.Command, a *nodeArgs, args []string) error {
	addr, err := a.addr("delegator", args[0])
	if err != nil {
		return err
	}
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Unbondings(c.Context(), addr, h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tVALIDATOR\tAMOUNT\tCOMPLETES")
		for _, u := range r.Unbondings {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", u.ID, u.Validator, formatAmount(u.Amount), fmtTime(u.CompletionTime))
		}
	})
}

func runQueryProposals(c *cobra.Command, a *nodeArgs, args []string) error {
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		r, err := cl.Proposals(c.Context(), h)
		if err != nil {
			return err
		}
		return a.print(r, func(w *tabwriter.Writer) {
			fmt.Fprintln(w, "ID\tSTATUS\tDEPOSIT\tVOTING ENDS\tTITLE")
			for _, p := range r.Proposals {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", p.ID, p.Status, formatAmount(p.TotalDeposit), fmtTime(p.VotingEnd), p.Title)
			}
		})
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return usagef("proposal id %q: want a positive integer", args[0])
	}
	p, err := cl.Proposal(c.Context(), id, h)
	if err != nil {
		return err
	}
	return a.print(p, func(w *tabwriter.Writer) {
		kv(w, "id", p.ID, "title", p.Title, "status", p.Status, "kind", p.Content.Kind, "proposer", p.Proposer,
			"submitted", fmtTime(p.SubmitTime), "deposit", formatAmount(p.TotalDeposit), "deposit ends", fmtTime(p.DepositEnd),
			"voting", fmtTime(p.VotingStart)+" to "+fmtTime(p.VotingEnd))
		if p.Result != "" {
			kv(w, "result", p.Result)
		}
		t := p.FinalTally
		if p.Tally != nil {
			t = *p.Tally
		}
		kv(w, "tally", fmt.Sprintf("yes %s, no %s, abstain %s, veto %s of %s bonded", formatAmount(t.Yes), formatAmount(t.No),
			formatAmount(t.Abstain), formatAmount(t.Veto), formatAmount(t.TotalBonded)))
		for _, v := range p.Votes {
			kv(w, "vote", fmt.Sprintf("%s %s", v.Voter, v.Option))
		}
		for _, d := range p.Deposits {
			kv(w, "deposit", fmt.Sprintf("%s %s", d.Depositor, formatAmount(d.Amount)))
		}
		fmt.Fprintf(w, "\n%s\n", p.Description)
	})
}

func runQueryGauge(c *cobra.Command, a *nodeArgs, _ []string) error {
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Gauge(c.Context(), h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "MODULE\tWEIGHT (STAKE)\tSHARE")
		for _, m := range r.Modules {
			fmt.Fprintf(w, "%s\t%s\t%s\n", m.Module, formatAmount(m.Weight), fmtPPM(uint64(m.SharePPM)))
		}
		fmt.Fprintf(w, "TOTAL\t%s\t(%d voters)\n", formatAmount(r.TotalWeight), len(r.Voters))
	})
}

func runQueryPools(c *cobra.Command, a *nodeArgs, _ []string) error {
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Pools(c.Context(), h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		names := slices.Sorted(maps.Keys(r.Pools))
		fmt.Fprintln(w, "POOL\tBALANCE")
		for _, n := range names {
			fmt.Fprintf(w, "%s\t%s\n", n, formatAmount(r.Pools[n]))
		}
	})
}

func runQuerySupply(c *cobra.Command, a *nodeArgs, _ []string) error {
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Supply(c.Context(), h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		kv(w, "height", r.Height, "minted", formatAmount(r.Minted), "burned", formatAmount(r.Burned),
			"circulating", formatAmount(r.Circulating), "pending emission", formatAmount(r.PendingReward))
		names := slices.Sorted(maps.Keys(r.Held))
		for _, n := range names {
			kv(w, "held in "+n, formatAmount(r.Held[n]))
		}
	})
}

func runQueryParams(c *cobra.Command, a *nodeArgs, _ []string) error {
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Params(c.Context(), h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		names := slices.Sorted(maps.Keys(r.Params))
		for _, n := range names {
			kv(w, n, string(r.Params[n]))
		}
	})
}
