package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/inferd/inferd/node"
)

func init() { register(newConfigCmd) }

func newConfigCmd() *cobra.Command {
	var home, output string
	c := &cobra.Command{
		Use:   "config show|set",
		Short: "Show or change settings of config/config.toml",
		Long: `Show or change the settings of <home>/config/config.toml by dotted name, e.g.
api.address or p2p.bootstrap_peers. Changes take effect at the node's next
start. Valid settings:
  ` + strings.Join(node.ConfigKeys(), "\n  "),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return usagef("say what to do: inferd config show [KEY] or inferd config set KEY VALUE (see 'inferd config --help')")
		},
	}
	c.PersistentFlags().StringVar(&home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
	show := &cobra.Command{
		Use:   "show [KEY]",
		Short: "Print the whole configuration (defaults included), or one setting's value",
		Args:  maxArgs(1, "[KEY]"),
		RunE: func(_ *cobra.Command, args []string) error {
			return runConfigShow(home, output, args)
		},
	}
	show.Flags().StringVarP(&output, "output", "o", "toml", "output format: toml or json")
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change one setting (checked first; the file's comments are kept)",
		Long: `Change one setting of config.toml. The value is checked, and the whole
configuration with it, before the file is written. Lists take comma-separated
values (an empty string for none); durations take e.g. 500ms or 2s; booleans
true or false. Example:
  inferd config set p2p.bootstrap_peers /ip4/10.0.0.1/tcp/26656/p2p/12D3KooW...`,
		Args: exactArgs("KEY", "VALUE"),
		RunE: func(_ *cobra.Command, args []string) error { return runConfigSet(home, args[0], args[1]) },
	}
	c.AddCommand(show, set)
	return c
}

func configHome(flag string) (string, error) {
	home, err := keysHome(flag)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(home, node.ConfigFile)); err != nil {
		return "", fmt.Errorf("no %s (run 'inferd init --home %s' first, or pass --home)", filepath.Join(home, node.ConfigFile), home)
	}
	return home, nil
}

func runConfigShow(homeFlag, output string, args []string) error {
	if output != "toml" && output != "json" {
		return usagef("-o %q: want toml or json", output)
	}
	home, err := configHome(homeFlag)
	if err != nil {
		return err
	}
	cfg, err := node.ReadConfig(home)
	if err != nil {
		return err
	}
	if len(args) == 1 {
		v, err := cfg.Get(args[0])
		if errors.Is(err, node.ErrUnknownSetting) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		if output == "json" {
			return printJSON(map[string]string{args[0]: v})
		}
		fmt.Fprintln(stdout, v)
		return nil
	}
	if output == "json" {
		m := map[string]string{}
		for _, k := range node.ConfigKeys() {
			m[k], _ = cfg.Get(k)
		}
		return printJSON(m)
	}
	fmt.Fprintf(stdout, "# %s (unset settings show their defaults)\n", filepath.Join(home, node.ConfigFile))
	return toml.NewEncoder(stdout).Encode(cfg)
}

func runConfigSet(homeFlag, key, value string) error {
	home, err := configHome(homeFlag)
	if err != nil {
		return err
	}
	v, err := node.SetConfig(home, key, value)
	if errors.Is(err, node.ErrUnknownSetting) {
		return usageError{err}
	}
	if err != nil {
		return usagef("%v; %s is unchanged", err, filepath.Join(home, node.ConfigFile))
	}
	fmt.Fprintf(stdout, "%s = %s in %s (takes effect when the node next starts)\n", key, v, filepath.Join(home, node.ConfigFile))
	return nil
}
