// Command benchnet measures a local network: N validator processes on
// 127.0.0.1 (the inferd binary given by -bin), the empty-block interval,
// committed signed transfers per second under an open-loop load at rising
// rates, submit-to-commit latency, and each node's RSS and CPU. It prints
// a Markdown report. Run it with `make bench-net`.
//
// With -mode idle it measures only what the validators spend with no
// transactions, for each of three consensus settings (empty blocks off;
// commit_delay 0; the defaults): `make bench-idle`.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/ledger"
	"github.com/inferd/inferd/ledger/bank"
	"github.com/inferd/inferd/node"
	"github.com/inferd/inferd/node/api"
)

var (
	bin        = flag.String("bin", "bin/inferd", "inferd binary")
	validators = flag.Int("validators", 4, "validators")
	duration   = flag.Duration("duration", 10*time.Second, "load duration per rate")
	idle       = flag.Duration("idle", 10*time.Second, "idle sampling duration")
	ratesFlag  = flag.String("rates", "250,500,1000,2000,3000,4000", "offered loads, tx/s")
	nAccounts  = flag.Int("accounts", 2000, "funded sender accounts")
	clients    = flag.Int("clients", 8, "concurrent submitting clients")
	basePort   = flag.Int("base-port", 28600, "first port")
	mode       = flag.String("mode", "load", "load: empty-block interval and rising load; idle: idle CPU per node for each setting")
	window     = flag.Duration("window", 30*time.Second, "-mode idle: CPU sampling window per setting")
	settle     = flag.Duration("settle", 5*time.Second, "-mode idle: wait after the first block before sampling")
	cpuProfile = flag.String("cpuprofile", "", "directory for a CPU profile of node 0 per setting (INFERD_CPUPROFILE): load-<commit_delay>.pprof, or per idle setting")
	tail       = flag.Duration("tail", 3*time.Second, "-mode load: wait after each rate's sending window for the last txs to commit (latency counts them; committed tx/s does not)")
	delaysFlag = flag.String("delays", "0,1s", "-mode load: the commit_delay settings to run, in order")
)

type sender struct {
	priv  keys.PrivKey
	nonce uint64
}

func main() {
	flag.Parse()
	switch *mode {
	case "load":
	case "idle":
		runIdle()
		return
	default:
		fatal("bad -mode %q: want load or idle", *mode)
	}
	var rates []int
	for _, s := range strings.Split(*ratesFlag, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r <= 0 {
			fatal("bad -rates %q", *ratesFlag)
		}
		rates = append(rates, r)
	}
	var delays []time.Duration
	for _, s := range strings.Split(*delaysFlag, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 {
			fatal("bad -delays %q: want durations such as 0,1s", *delaysFlag)
		}
		delays = append(delays, d)
	}
	fmt.Printf("# bench-net: %d validators on 127.0.0.1, %s, %d CPUs\n\n", *validators, time.Now().UTC().Format("2006-01-02"), numCPU())
	for _, d := range delays {
		name := "commit_delay " + d.String()
		if d == time.Second {
			name += " (default)"
		}
		run(name, d, rates)
	}
}

// started holds the node processes of the current run, stopped by fatal.
var started []*exec.Cmd

func fatal(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "benchnet: "+f+"\n", a...)
	for _, p := range started {
		p.Process.Signal(syscall.SIGTERM)
	}
	os.Exit(1)
}

func run(name string, delay time.Duration, rates []int) {
	dir, err := os.MkdirTemp("", "benchnet")
	if err != nil {
		fatal("%v", err)
	}
	defer os.RemoveAll(dir)
	senders := make([]*sender, *nAccounts)
	for i := range senders {
		_, priv, _ := keys.Generate(rand.Reader)
		senders[i] = &sender{priv: priv}
	}
	info, err := node.CreateDevnet(dir, node.DevnetOptions{
		Validators: *validators, BasePort: *basePort, AddKey: devnetKeyring(dir),
		Genesis: func(g *ledger.Genesis) {
			for _, s := range senders {
				g.Accounts = append(g.Accounts, ledger.GenesisAccount{Address: keys.AddressOf(s.priv.Public().(keys.PubKey)), Balance: 1_000_000 * ledger.UinfPerINF})
			}
		},
	})
	if err != nil {
		fatal("%v", err)
	}
	for _, nd := range info.Nodes {
		c, err := node.LoadConfig(nd.Home)
		if err != nil {
			fatal("%v", err)
		}
		c.Consensus.CommitDelay = node.Duration{Duration: delay}
		c.LogLevel = "warn"
		c.Mempool.MaxTxs = 50_000
		node.SaveConfig(nd.Home, c)
	}
	var procs []*exec.Cmd
	for i, nd := range info.Nodes {
		logf, _ := os.Create(filepath.Join(nd.Home, "node.log"))
		cmd := exec.Command(*bin, "run", "--home", nd.Home)
		if i == 0 && *cpuProfile != "" {
			os.MkdirAll(*cpuProfile, 0o755)
			cmd.Env = append(os.Environ(), "INFERD_CPUPROFILE="+filepath.Join(*cpuProfile, "load-"+delay.String()+".pprof"))
		}
		cmd.Stdout, cmd.Stderr = logf, logf
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
	var cls []*api.Client
	for _, nd := range info.Nodes {
		c, _ := api.NewClient(nd.API)
		cls = append(cls, c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waitHeight(ctx, cls[0], 3)

	// Commits as seen by node 0, timestamped on arrival.
	var mu sync.Mutex
	var commits []time.Time
	committedAt := map[string]time.Time{}
	go cls[0].SubscribeBlocks(ctx, func(b api.BlockView) bool {
		now := time.Now()
		mu.Lock()
		commits = append(commits, now)
		for _, h := range b.Txs {
			committedAt[string(h)] = now
		}
		mu.Unlock()
		return true
	})

	fmt.Printf("## %s\n\n", name)
	cpu0 := cpuTimes(procs)
	t0 := time.Now()
	time.Sleep(*idle)
	mu.Lock()
	var ivs []time.Duration
	for i := 1; i < len(commits); i++ {
		if commits[i].After(t0) {
			ivs = append(ivs, commits[i].Sub(commits[i-1]))
		}
	}
	mu.Unlock()
	rss, cpu := usage(procs, cpu0, time.Since(t0))
	fmt.Printf("Empty blocks: %d in %v, interval median %v, p99 %v. Idle per node: RSS %s, CPU %s.\n\n", len(ivs), idle.String(), pct(ivs, 0.5), pct(ivs, 0.99), rss, cpu)

	fmt.Printf("| offered tx/s | committed tx/s | latency median | latency p99 | refused by the API | accepted, not committed | RSS per node | CPU per node |\n|---:|---:|---:|---:|---:|---:|---|---|\n")
	next := 0
	for _, rate := range rates {
		n := int(float64(rate) * duration.Seconds())
		raws := make([][]byte, n)
		for i := range raws {
			s := senders[next%len(senders)]
			next++
			to := keys.AddressOf(senders[next%len(senders)].priv.Public().(keys.PubKey))
			_, raws[i] = ledger.SignTx(info.ChainID, s.priv, s.nonce, 1000, "", ledger.NewMsg(bank.MsgTypeSend, bank.MsgSend{To: to, Amount: 1}))
			s.nonce++
		}
		submitted := make([]time.Time, n)
		hashes := make([]string, n)
		refused := make([]bool, n)
		cpuA := cpuTimes(procs)
		start := time.Now()
		var wg sync.WaitGroup
		for c := 0; c < *clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				for i := c; i < n; i += *clients {
					at := start.Add(time.Duration(float64(i) / float64(rate) * float64(time.Second)))
					time.Sleep(time.Until(at))
					h := ledger.HashTx(raws[i])
					hashes[i] = string(h[:])
					submitted[i] = time.Now()
					sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
					if _, err := cls[i%len(cls)].SubmitTx(sctx, raws[i]); err != nil {
						refused[i] = true
					}
					scancel()
				}
			}(c)
		}
		wg.Wait()
		sent := time.Since(start)
		time.Sleep(*tail) // let the tail commit
		rss, cpu := usage(procs, cpuA, time.Since(start))
		mu.Lock()
		var lat []time.Duration
		var within, nRefused, lost int
		end := start.Add(sent)
		for i, h := range hashes {
			if refused[i] {
				nRefused++
			}
			at, ok := committedAt[h]
			if !ok && !refused[i] {
				lost++
			}
			if ok {
				lat = append(lat, at.Sub(submitted[i]))
				if !at.After(end) {
					within++
				}
			}
		}
		mu.Unlock()
		fmt.Printf("| %d | %.0f | %v | %v | %d | %d | %s | %s |\n", rate, float64(within)/sent.Seconds(), pct(lat, 0.5), pct(lat, 0.99), nRefused, lost, rss, cpu)
		waitDrain(cls[0])
	}
	fmt.Println()
}

func waitHeight(ctx context.Context, c *api.Client, h uint64) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := c.Status(ctx); err == nil && st.Height >= h {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fatal("the network did not reach height %d", h)
}

// waitDrain gives the mempools a few seconds to empty between rates.
func waitDrain(c *api.Client) { time.Sleep(2 * time.Second) }

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(p*float64(len(s)-1))].Round(time.Millisecond)
}

func numCPU() int {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(raw), "processor\t:")
}

// cpuTimes returns utime+stime (clock ticks) of each process.
func cpuTimes(procs []*exec.Cmd) []int64 {
	out := make([]int64, len(procs))
	for i, p := range procs {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Process.Pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[i] = ut + st
	}
	return out
}

// usage is the mean RSS and CPU share of the processes since before.
func usage(procs []*exec.Cmd, before []int64, over time.Duration) (string, string) {
	after := cpuTimes(procs)
	var rss, ticks int64
	for i, p := range procs {
		raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Process.Pid))
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
				rss += kb
			}
		}
		ticks += after[i] - before[i]
	}
	n := int64(len(procs))
	cpu := float64(ticks) / 100 / over.Seconds() / float64(n) * 100 // USER_HZ = 100
	return fmt.Sprintf("%d MiB", rss/n/1024), fmt.Sprintf("%.0f%%", cpu)
}
