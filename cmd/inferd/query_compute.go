package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/ledger/compute"
)

type queryFn = func(use, short string, args cobra.PositionalArgs, run func(c *cobra.Command, a *nodeArgs, args []string) error) *cobra.Command

// computeQueries are the compute module's query commands.
func computeQueries(q queryFn) []*cobra.Command {
	jobs := q("jobs [--status S]", "List jobs, newest first (status: open, assigned, sealed, running, done, failed, expired, missed, reexec)", exactArgs(), runQueryJobs)
	jobs.Flags().String("status", "", "only jobs with this status")
	return []*cobra.Command{
		q("providers", "List compute providers: price, capacity, verified operations, uptime, bond", exactArgs(), runQueryProviders),
		q("provider ADDRESS", "Show one provider and its challenge in the current epoch", exactArgs("ADDRESS"), runQueryProvider),
		jobs,
		q("job ID", "Show one job", exactArgs("ID"), runQueryJob),
	}
}

func providerStatus(p compute.ProviderInfo) string {
	if p.Jailed {
		return fmt.Sprintf("jailed until height %d", p.JailedUntil)
	}
	if p.Unbonding() {
		return fmt.Sprintf("unbonding until height %d", p.UnbondAt)
	}
	return p.Status
}

func runQueryProviders(c *cobra.Command, a *nodeArgs, _ []string) error {
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Providers(c.Context(), h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ADDRESS\tPRICE/JOB\tJOBS/CAPACITY\tMATRIX n\tVERIFIED OPS\tUPTIME\tDOWNTIME\tEARNED\tBOND\tSTATUS")
		for _, p := range r.Providers {
			fmt.Fprintf(w, "%s\t%s\t%d/%d\t%d\t%s\t%d epochs\t%d epochs\t%s\t%s\t%s\n", p.Address, formatAmount(p.Price), p.ActiveJobs, p.Capacity,
				p.N, fmtOps(p.VerifiedOps), p.Uptime, p.Downtime, formatAmount(p.Earned), formatAmount(p.Bond), providerStatus(p))
		}
		fmt.Fprintln(w, "(matrix n: the n x n challenge of the provider's tier; uptime/downtime: epochs with a passed/missed challenge)")
	})
}

func runQueryProvider(c *cobra.Command, a *nodeArgs, args []string) error {
	addr, err := a.addr("provider", args[0])
	if err != nil {
		return err
	}
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Provider(c.Context(), addr, h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		kv(w, "address", r.Address, "status", providerStatus(r.ProviderInfo), "price", formatAmount(r.Price),
			"capacity", fmt.Sprintf("%d running of %d", r.ActiveJobs, r.Capacity), "tier", fmt.Sprintf("%d (n = %d)", r.Tier, r.N),
			"bond", formatAmount(r.Bond), "verified ops", fmt.Sprintf("%s (%d)", fmtOps(r.VerifiedOps), r.VerifiedOps), "uptime", fmt.Sprintf("%d epochs", r.Uptime),
			"downtime", fmt.Sprintf("%d epochs (%d in a row)", r.Downtime, r.Missed), "earned", formatAmount(r.Earned),
			"last epoch", fmt.Sprintf("%d: %s", r.LastEpoch, r.LastOutcome))
		if ch := r.Challenge; ch != nil {
			kv(w, "challenge", fmt.Sprintf("epoch %d, n = %d, commit before height %d, attest before height %d, closes at height %d",
				ch.Epoch, ch.N, ch.CommitDeadline, ch.AttestDeadline, ch.End), "committed", ch.Committed())
		}
	})
}

func runQueryJobs(c *cobra.Command, a *nodeArgs, _ []string) error {
	status, _ := c.Flags().GetString("status")
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Jobs(c.Context(), status, h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tSTATUS\tUSER\tPROVIDER\tMAX PRICE\tCHARGED\tDEADLINE\tRESULT")
		for _, j := range r.Jobs {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Status, j.User, jobProvider(j), formatAmount(j.MaxPrice),
				formatAmount(j.Charged), fmtHeight(j.Deadline), jobResult(j))
		}
	})
}

func jobProvider(j compute.Job) string {
	if j.Provider.IsZero() {
		return "-"
	}
	return j.Provider.String()
}

func jobResult(j compute.Job) string {
	switch {
	case j.Status == compute.JobSealed:
		return fmt.Sprintf("pending reveal (by height %d)", j.Deadline)
	case j.Result != "":
		return j.Result
	case j.Error != "":
		return "error: " + j.Error
	}
	return "-"
}

func runQueryJob(c *cobra.Command, a *nodeArgs, args []string) error {
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil || id == 0 {
		return usagef("job %q: want a positive integer id", args[0])
	}
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Job(c.Context(), id, h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		kv(w, "id", r.ID, "status", r.Status, "user", r.User, "workload", r.Workload, "input", r.Input,
			"input size", fmt.Sprintf("%d bytes", r.InputSize), "max price", formatAmount(r.MaxPrice), "submitted", fmtHeight(r.Submitted),
			"deadline", fmtHeight(r.Deadline), "provider", jobProvider(r.Job))
		if r.Status == compute.JobSealed {
			kv(w, "result", jobResult(r.Job))
		} else if r.Status != compute.JobOpen && r.Status != compute.JobAssigned {
			kv(w, "charged (burned)", formatAmount(r.Charged), "refunded", formatAmount(r.Refunded),
				"finished", fmtHeight(r.Finished), "result", jobResult(r.Job))
		}
		if r.Reexec != "" {
			kv(w, "re-execution", r.Reexec)
		}
		containerRows(w, r.Job)
	})
}
