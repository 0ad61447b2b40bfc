// Command lazyvalidator is a test-only lazy validator for the attack
// suite (e2e/attacks): a full node, like `inferd run`, with the compute
// verifier as usual but a contest agent that never fetches or evaluates a
// model. It attests, for every scored submission, a score it got without
// work (--score: say one published off-chain, or the median others
// revealed for the same model in an earlier round) and no model digest.
// Its values are right whenever the guess is; what it cannot know
// without fetching the model is the digest.
//
//	lazyvalidator --home H --keyring DIR --key NAME --score MICRO
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/inferd/inferd/agent"
	computeagent "github.com/inferd/inferd/compute/agent"
	contestagent "github.com/inferd/inferd/contest/agent"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/node"
)

func main() {
	home := flag.String("home", "", "node home")
	kh := flag.String("keyring", "", "test keyring directory")
	key := flag.String("key", "", "the validator operator's key")
	score := flag.Int64("score", 0, "the score attested for every submission (micro-units)")
	flag.Parse()
	if err := run(*home, *kh, *key, *score); err != nil {
		fmt.Fprintln(os.Stderr, "lazyvalidator:", err)
		os.Exit(1)
	}
}

func run(home, kh, key string, score int64) error {
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
	guess := func(_ contest.ContestDetail, r contest.RoundView) []contest.Score {
		out := make([]contest.Score, len(r.Scored))
		for i := range out {
			out[i] = contest.Score{Value: score}
		}
		log.Info("lazyvalidator: attesting without evaluating", "round", r.Round, "submissions", len(out), "score", score)
		return out
	}
	n.Agents = []node.AgentFunc{
		func(ctx context.Context, h agent.Host) error {
			a, err := contestagent.New(h, contestagent.Config{
				Dir:        filepath.Join(home, node.DataDir, "contest-agent"),
				Evaluators: contestagent.DefaultEvaluators,
				Scores:     guess,
			})
			if err != nil {
				return err
			}
			return a.Run(ctx)
		},
		func(ctx context.Context, h agent.Host) error {
			return computeagent.NewVerifier(h, computeagent.VerifierConfig{}).Run(ctx)
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := n.Start(ctx)
	if err != nil {
		return err
	}
	log.Info("lazyvalidator: started", "key", key, "score", score)
	return r.Wait(ctx)
}
