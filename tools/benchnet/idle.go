package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

// idleSetting is one configuration whose idle cost -mode idle measures.
type idleSetting struct {
	name        string
	file        string // for -cpuprofile
	delay       time.Duration
	emptyBlocks bool
	interval    time.Duration // create_empty_blocks_interval (0: none)
}

var idleSettings = []idleSetting{
	{"create_empty_blocks = false, commit_delay 0", "empty-off", 0, false, 0},
	{"create_empty_blocks = true, commit_delay 0", "delay-0", 0, true, 0},
	// Empty blocks paced, transactions still committed at once.
	{"create_empty_blocks_interval = 100ms, commit_delay 0", "interval-100ms", 0, true, 100 * time.Millisecond},
	{"defaults (create_empty_blocks = true, commit_delay 1s)", "default", time.Second, true, 0},
}

// runIdle measures, for each setting, the CPU that each of the validators
// spends with no transactions: utime+stime from /proc/PID/stat over the
// window, after the network has committed its first block and settled.
func runIdle() {
	fmt.Printf("# bench-idle: %d validators on 127.0.0.1, %s, %d CPUs, window %v after %v settling\n\n",
		*validators, time.Now().UTC().Format("2006-01-02 15:04 MST"), numCPU(), *window, *settle)
	fmt.Printf("| setting | blocks in window | CPU per node, mean | CPU per node, max | RSS per node |\n|---|---:|---:|---:|---:|\n")
	for _, s := range idleSettings {
		measureIdle(s)
	}
	fmt.Println()
	fmt.Println("CPU is a share of one core (100% = one core busy); the load average was", loadAvg(), "at the end.")
}

func measureIdle(s idleSetting) {
	dir, err := os.MkdirTemp("", "benchidle")
	if err != nil {
		fatal("%v", err)
	}
	defer os.RemoveAll(dir)
	info, err := node.CreateDevnet(dir, node.DevnetOptions{
		Validators: *validators, BasePort: *basePort, AddKey: devnetKeyring(dir),
	})
	if err != nil {
		fatal("%v", err)
	}
	for _, nd := range info.Nodes {
		c, err := node.LoadConfig(nd.Home)
		if err != nil {
			fatal("%v", err)
		}
		c.Consensus.CommitDelay = node.Duration{Duration: s.delay}
		c.Consensus.CreateEmptyBlocks = s.emptyBlocks
		c.Consensus.CreateEmptyBlocksInterval = node.Duration{Duration: s.interval}
		c.LogLevel = "warn"
		if err := node.SaveConfig(nd.Home, c); err != nil {
			fatal("%v", err)
		}
	}
	var procs []*exec.Cmd
	for i, nd := range info.Nodes {
		logf, _ := os.Create(filepath.Join(nd.Home, "node.log"))
		cmd := exec.Command(*bin, "run", "--home", nd.Home)
		cmd.Stdout, cmd.Stderr = logf, logf
		if i == 0 && *cpuProfile != "" {
			if err := os.MkdirAll(*cpuProfile, 0o755); err != nil {
				fatal("%v", err)
			}
			cmd.Env = append(os.Environ(), "INFERD_CPUPROFILE="+filepath.Join(*cpuProfile, s.file+".pprof"))
		}
		if err := cmd.Start(); err != nil {
			fatal("start: %v", err)
		}
		procs = append(procs, cmd)
	}
	started = procs
	defer func() {
		for _, p := range procs {
			p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			p.Wait()
		}
	}()
	cl, _ := api.NewClient(info.Nodes[0].API)
	ctx := context.Background()
	waitHeight(ctx, cl, 1)
	time.Sleep(*settle)
	h0 := height(ctx, cl)
	cpu0 := cpuTimes(procs)
	t0 := time.Now()
	time.Sleep(*window)
	cpu1 := cpuTimes(procs)
	over := time.Since(t0)
	h1 := height(ctx, cl)
	var sum, most float64
	var rss int64
	for i, p := range procs {
		share := float64(cpu1[i]-cpu0[i]) / 100 / over.Seconds() * 100 // USER_HZ = 100
		sum += share
		most = max(most, share)
		rss += rssKiB(p.Process.Pid)
	}
	n := float64(len(procs))
	fmt.Printf("| %s | %d | %.1f%% | %.1f%% | %d MiB |\n", s.name, h1-h0, sum/n, most, rss/int64(len(procs))/1024)
}

func height(ctx context.Context, c *api.Client) uint64 {
	st, err := c.Status(ctx)
	if err != nil {
		fatal("status: %v", err)
	}
	return st.Height
}

func rssKiB(pid int) int64 {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb int64
			fmt.Sscan(strings.Fields(line)[1], &kb)
			return kb
		}
	}
	return 0
}

func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(raw))[:3], " ")
}

// devnetKeyring makes the devnet's keys in a test keyring under dir, as
// `inferd devnet` does: each node's agents sign with its operator key.
func devnetKeyring(dir string) func(string) (keys.Address, error) {
	kr, err := keystore.Open(filepath.Join(dir, "keyring"), keystore.BackendTest)
	if err != nil {
		fatal("%v", err)
	}
	return func(name string) (keys.Address, error) {
		i, err := kr.Add(name, "")
		return i.Address, err
	}
}
