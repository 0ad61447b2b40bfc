package main

import (
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/ledger/emission"
	"github.com/inferd/inferd/ledger/gov"
	"github.com/inferd/inferd/ledger/staking"
	"github.com/inferd/inferd/node"
)

func init() { register(newTxCmd) }

func newTxCmd() *cobra.Command {
	a := &txArgs{}
	c := &cobra.Command{
		Use:   "tx",
		Short: "Sign a transaction with a keyring key and broadcast it through a node",
		Long: `Sign a transaction with the key --from and submit it to the node at --node.
The chain id, nonce and fee default to what the node reports. The command
waits until the transaction is in a block and prints the result (a failed
transaction exits non-zero with the ledger's error), or returns the hash at
once with --async. Amounts are uinf (2500) or INF with a suffix (1.5inf).`,
		Args: groupArgs,
		RunE: groupHelp,
	}
	addTxFlags(c, a)
	bankCmd := group("bank", "Send tokens")
	bankCmd.AddCommand(&cobra.Command{
		Use: "send TO AMOUNT", Short: "Send AMOUNT to the address TO", Args: exactArgs("TO", "AMOUNT"),
		RunE: func(c *cobra.Command, args []string) error {
			to, err := a.resolve("recipient", args[0])
			if err != nil {
				return err
			}
			amt, err := parseAmountArg(args[1])
			if err != nil {
				return err
			}
			a.spend = amt
			return a.send(c.Context(), ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: amt}))
		},
	})
	gaugeCmd := group("gauge", "Vote on how emission is split between modules")
	gaugeCmd.AddCommand(&cobra.Command{
		Use:   "set [MODULE=WEIGHT ...]",
		Short: "Split your bonded stake's gauge vote across live modules (no arguments: withdraw the vote)",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ws, err := parseWeights(args)
			if err != nil {
				return err
			}
			return a.send(c.Context(), ledger.NewMsg(emission.MsgTypeSetGauge, emission.MsgSetGauge{Weights: ws}))
		},
	})
	c.AddCommand(bankCmd, newTxStakingCmd(a), newTxGovCmd(a), gaugeCmd, newTxContestCmd(a))
	c.AddCommand(newTxComputeCmd(a), newTxJobCmd(a), newTxLeaseCmd(a))
	c.AddCommand(newTxSignCmd(a), newTxBroadcastCmd(a))
	return c
}

// resolve accepts an inf1... address or the name of a key in the keyring.
func (a *txArgs) resolve(what, s string) (keys.Address, error) {
	if addr, err := keys.ParseAddress(s); err == nil {
		return addr, nil
	}
	addr, err := (&genesisArgs{home: a.home, backend: a.backend}).resolveAddress(s)
	if err != nil {
		return addr, usagef("%s: %v", what, err)
	}
	return addr, nil
}

// group is a command that only holds subcommands.
func group(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: groupArgs, RunE: groupHelp}
}

func groupArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for '%s' (see '%s --help')", args[0], c.CommandPath(), c.CommandPath())
	}
	return nil
}

func groupHelp(c *cobra.Command, _ []string) error { return c.Help() }

func parseAmountArg(s string) (uint64, error) {
	v, err := parseAmount(s)
	if err != nil {
		return 0, usagef("%v", err)
	}
	if v == 0 {
		return 0, usagef("amount %q is zero", s)
	}
	return v, nil
}

func parseWeights(args []string) ([]emission.GaugeWeight, error) {
	var ws []emission.GaugeWeight
	for _, arg := range args {
		mod, w, ok := strings.Cut(arg, "=")
		n, err := strconv.ParseUint(w, 10, 32)
		if !ok || mod == "" || err != nil {
			return nil, usagef("%q: want MODULE=WEIGHT with a whole-number weight, e.g. compute=3", arg)
		}
		ws = append(ws, emission.GaugeWeight{Module: mod, Weight: uint32(n)})
	}
	return ws, nil
}

type createValidatorArgs struct {
	consPubKey, keyFile, moniker, selfBond, commission, maxCommission string
}

func newTxStakingCmd(a *txArgs) *cobra.Command {
	c := group("staking", "Create validators, delegate, undelegate, redelegate, unjail")
	v := &createValidatorArgs{}
	cv := &cobra.Command{
		Use:   "create-validator (--cons-pubkey HEX | --validator-key FILE) --moniker NAME --self-bond AMOUNT",
		Short: "Make --from the operator of a new validator with its self-bond",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			m, err := v.msg()
			if err != nil {
				return err
			}
			return a.send(c.Context(), ledger.NewMsg(staking.MsgTypeCreateValidator, m))
		},
	}
	f := cv.Flags()
	f.StringVar(&v.consPubKey, "cons-pubkey", "", "consensus public key, 64 hex characters")
	f.StringVar(&v.keyFile, "validator-key", "", "a priv_validator_key.json to take the public key from")
	f.StringVar(&v.moniker, "moniker", "", "validator name (required)")
	f.StringVar(&v.selfBond, "self-bond", "", "self-bond (required), e.g. 1000inf")
	f.StringVar(&v.commission, "commission", "10%", "commission taken from delegators' rewards")
	f.StringVar(&v.maxCommission, "max-commission", "20%", "the highest commission the validator may ever set")

	stake := func(use, short string, names []string, mk func(addrs []keys.Address, amt uint64) ledger.Msg) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: exactArgs(names...),
			RunE: func(c *cobra.Command, args []string) error {
				var addrs []keys.Address
				for i, s := range args[:len(args)-1] {
					ad, err := a.resolve(strings.ToLower(names[i]), s)
					if err != nil {
						return err
					}
					addrs = append(addrs, ad)
				}
				amt, err := parseAmountArg(args[len(args)-1])
				if err != nil {
					return err
				}
				if strings.HasPrefix(use, "delegate ") { // from the balance; un- and redelegations are not
					a.spend = amt
				}
				return a.send(c.Context(), mk(addrs, amt))
			}}
	}
	c.AddCommand(cv,
		stake("delegate VALIDATOR AMOUNT", "Bond AMOUNT of your balance to the validator (its operator address)",
			[]string{"VALIDATOR", "AMOUNT"}, func(v []keys.Address, amt uint64) ledger.Msg {
				return ledger.NewMsg(staking.MsgTypeDelegate, staking.MsgDelegate{Validator: v[0], Amount: amt})
			}),
		stake("undelegate VALIDATOR AMOUNT", "Start unbonding AMOUNT of stake from the validator",
			[]string{"VALIDATOR", "AMOUNT"}, func(v []keys.Address, amt uint64) ledger.Msg {
				return ledger.NewMsg(staking.MsgTypeUndelegate, staking.MsgUndelegate{Validator: v[0], Amount: amt})
			}),
		stake("redelegate FROM TO AMOUNT", "Move AMOUNT of stake from one validator to another at once",
			[]string{"FROM", "TO", "AMOUNT"}, func(v []keys.Address, amt uint64) ledger.Msg {
				return ledger.NewMsg(staking.MsgTypeRedelegate, staking.MsgRedelegate{From: v[0], To: v[1], Amount: amt})
			}),
		&cobra.Command{Use: "unjail", Short: "Bring your jailed validator back once its jail time is over", Args: exactArgs(),
			RunE: func(c *cobra.Command, _ []string) error {
				return a.send(c.Context(), ledger.NewMsg(staking.MsgTypeUnjail, staking.MsgUnjail{}))
			}},
	)
	return c
}

func (v *createValidatorArgs) msg() (staking.MsgCreateValidator, error) {
	var m staking.MsgCreateValidator
	if v.moniker == "" || v.selfBond == "" {
		return m, usagef("--moniker and --self-bond are required")
	}
	if (v.consPubKey == "") == (v.keyFile == "") {
		return m, usagef("give exactly one of --cons-pubkey HEX or --validator-key FILE")
	}
	if v.keyFile != "" {
		priv, err := node.LoadKeyFile(v.keyFile)
		if err != nil {
			return m, err
		}
		m.ConsPubKey = priv.Public().(keys.PubKey)
	} else {
		b, err := hex.DecodeString(v.consPubKey)
		if err != nil || len(b) != 32 {
			return m, usagef("--cons-pubkey: want 64 hex characters (a 32-byte ed25519 key)")
		}
		m.ConsPubKey = b
	}
	var err error
	if m.SelfBond, err = parseAmountArg(v.selfBond); err != nil {
		return m, err
	}
	if m.Commission, err = parsePPM(v.commission); err != nil {
		return m, usagef("--commission: %v", err)
	}
	if m.MaxCommission, err = parsePPM(v.maxCommission); err != nil {
		return m, usagef("--max-commission: %v", err)
	}
	m.Moniker = v.moniker
	return m, nil
}

type proposalArgs struct {
	title, description, deposit string
	changes                     []string
}

func newTxGovCmd(a *txArgs) *cobra.Command {
	c := group("gov", "Submit proposals, deposit, vote")
	p := &proposalArgs{}
	sp := &cobra.Command{
		Use:   "submit-proposal --title T --description D [--param-change module.key=JSON ...] --deposit AMOUNT",
		Short: "Submit a text proposal, or one that changes parameters when it passes",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			m, err := p.msg()
			if err != nil {
				return err
			}
			return a.send(c.Context(), ledger.NewMsg(gov.MsgTypeSubmitProposal, m))
		},
	}
	f := sp.Flags()
	f.StringVar(&p.title, "title", "", "title (required)")
	f.StringVar(&p.description, "description", "", "description (required)")
	f.StringVar(&p.deposit, "deposit", "", "initial deposit (required), e.g. 1000inf")
	f.StringArrayVar(&p.changes, "param-change", nil, `a parameter change, module.key=JSON (e.g. bank.min_fee=200); repeatable`)
	c.AddCommand(sp,
		&cobra.Command{Use: "deposit ID AMOUNT", Short: "Add to a proposal's deposit", Args: exactArgs("ID", "AMOUNT"),
			RunE: func(c *cobra.Command, args []string) error {
				id, err := parseProposalID(args[0])
				if err != nil {
					return err
				}
				amt, err := parseAmountArg(args[1])
				if err != nil {
					return err
				}
				a.spend = amt
				return a.send(c.Context(), ledger.NewMsg(gov.MsgTypeDeposit, gov.MsgDeposit{ProposalID: id, Amount: amt}))
			}},
		&cobra.Command{Use: "vote ID yes|no|abstain|veto", Short: "Vote on a proposal in its voting period", Args: exactArgs("ID", "OPTION"),
			RunE: func(c *cobra.Command, args []string) error {
				id, err := parseProposalID(args[0])
				if err != nil {
					return err
				}
				opt, err := gov.ParseVoteOption(strings.ToLower(args[1]))
				if err != nil {
					return usagef("%v", err)
				}
				return a.send(c.Context(), ledger.NewMsg(gov.MsgTypeVote, gov.MsgVote{ProposalID: id, Option: opt}))
			}},
	)
	return c
}

func parseProposalID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, usagef("proposal id %q: want a positive integer", s)
	}
	return id, nil
}

func (p *proposalArgs) msg() (gov.MsgSubmitProposal, error) {
	var m gov.MsgSubmitProposal
	if p.title == "" || p.description == "" || p.deposit == "" {
		return m, usagef("--title, --description and --deposit are required")
	}
	dep, err := parseAmountArg(p.deposit)
	if err != nil {
		return m, err
	}
	m = gov.MsgSubmitProposal{Title: p.title, Description: p.description, Content: gov.NewText(), InitialDeposit: dep}
	if len(p.changes) == 0 {
		return m, nil
	}
	var cs []gov.ParamChange
	for _, s := range p.changes {
		target, val, ok := strings.Cut(s, "=")
		mod, key, ok2 := strings.Cut(target, ".")
		if !ok || !ok2 || mod == "" || key == "" || !json.Valid([]byte(val)) {
			return m, usagef("--param-change %q: want module.key=JSON, e.g. bank.min_fee=200 or gov.quorum_ppm=400000", s)
		}
		cs = append(cs, gov.ParamChange{Module: mod, Key: key, Value: json.RawMessage(val)})
	}
	m.Content = gov.NewParamChange(cs...)
	return m, nil
}
