package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/node/api"
)

// Environment and defaults of the commands that talk to a node.
const (
	envNode     = "INFERD_NODE"
	envAPIToken = "INFERD_API_TOKEN"
	defaultNode = "http://127.0.0.1:26657"
)

// nodeArgs are the flags shared by status, query and tx.
type nodeArgs struct {
	node   string // --node; "" means $INFERD_NODE, else defaultNode
	token  string // --api-token; "" means $INFERD_API_TOKEN
	output string // -o; "" means table on a terminal, else json
	height string // --height (queries only); "" means latest
	// --home and --keyring-backend (queries only): where key names given
	// for addresses are looked up.
	keyHome, keyBackend string
}

func addNodeFlags(c *cobra.Command, a *nodeArgs, withHeight bool) {
	pf := c.PersistentFlags()
	pf.StringVar(&a.node, "node", "", "URL of the node's API (default $"+envNode+", else "+defaultNode+")")
	addTokenFlag(pf.StringVar, &a.token)
	pf.StringVarP(&a.output, "output", "o", "", "output format: table (or text) or json (default table on a terminal, else json)")
	if withHeight {
		pf.StringVar(&a.height, "height", "", "query the state at this height (default: latest)")
		pf.StringVar(&a.keyHome, "home", "", "home directory with the keyring, for key names given as addresses, and whose config/genesis.json --prove trusts (default $"+envHome+", else $HOME/.inferd)")
		pf.StringVar(&a.keyBackend, "keyring-backend", string(keystore.BackendFile), "keyring backend for key names: file or test")
	}
}

// client checks the shared flags and returns a client of the node.
func (a *nodeArgs) client() (*api.Client, error) {
	if _, err := a.format(); err != nil {
		return nil, err
	}
	u := a.node
	if u == "" {
		u = os.Getenv(envNode)
	}
	if u == "" {
		u = defaultNode
	}
	return newClient(u, a.token)
}

// addTokenFlag adds --api-token: the bearer token a node's write endpoints
// need when its API listens beyond loopback. stringVar is a flag set's
// StringVar (persistent or local flags).
func addTokenFlag(stringVar func(p *string, name, value, usage string), token *string) {
	stringVar(token, "api-token", "", "the node's API token, for endpoints that write to it (default $"+envAPIToken+")")
}

// newClient is a client of the node at url sending token (else
// $INFERD_API_TOKEN, else none).
func newClient(url, token string) (*api.Client, error) {
	c, err := api.NewClient(url)
	if err != nil {
		return nil, usagef("--node: %v", err)
	}
	if token == "" {
		token = strings.TrimSpace(os.Getenv(envAPIToken))
	}
	c.Token = token
	return c, nil
}

// format resolves -o.
func (a *nodeArgs) format() (string, error) {
	switch a.output {
	case "table", "json":
		return a.output, nil
	case "text": // the keys commands' word for it
		return "table", nil
	case "":
		if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return "table", nil
		}
		return "json", nil
	}
	return "", usagef("-o %q: want table (or text) or json", a.output)
}

func (a *nodeArgs) json() bool { f, _ := a.format(); return f == "json" }

// at resolves --height to a query height (api.Latest when not given).
// connectAt resolves --height, then the node's client: the start of every
// height-aware query.
func (a *nodeArgs) connectAt() (*api.Client, uint64, error) {
	h, err := a.at()
	if err != nil {
		return nil, 0, err
	}
	cl, err := a.client()
	return cl, h, err
}

func (a *nodeArgs) at() (uint64, error) {
	if a.height == "" || a.height == "latest" {
		return api.Latest, nil
	}
	h, err := strconv.ParseUint(a.height, 10, 64)
	if err != nil {
		return 0, usagef("--height %q: want a block height (a non-negative integer) or latest", a.height)
	}
	return h, nil
}

// addr parses an inf1... address argument, or the name of a key in the
// keyring of --home.
func (a *nodeArgs) addr(what, s string) (keys.Address, error) {
	if addr, err := keys.ParseAddress(s); err == nil || strings.HasPrefix(s, "inf1") {
		if err != nil {
			return addr, usagef("%s: %v", what, err)
		}
		return addr, nil
	}
	addr, err := (&genesisArgs{home: a.keyHome, backend: a.keyBackend}).resolveAddress(s)
	if err != nil {
		return addr, fmt.Errorf("%s: %w", what, err)
	}
	return addr, nil
}

func printJSON(v any) error {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// output prints v as JSON, or calls table with a tab writer.
func (a *nodeArgs) print(v any, table func(w *tabwriter.Writer)) error {
	if a.json() {
		return printJSON(v)
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// kv prints "key:<tab>value" lines.
func kv(w *tabwriter.Writer, pairs ...any) {
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(w, "%v:\t%v\n", pairs[i], pairs[i+1])
	}
}

// fmtTime renders unix nanoseconds (0: "-").
func fmtTime(ns int64) string {
	if ns == 0 {
		return "-"
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339)
}

func fmtPPM(p uint64) string {
	s := strconv.FormatFloat(float64(p)/10_000, 'f', 4, 64)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".") + "%"
}
