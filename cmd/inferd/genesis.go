package main

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/chain"
	"github.com/inferd/inferd/node"
)

func init() { register(newGenesisCmd) }

type genesisArgs struct {
	home    string
	file    string // --genesis: a genesis file other than <home>/config/genesis.json
	backend string
}

func (a *genesisArgs) path() (string, error) {
	if a.file != "" {
		return a.file, nil
	}
	home, err := keysHome(a.home)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, node.GenesisFile), nil
}

func (a *genesisArgs) load() (*ledger.Genesis, string, error) {
	p, err := a.path()
	if err != nil {
		return nil, "", err
	}
	g, err := ledger.LoadGenesis(p)
	if err != nil {
		return nil, p, fmt.Errorf("%s: %v", p, err)
	}
	return g, p, nil
}

// save validates the whole document before writing, so a bad edit never
// reaches the file.
func (a *genesisArgs) save(g *ledger.Genesis, p string) error {
	if err := chain.ValidateGenesis(g); err != nil {
		return fmt.Errorf("not written: %v", err)
	}
	return g.Save(p)
}

func newGenesisCmd() *cobra.Command {
	a := &genesisArgs{}
	c := &cobra.Command{
		Use:   "genesis",
		Short: "Edit and check the genesis file of a new network",
	}
	pf := c.PersistentFlags()
	pf.StringVar(&a.home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
	pf.StringVar(&a.file, "genesis", "", "genesis file to use instead of <home>/config/genesis.json")
	pf.StringVar(&a.backend, "keyring-backend", string(keystore.BackendFile), "keyring backend for key names: file or test")
	c.AddCommand(newGenesisAddAccountCmd(a), newGenesisAddValidatorCmd(a), newGenesisValidateCmd(a))
	return c
}

// resolveAddress accepts an inf1... address or the name of a keyring key.
func (a *genesisArgs) resolveAddress(s string) (keys.Address, error) {
	if addr, err := keys.ParseAddress(s); err == nil {
		return addr, nil
	}
	if keystore.ValidateName(s) != nil {
		return keys.Address{}, usagef("%q is neither an inf1... address nor a key name", s)
	}
	ka := &keysArgs{home: a.home, backend: a.backend, output: "text"}
	kr, err := ka.open(s)
	if err != nil {
		return keys.Address{}, err
	}
	info, err := kr.Get(s)
	if err != nil {
		return keys.Address{}, fmt.Errorf("%q is not an inf1... address, and as a key name: %v", s, ka.explain(err, s))
	}
	return info.Address, nil
}

func newGenesisAddAccountCmd(a *genesisArgs) *cobra.Command {
	return &cobra.Command{
		Use:   "add-account ADDRESS|KEY AMOUNT",
		Short: "Add an account with a balance (AMOUNT in uinf, or e.g. 1000inf)",
		Args:  exactArgs("ADDRESS|KEY", "AMOUNT"),
		RunE: func(_ *cobra.Command, args []string) error {
			amt, err := parseAmount(args[1])
			if err != nil {
				return usageError{err}
			}
			addr, err := a.resolveAddress(args[0])
			if err != nil {
				return err
			}
			g, p, err := a.load()
			if err != nil {
				return err
			}
			for _, acc := range g.Accounts {
				if acc.Address == addr {
					return fmt.Errorf("%s already has an account in %s; edit its balance there instead", addr, p)
				}
			}
			g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: addr, Balance: amt})
			if err := a.save(g, p); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "added account %s with %s to %s\n", addr, formatAmount(amt), p)
			return nil
		},
	}
}

type addValidatorArgs struct {
	operator, consPubKey, keyFile, moniker, selfBond, commission string
}

func newGenesisAddValidatorCmd(a *genesisArgs) *cobra.Command {
	v := &addValidatorArgs{}
	c := &cobra.Command{
		Use:   "add-validator --operator ADDRESS|KEY (--cons-pubkey HEX | --validator-key FILE) --moniker NAME --self-bond AMOUNT",
		Short: "Add a validator with its self-bond (the gentx step of a multi-validator network)",
		Long: `Add a validator to the genesis. Each prospective validator runs 'inferd init'
on their own machine and sends the coordinator their operator address and the
pub_key of config/priv_validator_key.json (or the file itself: only the public
key is read). The self-bond is created at genesis on top of account balances.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runAddValidator(a, v) },
	}
	f := c.Flags()
	f.StringVar(&v.operator, "operator", "", "operator address or key name (required)")
	f.StringVar(&v.consPubKey, "cons-pubkey", "", "consensus public key, 64 hex characters")
	f.StringVar(&v.keyFile, "validator-key", "", "a priv_validator_key.json to take the public key from")
	f.StringVar(&v.moniker, "moniker", "", "validator name (required)")
	f.StringVar(&v.selfBond, "self-bond", "10000inf", "self-bond")
	f.StringVar(&v.commission, "commission", "10%", "commission")
	return c
}

func runAddValidator(a *genesisArgs, v *addValidatorArgs) error {
	if v.operator == "" || v.moniker == "" {
		return usagef("--operator and --moniker are required")
	}
	if (v.consPubKey == "") == (v.keyFile == "") {
		return usagef("give exactly one of --cons-pubkey HEX or --validator-key FILE")
	}
	var pub []byte
	if v.keyFile != "" {
		priv, err := node.LoadKeyFile(v.keyFile)
		if err != nil {
			return err
		}
		pub = priv.Public().(keys.PubKey)
	} else {
		b, err := hex.DecodeString(v.consPubKey)
		if err != nil || len(b) != 32 {
			return usagef("--cons-pubkey: want 64 hex characters (a 32-byte ed25519 key)")
		}
		pub = b
	}
	bond, err := parseAmount(v.selfBond)
	if err != nil {
		return usagef("--self-bond: %v", err)
	}
	comm, err := parsePPM(v.commission)
	if err != nil {
		return usagef("--commission: %v", err)
	}
	op, err := a.resolveAddress(v.operator)
	if err != nil {
		return err
	}
	g, p, err := a.load()
	if err != nil {
		return err
	}
	g.Validators = append(g.Validators, ledger.GenesisValidator{Operator: op, ConsPubKey: pub, Moniker: v.moniker, SelfBond: bond, Commission: comm})
	if err := a.save(g, p); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added validator %s (operator %s, self-bond %s) to %s\n", v.moniker, op, formatAmount(bond), p)
	return nil
}

func newGenesisValidateCmd(a *genesisArgs) *cobra.Command {
	return &cobra.Command{
		Use:   "validate [FILE]",
		Short: "Check a genesis file; errors name the offending field",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 {
				a.file = args[0]
			}
			g, p, err := a.load()
			if err != nil {
				return err
			}
			if err := chain.ValidateGenesis(g); err != nil {
				return fmt.Errorf("%s: %v", p, err)
			}
			var supply uint64
			for _, acc := range g.Accounts {
				supply += acc.Balance
			}
			for _, v := range g.Validators {
				supply += v.SelfBond
			}
			fmt.Fprintf(stdout, "%s is valid: chain %s, %d accounts, %d validators, initial supply %s\n", p, g.ChainID, len(g.Accounts), len(g.Validators), formatAmount(supply))
			return nil
		},
	}
}

// exactArgs requires the named positional arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return argCountError(c, len(args), fmt.Sprintf("%s %s", countWord(len(names)), strings.Join(names, " ")))
		}
		return nil
	}
}

// maxArgs allows at most n positional arguments, described by names.
func maxArgs(n int, names string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > n {
			return argCountError(c, len(args), fmt.Sprintf("at most %s %s", countWord(n), names))
		}
		return nil
	}
}

func countWord(n int) string {
	switch n {
	case 0:
		return "no arguments"
	case 1:
		return "1 argument,"
	}
	return fmt.Sprintf("%d arguments,", n)
}

// argCountError says what the command takes, what it got, and its usage
// line, the same words as --help.
func argCountError(c *cobra.Command, got int, takes string) error {
	return usagef("'%s' takes %s; got %d (usage: %s; see '%s --help')", c.CommandPath(), strings.TrimSuffix(strings.TrimSpace(takes), ","), got, c.UseLine(), c.CommandPath())
}
