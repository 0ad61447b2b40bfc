package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/inferd/inferd/keys"
	"github.com/inferd/inferd/keys/keystore"
	"github.com/inferd/inferd/node"
)

func init() { register(newDevnetCmd) }

type devnetArgs struct {
	home        string
	validators  int
	basePort    int
	commitDelay time.Duration
	providers   int
	noDemo      bool
}

func newDevnetCmd() *cobra.Command {
	a := &devnetArgs{}
	c := &cobra.Command{
		Use:   "devnet [--validators 4] [--providers 1] [--no-demo] [--home DIR]",
		Short: "Run a local network: N validator processes on loopback",
		Long: `Create (on first use) and run a local network of N validators, each a separate
'inferd run' process on 127.0.0.1 with its own ports, plus a funded demo account
in an unencrypted test keyring. Prints each node's API URL and writes them to
DIR/devnet.json. Ctrl-C stops every node; running the command again with the
same --home resumes the same chain.

Unless --no-demo, the devnet also plays a demo on a new chain: the first
--providers nodes register as compute providers (so verified operations and a
demo job appear), and a demo contest is proposed, voted in, entered by a
demo builder, evaluated by the validators and paid, all within a few minutes.
The demo's progress is printed here.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runDevnet(a) },
	}
	f := c.Flags()
	f.StringVar(&a.home, "home", ".devnet", "directory holding the devnet")
	f.IntVar(&a.validators, "validators", 4, "number of validators (new devnets only)")
	f.IntVar(&a.basePort, "base-port", 26600, "node i uses ports base+10i (p2p) and base+10i+1 (API)")
	f.DurationVar(&a.commitDelay, "commit-delay", 0, "consensus.commit_delay of new devnets (0: the default)")
	f.IntVar(&a.providers, "providers", 1, "how many of the nodes also run the compute provider agent")
	f.BoolVar(&a.noDemo, "no-demo", false, "no demo contest, provider registration or demo job")
	return c
}

func runDevnet(a *devnetArgs) error {
	dir, err := filepath.Abs(a.home)
	if err != nil {
		return err
	}
	if a.providers < 0 {
		return usagef("--providers %d: want 0 or more", a.providers)
	}
	info, err := node.LoadDevnet(dir)
	fresh := false
	switch {
	case errors.Is(err, fs.ErrNotExist):
		kr, err := keystore.Open(filepath.Join(dir, "keyring"), keystore.BackendTest)
		if err != nil {
			return err
		}
		info, err = node.CreateDevnet(dir, node.DevnetOptions{
			Validators: a.validators, BasePort: a.basePort, CommitDelay: a.commitDelay,
			AddKey: func(name string) (keys.Address, error) {
				i, err := kr.Add(name, "")
				return i.Address, err
			},
		})
		if err != nil {
			return err
		}
		fresh = true
		fmt.Fprintf(stdout, "Created a devnet of %d validators in %s\n", len(info.Nodes), dir)
	case err != nil:
		return err
	default:
		fmt.Fprintf(stdout, "Resuming the devnet in %s\n", dir)
	}
	if a.providers > len(info.Nodes) {
		return usagef("--providers %d: the devnet has only %d nodes", a.providers, len(info.Nodes))
	}
	var demo *demoFiles
	if fresh && !a.noDemo {
		if demo, err = prepareDemo(context.Background(), dir, info, a.providers); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var procs []*nodeProc
	exited := make(chan int, len(info.Nodes))
	for i := range info.Nodes {
		nd := &info.Nodes[i]
		logf, err := os.OpenFile(filepath.Join(nd.Home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		args := []string{"run", "--home", nd.Home}
		if i < a.providers {
			// The lease price lets the demo's lease (devnet_cloud.go) land here.
			args = append(args, "--provider", "--provider.lease-price", fmt.Sprintf("%duinf", demoLeasePrice))
		}
		cmd := exec.Command(self, args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = nodeProcAttr() // Ctrl-C reaches us; we stop the nodes in order
		if err := cmd.Start(); err != nil {
			stopAll(procs)
			return fmt.Errorf("start %s: %v", nd.Moniker, err)
		}
		nd.PID = cmd.Process.Pid
		np := &nodeProc{cmd: cmd, done: make(chan struct{})}
		procs = append(procs, np)
		go func(i int) { cmd.Wait(); logf.Close(); close(np.done); exited <- i }(i)
	}
	if err := info.Save(dir); err != nil {
		stopAll(procs)
		return err
	}
	fmt.Fprintf(stdout, "chain id: %s\n", info.ChainID)
	for _, nd := range info.Nodes {
		fmt.Fprintf(stdout, "  %s  api %s  pid %d  log %s\n", nd.Moniker, nd.API, nd.PID, filepath.Join(nd.Home, "node.log"))
	}
	fmt.Fprintf(stdout, "demo account: key %q, address %s (keyring: --home %s --keyring-backend test)\n", info.DemoKey, info.DemoAddress, dir)
	fmt.Fprintf(stdout, "\nTry, in another terminal:\n  bin/inferd status --node %s\n  bin/inferd tx bank send %s 5inf --from demo --home %s --keyring-backend test --node %s\n  bin/inferd query supply --node %s\n  bin/inferd query contests --node %s\n  bin/inferd query providers --node %s\n\nCtrl-C stops every node.\n",
		info.Nodes[0].API, firstOther(info), dir, info.Nodes[0].API, info.Nodes[len(info.Nodes)-1].API, info.Nodes[0].API, info.Nodes[0].API)
	if demo != nil {
		go runDemo(ctx, dir, info, a.providers, demo)
	}
	alive := len(procs)
	for alive > 0 {
		select {
		case <-ctx.Done():
			fmt.Fprintln(stdout, "stopping the devnet...")
			stopAll(procs)
			return nil
		case i := <-exited:
			alive--
			fmt.Fprintf(stderr, "%s exited (see %s)\n", info.Nodes[i].Moniker, filepath.Join(info.Nodes[i].Home, "node.log"))
		}
	}
	return fmt.Errorf("every node exited; see the node.log files under %s", dir)
}

// firstOther is an address to send demo tokens to: the first validator's
// operator is as good as any.
func firstOther(info *node.DevnetInfo) string {
	kr, err := keystore.Open(filepath.Join(info.KeyringHome, "keyring"), keystore.BackendTest)
	if err != nil {
		return "inf1..."
	}
	i, err := kr.Get("node0")
	if err != nil {
		return "inf1..."
	}
	return i.Address.String()
}

// nodeProc is a started node process; done closes when it has exited.
type nodeProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// stopAll sends SIGTERM to every node, then SIGKILL to those still running
// after 10 seconds.
func stopAll(procs []*nodeProc) {
	for _, p := range procs {
		p.cmd.Process.Signal(syscall.SIGTERM)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
wait:
	for _, p := range procs {
		select {
		case <-p.done:
		case <-timer.C:
			for _, q := range procs {
				select {
				case <-q.done:
				default:
					q.cmd.Process.Kill()
				}
			}
			break wait
		}
	}
	for _, p := range procs {
		<-p.done
	}
}
