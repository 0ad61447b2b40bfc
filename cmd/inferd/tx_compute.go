package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/compute/challenge"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node/api"
)

type providerArgs struct {
	price, bond, addBond string
	capacity             uint32
	tier                 int
}

func (p *providerArgs) flags(c *cobra.Command, register bool) {
	f := c.Flags()
	f.StringVar(&p.price, "price", "", "price per job, e.g. 2500 (uinf) or 0.01inf")
	f.Uint32Var(&p.capacity, "capacity", 0, "how many jobs the provider runs at once")
	def, keep := 0, ""
	if !register {
		def, keep = -1, " (default: unchanged)"
	}
	f.IntVar(&p.tier, "tier", def, fmt.Sprintf("capacity tier 0..%d: challenge size n = 256 * 2^tier (256 .. 8192)%s", challenge.NumTiers-1, keep))
	if register {
		f.StringVar(&p.bond, "bond", "", "bond moved from your balance into the module, e.g. 100inf (at least compute.min_bond)")
	} else {
		f.StringVar(&p.addBond, "add-bond", "", "bond to add, e.g. 10inf")
	}
}

func checkTier(t int) (uint8, error) {
	if _, err := challenge.TierN(t); err != nil {
		return 0, usagef("--tier %d: want 0..%d (n = 256 .. 8192)", t, challenge.NumTiers-1)
	}
	return uint8(t), nil
}

func newTxComputeCmd(a *txArgs) *cobra.Command {
	c := group("compute", "Register and manage a compute provider")
	reg := &providerArgs{}
	regCmd := &cobra.Command{
		Use:   "register --price P --capacity C --bond B [--tier N]",
		Short: "Register --from as a compute provider (then run its node with 'inferd run --provider')",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			if reg.price == "" || reg.bond == "" || reg.capacity == 0 {
				return usagef("--price, --capacity and --bond are required")
			}
			price, err := parseAmountArg(reg.price)
			if err != nil {
				return err
			}
			bond, err := parseAmountArg(reg.bond)
			if err != nil {
				return err
			}
			tier, err := checkTier(reg.tier)
			if err != nil {
				return err
			}
			return a.send(c.Context(), ledger.NewMsg(compute.MsgTypeRegister,
				compute.MsgRegister{Price: price, Tier: tier, Capacity: reg.capacity, Bond: bond}))
		},
	}
	reg.flags(regCmd, true)
	upd := &providerArgs{}
	updCmd := &cobra.Command{
		Use:   "update [--price P] [--capacity C] [--tier N] [--add-bond B]",
		Short: "Change your provider's price, capacity or tier, or add bond (unset flags keep their values)",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			m, err := upd.update(c, a)
			if err != nil {
				return err
			}
			return a.send(c.Context(), ledger.NewMsg(compute.MsgTypeUpdate, m))
		},
	}
	upd.flags(updCmd, false)
	c.AddCommand(regCmd, updCmd,
		&cobra.Command{Use: "unregister", Short: "Stop providing; the bond returns after compute.unbonding_blocks", Args: exactArgs(),
			RunE: func(c *cobra.Command, _ []string) error {
				return a.send(c.Context(), ledger.NewMsg(compute.MsgTypeUnregister, compute.MsgUnregister{}))
			}},
		&cobra.Command{Use: "unjail", Short: "Bring your jailed provider back once its jail time is over", Args: exactArgs(),
			RunE: func(c *cobra.Command, _ []string) error {
				return a.send(c.Context(), ledger.NewMsg(compute.MsgTypeUnjail, compute.MsgUnjail{}))
			}},
	)
	return c
}

// update fills the flags left unset from the provider's current record.
func (p *providerArgs) update(c *cobra.Command, a *txArgs) (compute.MsgUpdate, error) {
	var m compute.MsgUpdate
	if a.from == "" {
		return m, usagef("--from KEY is required: the provider's key")
	}
	addr, err := a.resolve("--from", a.from)
	if err != nil {
		return m, err
	}
	cl, err := a.client()
	if err != nil {
		return m, err
	}
	cur, err := cl.Provider(c.Context(), addr, api.Latest)
	if err != nil {
		return m, fmt.Errorf("read provider %s: %w", addr, err)
	}
	m = compute.MsgUpdate{Price: cur.Price, Tier: cur.Tier, Capacity: cur.Capacity}
	if p.price != "" {
		if m.Price, err = parseAmountArg(p.price); err != nil {
			return m, err
		}
	}
	if p.capacity != 0 {
		m.Capacity = p.capacity
	}
	if p.tier >= 0 {
		if m.Tier, err = checkTier(p.tier); err != nil {
			return m, err
		}
	}
	if p.addBond != "" {
		if m.AddBond, err = parseAmountArg(p.addBond); err != nil {
			return m, err
		}
	}
	return m, nil
}

type jobArgs struct {
	workload, input, maxPrice string
	inputSize                 uint64
}

func newTxJobCmd(a *txArgs) *cobra.Command {
	c := group("job", "Submit compute jobs")
	j := &jobArgs{}
	sub := &cobra.Command{
		Use:   "submit --workload CID --input CID --max-price P [--input-size BYTES]",
		Short: "Submit a job: run the Wasm module --workload on --input; --max-price is escrowed until the job ends",
		Long: `Submit a job. The ledger assigns it to the cheapest live provider with free
capacity whose price is at most --max-price; that price is burned when the
provider reports the result and the rest is refunded. If no provider takes
it, or the provider misses the deadline, everything is refunded at the
deadline (compute.job_deadline_blocks after submission).`,
		Args: exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			if j.workload == "" || j.input == "" || j.maxPrice == "" {
				return usagef("--workload, --input and --max-price are required")
			}
			for _, x := range []struct{ name, v string }{{"--workload", j.workload}, {"--input", j.input}} {
				if err := compute.CheckCID(x.name, x.v); err != nil {
					return usagef("%v", err)
				}
			}
			price, err := parseAmountArg(j.maxPrice)
			if err != nil {
				return err
			}
			return a.send(c.Context(), ledger.NewMsg(compute.MsgTypeJobSubmit, compute.MsgJobSubmit{
				Workload: j.workload, Input: j.input, InputSize: j.inputSize, MaxPrice: price}))
		},
	}
	f := sub.Flags()
	f.StringVar(&j.workload, "workload", "", "CID of the workload, a WASI command module (inferd add FILE)")
	f.StringVar(&j.input, "input", "", "CID of the input, given to the workload as stdin")
	f.StringVar(&j.maxPrice, "max-price", "", "the most you pay, e.g. 5000 (uinf) or 0.01inf; escrowed")
	f.Uint64Var(&j.inputSize, "input-size", 0, "the input's size in bytes, checked against compute.max_input_bytes (providers check the real size too)")
	c.AddCommand(sub)
	return c
}
