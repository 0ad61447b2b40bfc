package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/ledger/contest"
)

// newQueryContestCmds are 'query contests', 'query contest ID' and
// 'query submissions ID [--round R]'.
func newQueryContestCmds(a *nodeArgs) []*cobra.Command {
	var round uint64
	subs := &cobra.Command{
		Use:   "submissions ID [--round R]",
		Short: "List a contest's submissions of a round (default: the current round)",
		Args:  exactArgs("ID"),
		RunE:  func(c *cobra.Command, args []string) error { return runQuerySubmissions(c, a, args[0], round) },
	}
	subs.Flags().Uint64Var(&round, "round", 0, "round (default: the current round)")
	return []*cobra.Command{
		{Use: "contests", Short: "List the contests: id, status, pool, round and phase, best score", Args: exactArgs(),
			RunE: func(c *cobra.Command, _ []string) error { return runQueryContests(c, a) }},
		{Use: "contest ID", Short: "Show a contest: spec, pool, round and its windows, leaderboard with agreed scores", Args: exactArgs("ID"),
			RunE: func(c *cobra.Command, args []string) error { return runQueryContest(c, a, args[0]) }},
		subs,
	}
}

func runQueryContests(c *cobra.Command, a *nodeArgs) error {
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.Contests(c.Context(), h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "ID\tNAME\tSTATUS\tPOOL\tROUND\tPHASE\tBEST")
		for _, ci := range r.Contests {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", ci.ID, ci.Name, ci.Status, formatAmount(ci.Pool), ci.Round.Round, ci.Round.Phase, fmtScore(ci.BestScore))
		}
	})
}

func runQueryContest(c *cobra.Command, a *nodeArgs, arg string) error {
	id, err := parseContestID(arg)
	if err != nil {
		return err
	}
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	d, err := cl.Contest(c.Context(), id, h)
	if err != nil {
		return err
	}
	return a.print(d, func(w *tabwriter.Writer) {
		s, ri := d.Spec, d.Round
		kv(w, "id", d.ID, "name", d.Name, "status", d.Status, "designer", d.Designer, "evaluator", evaluatorName(s.Evaluator),
			"metric", fmt.Sprintf("%s (%s), baseline %s, min improvement %s", s.Metric, s.Direction, fmtScore(s.Baseline), fmtScore(s.MinImprovement)),
			"validators", fmt.Sprintf("%s, quorum %s", s.Validators.Policy, fmtPPM(uint64(s.Validators.QuorumPPM))),
			"reward", s.Reward.Curve,
			"split", fmt.Sprintf("builders %s, designer %s, validators %s", fmtPPM(uint64(s.Split.BuildersPPM)), fmtPPM(uint64(s.Split.DesignerPPM)), fmtPPM(uint64(s.Split.ValidatorsPPM))),
			"pool", fmt.Sprintf("%s (%s; carried: builders %s, validators %s)", formatAmount(d.Pool), d.PoolName, formatAmount(d.CarryBuilders), formatAmount(d.CarryValidators)),
			"round", fmt.Sprintf("%d, phase %s at height %d (blocks %d-%d)", ri.Round, ri.Phase, ri.Height, ri.Start, ri.End),
			"windows", fmt.Sprintf("commit %d-%d, reveal %d-%d, attest commit %d-%d, attest reveal %d-%d",
				ri.Commit.Start, ri.Commit.End, ri.Reveal.Start, ri.Reveal.End, ri.AttestCommit.Start, ri.AttestCommit.End, ri.AttestReveal.Start, ri.AttestReveal.End),
			"best", fmtScore(d.BestScore))
		if d.BestModel != "" {
			kv(w, "best model", d.BestModel)
		}
		for i, ds := range s.Datasets {
			cidText := d.DatasetCIDs[i]
			if cidText == "" {
				cidText = "(sealed)"
			}
			kv(w, "dataset", fmt.Sprintf("%s %s %s", ds.Name, ds.Policy, cidText))
		}
		fmt.Fprintln(w, "\nLEADERBOARD\tROUND\tSCORE\tBUILDER\tMODEL\tREWARD")
		for i, sub := range d.Leaderboard {
			fmt.Fprintf(w, "%d\t%d\t%s\t%s\t%s\t%s\n", i+1, sub.Round, scoreText(sub), sub.Builder, sub.Model, formatAmount(sub.Reward))
		}
		fmt.Fprintf(w, "\nROUND %d\tSTATUS\tBUILDER\tMODEL\tSCORE\n", ri.Round)
		for _, sub := range d.Submissions {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", sub.Index, sub.Status, sub.Builder, sub.Model, scoreText(sub))
		}
	})
}

func scoreText(s contest.Submission) string {
	if s.AgreedScore == nil {
		return "-"
	}
	return fmtScore(*s.AgreedScore)
}

func runQuerySubmissions(c *cobra.Command, a *nodeArgs, arg string, round uint64) error {
	id, err := parseContestID(arg)
	if err != nil {
		return err
	}
	cl, h, err := a.connectAt()
	if err != nil {
		return err
	}
	r, err := cl.ContestSubmissions(c.Context(), id, round, h)
	if err != nil {
		return err
	}
	return a.print(r, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "contest %d, round %d\n", r.Contest, r.Round)
		fmt.Fprintln(w, "INDEX\tSTATUS\tBUILDER\tMODEL\tSCORE\tREWARD")
		for _, s := range r.Submissions {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", s.Index, s.Status, s.Builder, s.Model, scoreText(s), formatAmount(s.Reward))
		}
	})
}
