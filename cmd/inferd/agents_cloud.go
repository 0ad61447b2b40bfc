package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"

	"github.com/inferd/inferd/agent"
	computeagent "github.com/inferd/inferd/compute/agent"
	"github.com/inferd/inferd/compute/container"
	"github.com/inferd/inferd/compute/jobspec"
	ledgercompute "github.com/inferd/inferd/ledger/compute"
	"github.com/inferd/inferd/node"
)

// leaseHost is what the node's agent host adds for the cloud agents
// (node/cloud.go).
type leaseHost interface {
	computeagent.Files
	ServeLeases(node.LeaseTargets, node.JobLogs) (func(), error)
	ProbeLease(ctx context.Context, j ledgercompute.Job) (bool, error)
	PeerInfo() (id string, addrs []string)
}

// cloudAgents are the inference cloud's agents: every node with an agent
// key probes the leases it is asked to attest (as a validator); a
// provider also runs container jobs and leases, unless it opted out or
// has no container runtime (then it says so once and runs Wasm jobs only).
func cloudAgents(n *node.Node) []node.AgentFunc {
	out := []node.AgentFunc{func(ctx context.Context, h agent.Host) error {
		lh, ok := h.(leaseHost)
		if !ok {
			return nil
		}
		return computeagent.NewProber(h, lh.ProbeLease).Run(ctx)
	}}
	pc := n.Config.Provider
	if !pc.Enabled || pc.NoContainers {
		return out
	}
	var price uint64
	if pc.LeasePrice != "" && pc.LeasePrice != "0" {
		price, _ = jobspec.ParseAmount(pc.LeasePrice) // checked by Config.Validate
	}
	return append(out, func(ctx context.Context, h agent.Host) error {
		lh, ok := h.(leaseHost)
		if !ok {
			return nil
		}
		log := h.Logger().With("agent", "cloud-provider")
		dir := filepath.Join(n.Home, node.DataDir, "cloud")
		hostInfo, err := container.Detect(ctx)
		if err != nil {
			log.Warn("detect the machine's resources", "err", err)
		}
		cfg := container.Config{AllowNetwork: pc.AllowNetwork, Root: filepath.Join(dir, "storage"), RunRoot: runRoot(n.Home)}
		if slices.Contains(hostInfo.CDIDevices, "nvidia.com/gpu=all") {
			cfg.GPUDevices = []string{"nvidia.com/gpu=all"}
		}
		runner, err := container.New(cfg)
		if err != nil {
			log.Warn("container jobs disabled on this provider (Wasm jobs still run)", "err", err)
			return nil
		}
		res := computeagent.ResourcesOf(hostInfo, pc.AllowNetwork, pc.AllowRegistry, price)
		if len(cfg.GPUDevices) == 0 {
			res.GPUs = res.GPUs[:0] // no CDI spec: GPUs cannot reach containers
		}
		// Where lease clients dial this node (docs/cloud.md).
		res.PeerID, res.Addrs = lh.PeerInfo()
		cloud, err := computeagent.NewCloud(h, computeagent.CloudConfig{Runner: runner, Files: lh, WorkDir: filepath.Join(dir, "work"),
			AllowRegistry: pc.AllowRegistry, Resources: &res})
		if err != nil {
			return err
		}
		stop, err := lh.ServeLeases(cloud.Target, cloud.Logs)
		if err != nil {
			return err
		}
		defer stop()
		return cloud.Run(ctx)
	})
}

// runRoot is podman's state directory for this node's containers: short,
// as podman refuses a runroot over 50 characters, and one per home.
func runRoot(home string) string {
	sum := sha256.Sum256([]byte(home))
	return filepath.Join(os.TempDir(), "inferd-run-"+hex.EncodeToString(sum[:6]))
}
