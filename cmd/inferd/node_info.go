package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/content"
	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/node"
)

func init() {
	register(newShowNodeIDCmd)
	register(newShowValidatorCmd)
	register(newUnsafeResetAllCmd)
	register(newIDCmd)
	register(newSwarmCmd)
}

func homeFlag(c *cobra.Command, home *string) {
	c.Flags().StringVar(home, "home", "", "home directory (default $"+envHome+", else $HOME/.inferd)")
}

func newShowNodeIDCmd() *cobra.Command {
	var home string
	c := &cobra.Command{
		Use:   "show-node-id [--home DIR]",
		Short: "Print this home's libp2p peer id (from config/node_key.json; no node needed)",
		Args:  exactArgs(),
		RunE: func(*cobra.Command, []string) error {
			h, err := keysHome(home)
			if err != nil {
				return err
			}
			priv, err := node.LoadKeyFile(filepath.Join(h, node.NodeKeyFile))
			if err != nil {
				return fmt.Errorf("node key: %v (run 'inferd init --home %s' first)", err, h)
			}
			pid, err := node.PeerIDOf(priv)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, pid)
			return nil
		},
	}
	homeFlag(c, &home)
	return c
}

// validatorKeyView is what show-validator prints: the consensus address and
// the public key as genesis add-validator --cons-pubkey takes it.
type validatorKeyView struct {
	Address keys.Address `json:"address"`
	PubKey  string       `json:"pub_key"`
}

func newShowValidatorCmd() *cobra.Command {
	var home, output string
	c := &cobra.Command{
		Use:   "show-validator [--home DIR] [-o json|text]",
		Short: "Print this home's consensus key: address and public key (from config/priv_validator_key.json)",
		Args:  exactArgs(),
		RunE: func(*cobra.Command, []string) error {
			h, err := keysHome(home)
			if err != nil {
				return err
			}
			priv, err := node.LoadKeyFile(filepath.Join(h, node.ValidatorKeyFile))
			if err != nil {
				return fmt.Errorf("validator key: %v (run 'inferd init --home %s' first)", err, h)
			}
			pub := priv.Public().(keys.PubKey)
			v := validatorKeyView{Address: keys.AddressOf(pub), PubKey: fmt.Sprintf("%x", []byte(pub))}
			switch output {
			case "json":
				return printJSON(v)
			case "text", "table":
				fmt.Fprintf(stdout, "address: %s\npub_key: %s\n", v.Address, v.PubKey)
				return nil
			}
			return usagef("-o %q: want json or text", output)
		},
	}
	homeFlag(c, &home)
	c.Flags().StringVarP(&output, "output", "o", "json", "output format: json or text (or table)")
	return c
}

func newUnsafeResetAllCmd() *cobra.Command {
	var home string
	var withContent bool
	c := &cobra.Command{
		Use:   "unsafe-reset-all [--home DIR] [--content]",
		Short: "Delete the chain data of a stopped node (state, blocks, WAL); keeps config, keys and content",
		Long: `Delete <home>/data: the ledger state, the blocks, the consensus WAL and the
validator sets, so that the node syncs the chain again from its genesis. The
configuration, the genesis, the node and validator keys and the keyring are
kept; so are models and datasets (data/content) unless --content.

Unsafe for a validator: the WAL is what keeps it from signing twice at a
height it already signed; after a reset, do not run it until the network is
past the height it last signed. Refused while the node runs.`,
		Args: exactArgs(),
		RunE: func(*cobra.Command, []string) error {
			h, err := keysHome(home)
			if err != nil {
				return err
			}
			if _, err := os.Stat(filepath.Join(h, node.ConfigFile)); err != nil {
				return fmt.Errorf("%s is not a node home (no %s); check --home", h, node.ConfigFile)
			}
			// A running node holds the content store's lock.
			if s, err := content.Open(filepath.Join(h, content.Dir)); errors.Is(err, content.ErrLocked) {
				return fmt.Errorf("the node of %s is running; stop it first", h)
			} else if err == nil {
				s.Close()
			}
			data := filepath.Join(h, node.DataDir)
			entries, err := os.ReadDir(data)
			if err != nil && !os.IsNotExist(err) {
				return err
			}
			var removed []string
			for _, e := range entries {
				p := filepath.Join(node.DataDir, e.Name())
				if p == filepath.Clean(content.Dir) && !withContent {
					continue
				}
				if err := os.RemoveAll(filepath.Join(h, p)); err != nil {
					return err
				}
				removed = append(removed, p)
			}
			if len(removed) == 0 {
				fmt.Fprintf(stdout, "nothing to remove in %s\n", data)
				return nil
			}
			fmt.Fprintf(stdout, "removed from %s: %v\n", h, removed)
			if _, err := os.Stat(filepath.Join(h, node.ValidatorKeyFile)); err == nil {
				fmt.Fprintln(stderr, "warning: the consensus WAL is gone; if this node is a validator, start it only once the network is past the height it last signed")
			}
			return nil
		},
	}
	homeFlag(c, &home)
	c.Flags().BoolVar(&withContent, "content", false, "also delete data/content (models and datasets, pins included)")
	return c
}

func newIDCmd() *cobra.Command {
	a := &nodeArgs{}
	c := &cobra.Command{
		Use:   "id",
		Short: "Show the running node's peer id, addresses and protocols (as ipfs id)",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			id, err := cl.NetID(c.Context())
			if err != nil {
				return err
			}
			return a.print(id, func(w *tabwriter.Writer) {
				kv(w, "id", id.ID, "agent", id.Agent)
				for _, ad := range id.Addrs {
					kv(w, "address", ad)
				}
				for _, p := range id.Protocols {
					kv(w, "protocol", p)
				}
			})
		},
	}
	addNodeFlags(c, a, false)
	return c
}

func newSwarmCmd() *cobra.Command {
	a := &nodeArgs{}
	c := &cobra.Command{Use: "swarm", Short: "Show the running node's libp2p connections (as ipfs swarm)", Args: groupArgs, RunE: groupHelp}
	addNodeFlags(c, a, false)
	c.AddCommand(&cobra.Command{
		Use:   "peers",
		Short: "List connected peers, one ADDR/p2p/ID per line",
		Args:  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			r, err := cl.NetPeers(c.Context())
			if err != nil {
				return err
			}
			return a.print(r, func(w *tabwriter.Writer) {
				for _, p := range r.Peers {
					fmt.Fprintf(w, "%s/p2p/%s\t%s\n", p.Addr, p.ID, p.Direction)
				}
			})
		},
	})
	return c
}
