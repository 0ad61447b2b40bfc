package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/inferd/inferd/agent"
	computeagent "github.com/inferd/inferd/compute/agent"
	contestagent "github.com/inferd/inferd/contest/agent"
	"github.com/inferd/inferd/contest/eval"
	"github.com/inferd/inferd/ledger/contest"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/wasmrun"
)

// evaluatorLimits cap a contest's Wasm evaluator on this node: breaking
// one makes the validator abstain on that submission.
var evaluatorLimits = wasmrun.Limits{MemoryBytes: 512 << 20, Timeout: time.Minute, MaxOutput: 1 << 10}

// agentsFor picks the background agents of a node with an agent key:
// every such node evaluates contest submissions and checks compute
// challenges when its account is a validator operator (the agents look
// the role up in the ledger at each height, so a node that becomes a
// validator later starts attesting by itself); a provider
// (provider.enabled) also runs the provider agent.
func agentsFor(n *node.Node) ([]node.AgentFunc, error) {
	// The compute agents keep their pending reveals here, so that a
	// restart between commit and reveal costs neither slash nor credit.
	computeDir := filepath.Join(n.Home, node.DataDir, "compute-agent")
	out := []node.AgentFunc{
		func(ctx context.Context, h agent.Host) error {
			a, err := contestagent.New(h, contestagent.Config{
				Dir:        filepath.Join(n.Home, node.DataDir, "contest-agent"),
				Evaluators: evaluatorFor,
			})
			if err != nil {
				return err
			}
			return a.Run(ctx)
		},
		func(ctx context.Context, h agent.Host) error {
			return computeagent.NewVerifier(h, computeagent.VerifierConfig{Dir: filepath.Join(computeDir, "verifier-reveals")}).Run(ctx)
		},
	}
	if n.Config.Provider.Enabled {
		backend, err := computeagent.NewBackend(n.Config.Provider.Backend, runtime.GOMAXPROCS(0))
		if err != nil {
			return nil, err
		}
		out = append(out, func(ctx context.Context, h agent.Host) error {
			return computeagent.NewProvider(h, computeagent.ProviderConfig{Backend: backend, Dir: filepath.Join(computeDir, "provider-reveals")}).Run(ctx)
		})
	}
	return append(out, cloudAgents(n)...), nil
}

// evaluatorFor builds the evaluator a contest's spec names.
func evaluatorFor(e contest.Evaluator, wasm []byte) (contestagent.Evaluator, error) {
	if e.Builtin != "" {
		ev, ok := eval.Builtin(e.Builtin)
		if !ok {
			return nil, fmt.Errorf("no built-in evaluator %q in this binary (known: %v)", e.Builtin, eval.BuiltinNames())
		}
		return ev, nil
	}
	return eval.Wasm(wasm, evaluatorLimits)
}
