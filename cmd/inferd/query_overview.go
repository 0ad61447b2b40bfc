package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/node/api"
)

// overview is what `query overview` gathers about one address, from
// several endpoints read at one height.
type overview struct {
	Height      uint64                `json:"height"`
	Address     keys.Address          `json:"address"`
	Balance     uint64                `json:"balance"`   // uinf
	Delegated   uint64                `json:"delegated"` // uinf, sum of the delegations' tokens
	Unbonding   uint64                `json:"unbonding"` // uinf
	Account     api.AccountResponse   `json:"account"`
	Validator   *chain.ValidatorInfo  `json:"validator,omitempty"`
	Provider    *compute.ProviderInfo `json:"provider,omitempty"`
	Designs     []uint64              `json:"designs"`         // contests this address designed
	Submissions []contest.Submission  `json:"submissions"`     // its submissions shown by the contests (leaderboards, last and current rounds)
	Rewards     uint64                `json:"contest_rewards"` // uinf, sum of those submissions' rewards
	Jobs        []compute.Job         `json:"jobs"`            // jobs it submitted or ran
	JobsCharged uint64                `json:"jobs_charged"`    // uinf burned for its submitted jobs
	Earned      uint64                `json:"provider_earned"` // uinf, lifetime emission as a provider
	Commission  uint64                `json:"commission_ppm"`  // its validator's commission, if any
	Total       uint64                `json:"total"`           // balance + delegated + unbonding, uinf
}

func newQueryOverviewCmd(a *nodeArgs) *cobra.Command {
	return &cobra.Command{
		Use:   "overview ADDRESS|KEY",
		Short: "Everything about one account: balance, stake, validator, provider, contests and jobs",
		Args:  exactArgs("ADDRESS|KEY"),
		RunE: func(c *cobra.Command, args []string) error {
			addr, err := a.addr("account", args[0])
			if err != nil {
				return err
			}
			cl, h, err := a.connectAt()
			if err != nil {
				return err
			}
			o, err := gatherOverview(c.Context(), cl, addr, h)
			if err != nil {
				return err
			}
			return a.print(o, func(w *tabwriter.Writer) { printOverview(w, o) })
		},
	}
}

func gatherOverview(ctx context.Context, cl *api.Client, addr keys.Address, h uint64) (*overview, error) {
	acc, err := cl.Account(ctx, addr, h)
	if err != nil {
		return nil, err
	}
	h = acc.Height // every later read at the same height
	o := &overview{Height: h, Address: addr, Balance: acc.Balance, Account: acc, Designs: []uint64{}, Submissions: []contest.Submission{}, Jobs: []compute.Job{}}
	for _, d := range acc.Delegations {
		o.Delegated += d.Tokens
	}
	for _, u := range acc.Unbondings {
		o.Unbonding += u.Amount
	}
	o.Total = o.Balance + o.Delegated + o.Unbonding
	vals, err := cl.Validators(ctx, h)
	if err != nil {
		return nil, err
	}
	for i := range vals.Validators {
		if vals.Validators[i].Operator == addr {
			o.Validator = &vals.Validators[i]
			o.Commission = uint64(o.Validator.Commission)
		}
	}
	if p, err := cl.Provider(ctx, addr, h); err == nil {
		o.Provider = &p.ProviderInfo
		o.Earned = p.Earned
	} else if !notFound(err) {
		return nil, err
	}
	cs, err := cl.Contests(ctx, h)
	if err != nil && !notFound(err) {
		return nil, err
	}
	for _, ci := range cs.Contests {
		if ci.Designer == addr {
			o.Designs = append(o.Designs, ci.ID)
		}
		d, err := cl.Contest(ctx, ci.ID, h)
		if err != nil {
			return nil, err
		}
		seen := map[[2]uint64]bool{}
		for _, s := range append(append([]contest.Submission{}, d.Leaderboard...), d.Submissions...) {
			key := [2]uint64{s.Round, uint64(s.Index)}
			if s.Builder != addr || seen[key] {
				continue
			}
			seen[key] = true
			o.Submissions = append(o.Submissions, s)
			o.Rewards += s.Reward
		}
	}
	js, err := cl.Jobs(ctx, "", h)
	if err != nil && !notFound(err) {
		return nil, err
	}
	for _, j := range js.Jobs {
		if j.User == addr || j.Provider == addr {
			o.Jobs = append(o.Jobs, j)
			if j.User == addr {
				o.JobsCharged += j.Charged
			}
		}
	}
	return o, nil
}

func notFound(err error) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Code == http.StatusNotFound
}

func printOverview(w *tabwriter.Writer, o *overview) {
	kv(w, "address", o.Address, "height", o.Height, "balance", formatAmount(o.Balance),
		"delegated", fmt.Sprintf("%s in %d delegations", formatAmount(o.Delegated), len(o.Account.Delegations)),
		"unbonding", fmt.Sprintf("%s in %d entries", formatAmount(o.Unbonding), len(o.Account.Unbondings)),
		"total", formatAmount(o.Total))
	for _, d := range o.Account.Delegations {
		kv(w, "  delegation", fmt.Sprintf("%s to %s", formatAmount(d.Tokens), d.Validator))
	}
	if v := o.Validator; v != nil {
		status := "inactive"
		switch {
		case v.Tombstoned:
			status = "tombstoned"
		case v.Jailed:
			status = "jailed until " + fmtTime(v.JailedUntil)
		case v.Bonded:
			status = "active"
		}
		kv(w, "validator", fmt.Sprintf("%s, %s, power %d, %s staked, commission %s", v.Moniker, status, v.Power, formatAmount(v.Tokens), fmtPPM(uint64(v.Commission))))
	} else {
		kv(w, "validator", "no")
	}
	if p := o.Provider; p != nil {
		kv(w, "provider", fmt.Sprintf("%s, tier %d, %s verified ops, uptime %d epochs, downtime %d epochs, earned %s, bond %s",
			providerStatus(*p), p.Tier, fmtOps(p.VerifiedOps), p.Uptime, p.Downtime, formatAmount(p.Earned), formatAmount(p.Bond)))
	} else {
		kv(w, "provider", "no")
	}
	if len(o.Designs) > 0 {
		kv(w, "designer of contests", fmt.Sprint(o.Designs))
	}
	kv(w, "contest submissions", fmt.Sprintf("%d, rewards %s", len(o.Submissions), formatAmount(o.Rewards)))
	for _, s := range o.Submissions {
		kv(w, "  submission", fmt.Sprintf("contest %d round %d: %s, score %s, reward %s, model %s", s.Contest, s.Round, s.Status, scoreText(s), formatAmount(s.Reward), orDash(s.Model)))
	}
	kv(w, "jobs", fmt.Sprintf("%d, charged %s", len(o.Jobs), formatAmount(o.JobsCharged)))
	for _, j := range o.Jobs {
		role := "user"
		if j.Provider == o.Address {
			role = "provider"
		}
		kv(w, "  job", fmt.Sprintf("%d (%s): %s, charged %s, deadline %s", j.ID, role, j.Status, formatAmount(j.Charged), fmtHeight(j.Deadline)))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
