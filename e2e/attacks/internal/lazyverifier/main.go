// Command lazyverifier is a test-only adversarial validator for the attack
// suite (e2e/attacks): a full validator node, like `inferd run`, whose only
// agent is compute/agent's verifier with one change: it never re-executes
// a drawn job, it commits and reveals the provider's result as the ledger
// shows it instead. Since results are sealed until the re-execution commit
// window closes (ledger/compute/jobs_reveal.go) that is nothing: it commits
// a failure. Row attestations are the honest verifier's.
//
//	lazyverifier --home H --keyring DIR --key NAME
//
// The node's config (consensus key, API, p2p, peers) is read from H.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/inferd/inferd/agent"
	computeagent "github.com/inferd/inferd/compute/agent"
	"github.com/inferd/inferd/keys/keystore"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node"
)

func main() {
	home := flag.String("home", "", "node home")
	kh := flag.String("keyring", "", "test keyring directory")
	key := flag.String("key", "", "the validator operator's key")
	flag.Parse()
	if err := run(*home, *kh, *key); err != nil {
		fmt.Fprintln(os.Stderr, "lazyverifier:", err)
		os.Exit(1)
	}
}

// copyProvider is the lazy re-execution: the provider's result as shown on
// the ledger ("" while sealed, committed as a failure).
func copyProvider(j ledgercompute.Job) (string, bool) { return j.Result, true }

func run(home, kh, key string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	kr, err := keystore.Open(kh, keystore.BackendTest)
	if err != nil {
		return err
	}
	priv, err := kr.Unlock(key, "")
	if err != nil {
		return err
	}
	n, err := node.Open(home, log)
	if err != nil {
		return err
	}
	defer n.Close()
	n.AgentKey = priv
	n.Agents = []node.AgentFunc{func(ctx context.Context, h agent.Host) error {
		return computeagent.NewVerifier(h, computeagent.VerifierConfig{Reexec: copyProvider}).Run(ctx)
	}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := n.Start(ctx)
	if err != nil {
		return err
	}
	log.Info("lazyverifier: started", "key", key)
	return r.Wait(ctx)
}
