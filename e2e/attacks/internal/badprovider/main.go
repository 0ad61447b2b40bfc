// Command badprovider is a test-only adversarial compute provider for the
// attack suite (e2e/attacks): a full node, like `inferd run`, whose only
// agent is compute/agent's provider with a backend that does no work. It
// claims the challenge's operations with a product of zeros: it commits
// the Merkle root of what it "computed" and opens the selected rows with
// valid proofs, so the only thing wrong is the values (fake FLOPs).
//
// With --mode wrong-result it computes its challenges honestly and runs
// its jobs, but reports for each job a plausible wrong output: the CID of
// other bytes (a lazy provider that makes up a result).
//
//	badprovider --home H --keyring DIR --key NAME [--mode zeros|wrong-result]
//
// The node's config (API, p2p, bootstrap peers) is read from H as usual.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/inferd/inferd/agent"
	computeagent "github.com/inferd/inferd/compute/agent"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/node"
)

// zeros is a matmul.Backend that skips the product: every entry 0.
type zeros struct{}

func (zeros) Name() string { return "zeros" }

func (zeros) MatMul(a []int8, m int, b []int8, n int, c []int32) {
	if len(a) != m*n || len(b) != n*n || len(c) != m*n {
		panic("zeros: bad sizes")
	}
	clear(c)
}

func main() {
	home := flag.String("home", "", "node home")
	kh := flag.String("keyring", "", "test keyring directory")
	key := flag.String("key", "", "the provider's key")
	mode := flag.String("mode", "zeros", "zeros (zero challenge product) or wrong-result (honest challenges, made-up job results)")
	flag.Parse()
	var cfg computeagent.ProviderConfig
	switch *mode {
	case "zeros":
		cfg.Backend = zeros{}
	case "wrong-result":
		cfg.Result = wrongResult
	default:
		fmt.Fprintln(os.Stderr, "badprovider: unknown --mode", *mode)
		os.Exit(2)
	}
	if err := run(*home, *kh, *key, *mode, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "badprovider:", err)
		os.Exit(1)
	}
}

func run(home, kh, key, mode string, cfg computeagent.ProviderConfig) error {
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
		return computeagent.NewProvider(h, cfg).Run(ctx)
	}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := n.Start(ctx)
	if err != nil {
		return err
	}
	log.Info("badprovider: started", "mode", mode, "key", key)
	return r.Wait(ctx)
}

// wrongResult is a well-formed CID that is not the job's output: the
// sha2-256 of other bytes (the real CID with a suffix), raw codec.
func wrongResult(job uint64, result string) string {
	h, err := multihash.Sum([]byte(result+"/made-up"), multihash.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, h).String()
}
